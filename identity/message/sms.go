package message

import (
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"net/netip"
	"net/url"
	"strings"
	"time"
)

// SMSConfig selects and configures the SMS sender; cmd fills it from the
// sms section of the configuration.
type SMSConfig struct {
	// Provider is "log" (development delivery; also when empty),
	// "webhook" or "twilio".
	Provider string

	WebhookURL    string
	WebhookSecret string

	TwilioAccountSID string
	TwilioAuthToken  string
	// TwilioFrom is an E.164 number, an alphanumeric sender ID or a
	// Messaging Service SID (MG…).
	TwilioFrom string
	// TwilioBaseURL replaces https://api.twilio.com, for tests.
	TwilioBaseURL string
}

// NewSMSSender returns the sender c selects. The log sender writes to
// logger, announced with a warning.
func NewSMSSender(c SMSConfig, logger *slog.Logger) (SMSSender, error) {
	switch c.Provider {
	case "", "log":
		if logger == nil {
			return nil, errors.New("message: development SMS delivery needs a logger")
		}
		logger.Warn("no SMS provider configured: text messages are written to the log instead of sent (development delivery)")
		return &LogSMSSender{Logger: logger}, nil
	case "webhook":
		return NewWebhookSMSSender(c.WebhookURL, c.WebhookSecret)
	case "twilio":
		return NewTwilioSMSSender(c.TwilioAccountSID, c.TwilioAuthToken, c.TwilioFrom, c.TwilioBaseURL)
	}
	return nil, fmt.Errorf("message: unknown SMS provider %q (want log, webhook or twilio)", c.Provider)
}

// DefaultHTTPTimeout bounds one request of the HTTP senders.
const DefaultHTTPTimeout = 15 * time.Second

// newHTTPClient returns the HTTP senders' client. It does not follow
// redirects: a redirected POST would turn into a GET without the body, or
// carry the signature and credentials to another host.
func newHTTPClient() *http.Client {
	return &http.Client{
		Timeout: DefaultHTTPTimeout,
		CheckRedirect: func(*http.Request, []*http.Request) error {
			return http.ErrUseLastResponse
		},
	}
}

// checkEndpoint accepts an absolute https URL, or http on a loopback host
// (tests, a local relay): codes must not cross a network in clear text.
// The error never repeats the URL, which may carry a token.
func checkEndpoint(raw string) error {
	u, err := url.Parse(raw)
	if err != nil {
		return errors.New("not a valid URL")
	}
	if u.Host == "" || (u.Scheme != "https" && u.Scheme != "http") {
		return errors.New("must be an absolute https URL")
	}
	if u.Scheme == "http" && !isLoopback(u.Hostname()) {
		return errors.New("must use https (http only on loopback hosts)")
	}
	return nil
}

func isLoopback(host string) bool {
	if strings.EqualFold(host, "localhost") {
		return true
	}
	ip, err := netip.ParseAddr(host)
	return err == nil && ip.Unmap().IsLoopback()
}

// transportError strips the URL from an *url.Error: it may carry a token,
// and last_error is no place for it.
func transportError(err error) error {
	var ue *url.Error
	if errors.As(err, &ue) {
		return ue.Err
	}
	return err
}
