package message

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"log/slog"
	"net/mail"
	"net/url"
	"strconv"
	"strings"
	"time"

	gomail "github.com/wneessen/go-mail"
)

// SMTPSender sends e-mail through an SMTP server (RFC 5321), one
// connection per message.
//
// TLS: with smtps:// the connection is TLS from the start (RFC 8314 §3.3).
// With smtp:// the sender upgrades with STARTTLS (RFC 3207) when the server
// offers it and otherwise speaks plain SMTP, unless the URL has
// credentials: then STARTTLS is required and the sender refuses to go on,
// before AUTH, over a connection without it. A certificate that does not
// verify is always an error, never a reason to fall back to plain text.
type SMTPSender struct {
	// TLSConfig replaces the default TLS settings (system roots, the
	// URL's host as server name); tests set RootCAs to trust their own
	// server. A missing ServerName is filled in with the host.
	TLSConfig *tls.Config
	// Timeout bounds one message: the connection and each command. Zero
	// means DefaultSMTPTimeout. A deadline in ctx that comes sooner wins.
	Timeout time.Duration

	host        string
	port        int
	implicitTLS bool
	username    string
	password    string
	from        *mail.Address
}

var _ EmailSender = (*SMTPSender)(nil)

// DefaultSMTPTimeout is SMTPSender's timeout when none is set.
const DefaultSMTPTimeout = 30 * time.Second

// NewSMTPSender returns a sender for smtpURL, smtp://[user:pass@]host[:port]
// (port 587, message submission, by default) or
// smtps://[user:pass@]host[:port] (port 465), sending as from, an address
// that may carry a display name ("Gatehouse <no-reply@example.com>").
// Errors never repeat the URL, which may hold a password.
func NewSMTPSender(smtpURL, from string) (*SMTPSender, error) {
	s, err := parseSMTPURL(smtpURL)
	if err != nil {
		return nil, err
	}
	if s.from, err = mail.ParseAddress(from); err != nil {
		return nil, fmt.Errorf("message: from address: %w", err)
	}
	return s, nil
}

func parseSMTPURL(raw string) (*SMTPSender, error) {
	u, err := url.Parse(raw)
	if err != nil {
		return nil, errors.New("message: smtp URL is not a valid URL")
	}
	s := &SMTPSender{}
	switch u.Scheme {
	case "smtp":
		s.port = 587
	case "smtps":
		s.port, s.implicitTLS = 465, true
	default:
		return nil, errors.New("message: smtp URL must start with smtp:// or smtps://")
	}
	if u.Opaque != "" || u.Hostname() == "" {
		return nil, errors.New("message: smtp URL needs a host")
	}
	if (u.Path != "" && u.Path != "/") || u.RawQuery != "" || u.Fragment != "" {
		return nil, errors.New("message: smtp URL takes no path, query or fragment")
	}
	s.host = u.Hostname()
	if p := u.Port(); p != "" {
		n, err := strconv.Atoi(p)
		if err != nil || n < 1 || n > 65535 {
			return nil, errors.New("message: smtp URL has an invalid port")
		}
		s.port = n
	}
	if u.User != nil {
		s.username = u.User.Username()
		s.password, _ = u.User.Password()
	}
	if s.username == "" && s.password != "" {
		return nil, errors.New("message: smtp URL has a password but no user name")
	}
	return s, nil
}

// SendEmail implements EmailSender.
func (s *SMTPSender) SendEmail(ctx context.Context, to, subject, text, html string) error {
	timeout := s.Timeout
	if timeout <= 0 {
		timeout = DefaultSMTPTimeout
	}
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	if dl, ok := ctx.Deadline(); ok {
		timeout = time.Until(dl)
	}
	if timeout <= 0 {
		return fmt.Errorf("message: smtp: %w", context.DeadlineExceeded)
	}

	msg, err := s.newMsg(ctx, to, subject, text, html)
	if err != nil {
		return err
	}
	client, err := gomail.NewClient(s.host, s.options(timeout)...)
	if err != nil {
		return fmt.Errorf("message: smtp client: %w", err)
	}
	if err := client.DialAndSendWithContext(ctx, msg); err != nil {
		return classifySMTPError(err)
	}
	return nil
}

func (s *SMTPSender) newMsg(ctx context.Context, to, subject, text, html string) (*gomail.Msg, error) {
	msg := gomail.NewMsg(gomail.WithNoDefaultUserAgent())
	msg.FromMailAddress(s.from)
	if err := msg.To(to); err != nil {
		return nil, fmt.Errorf("message: smtp: recipient is not a valid address: %w", ErrUndeliverable)
	}
	msg.Subject(subject)
	// RFC 3834 §5: an automatic message; auto-responders stay quiet.
	msg.SetGenHeader("Auto-Submitted", "auto-generated")
	if id := messageIDFrom(ctx); id != "" {
		// The queue row's id: a bounce or a server log line leads to it.
		_, domain, _ := strings.Cut(s.from.Address, "@")
		msg.SetMessageIDWithValue(id + "@" + domain)
	}
	msg.SetBodyString(gomail.TypeTextPlain, text)
	msg.AddAlternativeString(gomail.TypeTextHTML, html)
	return msg, nil
}

func (s *SMTPSender) options(timeout time.Duration) []gomail.Option {
	tc := &tls.Config{ServerName: s.host, MinVersion: tls.VersionTLS12}
	if s.TLSConfig != nil {
		tc = s.TLSConfig.Clone()
		if tc.ServerName == "" {
			tc.ServerName = s.host
		}
	}
	opts := []gomail.Option{
		gomail.WithPort(s.port),
		gomail.WithTimeout(timeout),
		gomail.WithTLSConfig(tc),
	}
	switch {
	case s.implicitTLS:
		opts = append(opts, gomail.WithSSL())
	case s.username != "":
		// Credentials never cross a connection without TLS: go-mail
		// stops after EHLO when STARTTLS is missing or fails.
		opts = append(opts, gomail.WithTLSPolicy(gomail.TLSMandatory))
	default:
		opts = append(opts, gomail.WithTLSPolicy(gomail.TLSOpportunistic))
	}
	if s.username != "" {
		opts = append(opts,
			gomail.WithSMTPAuth(gomail.SMTPAuthAutoDiscover),
			gomail.WithUsername(s.username),
			gomail.WithPassword(s.password))
	}
	return opts
}

// classifySMTPError marks a permanent (5xx) rejection of the recipient as
// undeliverable; everything else may pass and is retried.
func classifySMTPError(err error) error {
	var se *gomail.SendError
	if errors.As(err, &se) && se.Reason == gomail.ErrSMTPRcptTo && !se.IsTemp() && se.ErrorCode() >= 500 {
		return fmt.Errorf("message: smtp: %v: %w", err, ErrUndeliverable)
	}
	return fmt.Errorf("message: smtp: %w", err)
}

// NewEmailSender returns the e-mail sender for the configuration: an
// SMTPSender for smtpURL, or, when smtpURL is empty, a LogEmailSender
// on logger (development delivery, announced with a warning).
func NewEmailSender(smtpURL, from string, logger *slog.Logger) (EmailSender, error) {
	if smtpURL == "" {
		if logger == nil {
			return nil, errors.New("message: development e-mail delivery needs a logger")
		}
		logger.Warn("no SMTP server configured: e-mails are written to the log instead of sent (development delivery)")
		return &LogEmailSender{Logger: logger}, nil
	}
	return NewSMTPSender(smtpURL, from)
}
