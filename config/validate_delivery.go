package config

import (
	"errors"
	"net/mail"
	"net/url"
	"regexp"
	"strconv"
	"time"
	"unicode/utf8"

	"github.com/nyaruka/phonenumbers"
)

// minWebhookSecret matches identity/message's NewWebhookSMSSender.
const minWebhookSecret = 32

var (
	twilioAccountSID = regexp.MustCompile(`^AC[0-9a-fA-F]{32}$`)
	// A Twilio sender: an E.164 number, a Messaging Service SID, or an
	// alphanumeric sender ID (at most 11 letters, digits and spaces, at
	// least one letter).
	e164Number       = regexp.MustCompile(`^\+[1-9][0-9]{1,14}$`)
	twilioServiceSID = regexp.MustCompile(`^MG[0-9a-fA-F]{32}$`)
	alphanumericID   = regexp.MustCompile(`^[A-Za-z0-9 ]{1,11}$`)
	hasLetter        = regexp.MustCompile(`[A-Za-z]`)
)

func (e Email) validate(p *problems) {
	// At least the longest code or link lifetime (the 24-hour unlock
	// link), so that age never gives up on a message its code would
	// still allow.
	p.durationBetween("email.max_message_age", e.MaxMessageAge, Duration(time.Hour), Duration(720*time.Hour))
	if e.SMTPURL != "" {
		if err := checkSMTPURL(e.SMTPURL.Reveal()); err != nil {
			p.add("email.smtp_url", "%v", err)
		}
		if e.From == "" {
			p.add("email.from", "required when email.smtp_url is set")
		}
	}
	if e.From != "" {
		if _, err := mail.ParseAddress(e.From); err != nil {
			p.add("email.from", `must be an address such as no-reply@example.com or "Gatehouse <no-reply@example.com>", got %q`, e.From)
		}
	}
}

// checkSMTPURL applies identity/message's rules for the SMTP URL. It never
// repeats the URL, which may hold a password.
func checkSMTPURL(s string) error {
	u, err := url.Parse(s)
	if err != nil {
		return errors.New("not a valid URL")
	}
	if u.Scheme != "smtp" && u.Scheme != "smtps" {
		return errors.New("must start with smtp:// or smtps://")
	}
	if u.Opaque != "" || u.Hostname() == "" {
		return errors.New("must include a host, such as smtp://mail.example.com:587")
	}
	if (u.Path != "" && u.Path != "/") || u.RawQuery != "" || u.Fragment != "" {
		return errors.New("must not contain a path, query or fragment")
	}
	if port := u.Port(); port != "" {
		if n, err := strconv.Atoi(port); err != nil || n < 1 || n > 65535 {
			return errors.New("has an invalid port")
		}
	}
	if u.User != nil && u.User.Username() == "" {
		return errors.New("has a password but no user name")
	}
	return nil
}

func (s SMS) validate(p *problems) {
	p.oneOf("sms.provider", s.Provider, "log", "webhook", "twilio")
	switch s.Provider {
	case "webhook":
		if s.WebhookURL == "" {
			p.add("sms.webhook_url", "required when sms.provider is webhook")
		} else if err := checkEndpoint(s.WebhookURL.Reveal()); err != nil {
			p.add("sms.webhook_url", "%v", err)
		}
		switch n := utf8.RuneCountInString(s.WebhookSecret.Reveal()); {
		case n == 0:
			p.add("sms.webhook_secret", "required when sms.provider is webhook")
		case n < minWebhookSecret:
			p.add("sms.webhook_secret", "must be at least %d characters", minWebhookSecret)
		}
	case "twilio":
		switch {
		case s.TwilioAccountSID == "":
			p.add("sms.twilio_account_sid", "required when sms.provider is twilio")
		case !twilioAccountSID.MatchString(s.TwilioAccountSID):
			p.add("sms.twilio_account_sid", "must be AC followed by 32 hexadecimal digits, got %q", s.TwilioAccountSID)
		}
		if s.TwilioAuthToken == "" {
			p.add("sms.twilio_auth_token", "required when sms.provider is twilio")
		}
		switch f := s.TwilioFrom; {
		case f == "":
			p.add("sms.twilio_from", "required when sms.provider is twilio")
		case !e164Number.MatchString(f) && !twilioServiceSID.MatchString(f) && !(alphanumericID.MatchString(f) && hasLetter.MatchString(f)):
			p.add("sms.twilio_from", "must be an E.164 number such as +15005550006, an alphanumeric sender ID "+
				"of at most 11 characters or a Messaging Service SID (MG…), got %q", f)
		}
	}
	if s.TwilioBaseURL != "" {
		if err := checkEndpoint(s.TwilioBaseURL); err != nil {
			p.add("sms.twilio_base_url", "%v", err)
		}
	}
	if !phonenumbers.GetSupportedRegions()[s.DefaultRegion] {
		p.add("sms.default_region", "must be an ISO 3166-1 alpha-2 region code with phone numbers, such as US or GB, got %q", s.DefaultRegion)
	}
}

// checkEndpoint accepts an absolute https URL, or http on a loopback host:
// one-time codes must not cross a network in clear text. It never repeats
// the URL, which may carry a token.
func checkEndpoint(s string) error {
	u, err := url.Parse(s)
	if err != nil {
		return errors.New("not a valid URL")
	}
	if u.Host == "" || (u.Scheme != "https" && u.Scheme != "http") {
		return errors.New("must be an absolute https URL")
	}
	if u.Scheme == "http" && !isLoopback(u.Hostname()) {
		return errors.New("http is only allowed on loopback hosts; use https")
	}
	return nil
}
