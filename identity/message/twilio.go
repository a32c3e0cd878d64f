package message

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"unicode/utf8"
)

// DefaultTwilioBaseURL is Twilio's REST API.
const DefaultTwilioBaseURL = "https://api.twilio.com"

var (
	twilioAccountSID = regexp.MustCompile(`^AC[0-9a-fA-F]{32}$`)
	twilioServiceSID = regexp.MustCompile(`^MG[0-9a-fA-F]{32}$`)
)

// TwilioSMSSender sends text messages through Twilio's Messages API:
// POST {BaseURL}/2010-04-01/Accounts/{AccountSID}/Messages.json, form
// fields To, Body and From (or MessagingServiceSid when From is a
// Messaging Service SID), HTTP Basic authentication with the account SID
// and auth token. A 400 answer (an invalid or blocked number) is
// ErrUndeliverable; other failures are retried.
type TwilioSMSSender struct {
	AccountSID string
	AuthToken  string
	From       string
	BaseURL    string       // "": DefaultTwilioBaseURL
	Client     *http.Client // nil: a client with DefaultHTTPTimeout that follows no redirects
}

var _ SMSSender = (*TwilioSMSSender)(nil)

// NewTwilioSMSSender returns a Twilio sender. baseURL "" is the real API.
func NewTwilioSMSSender(accountSID, authToken, from, baseURL string) (*TwilioSMSSender, error) {
	if !twilioAccountSID.MatchString(accountSID) {
		return nil, errors.New("message: twilio account SID must be AC followed by 32 hex digits")
	}
	if authToken == "" {
		return nil, errors.New("message: twilio auth token is required")
	}
	if from == "" {
		return nil, errors.New("message: twilio from is required")
	}
	if baseURL == "" {
		baseURL = DefaultTwilioBaseURL
	}
	if err := checkEndpoint(baseURL); err != nil {
		return nil, fmt.Errorf("message: twilio base URL: %w", err)
	}
	return &TwilioSMSSender{AccountSID: accountSID, AuthToken: authToken, From: from,
		BaseURL: baseURL, Client: newHTTPClient()}, nil
}

// twilioError is the body of a Twilio error answer.
type twilioError struct {
	Code    int    `json:"code"`
	Message string `json:"message"`
}

// SendSMS implements SMSSender.
func (s *TwilioSMSSender) SendSMS(ctx context.Context, to, text string) error {
	form := url.Values{"To": {to}, "Body": {text}}
	if twilioServiceSID.MatchString(s.From) {
		form.Set("MessagingServiceSid", s.From)
	} else {
		form.Set("From", s.From)
	}
	base := s.BaseURL
	if base == "" {
		base = DefaultTwilioBaseURL
	}
	endpoint := strings.TrimRight(base, "/") + "/2010-04-01/Accounts/" + url.PathEscape(s.AccountSID) + "/Messages.json"

	ctx, cancel := context.WithTimeout(ctx, DefaultHTTPTimeout)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, endpoint, strings.NewReader(form.Encode()))
	if err != nil {
		return errors.New("message: twilio: cannot build request")
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("Accept", "application/json")
	req.Header.Set("User-Agent", "Gatehouse")
	req.SetBasicAuth(s.AccountSID, s.AuthToken)

	client := s.Client
	if client == nil {
		client = newHTTPClient()
	}
	resp, err := client.Do(req)
	if err != nil {
		return fmt.Errorf("message: twilio: %w", transportError(err))
	}
	defer resp.Body.Close()
	data, _ := io.ReadAll(io.LimitReader(resp.Body, 64<<10))
	if resp.StatusCode >= 200 && resp.StatusCode <= 299 {
		return nil
	}
	err = fmt.Errorf("message: twilio: status %d", resp.StatusCode)
	var te twilioError
	if json.Unmarshal(data, &te) == nil && te.Code != 0 {
		// Twilio's messages name the problem (e.g. "Invalid 'To' Phone
		// Number"), not the message body.
		err = fmt.Errorf("%w, error %d: %s", err, te.Code, truncate(te.Message, 120))
	}
	if resp.StatusCode == http.StatusBadRequest {
		return fmt.Errorf("%w: %w", err, ErrUndeliverable)
	}
	return err
}

func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	for n > 0 && !utf8.RuneStart(s[n]) {
		n--
	}
	return s[:n] + "…"
}
