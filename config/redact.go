package config

import (
	"fmt"
	"log/slog"
	"net/url"
	"reflect"
	"slices"
	"strings"
)

// redacted replaces a secret's value wherever a Config is shown.
const redacted = "[redacted]"

// Redacted returns a copy of c that is safe to print or log: every secret
// that is set (master_key, registration.initial_access_token,
// sms.webhook_secret, sms.twilio_auth_token, captcha.secret_key) reads
// "[redacted]", and a password in database.url, email.smtp_url,
// sms.webhook_url or redis.url is masked.
func (c Config) Redacted() Config {
	r := c
	r.HTTP.TrustedProxies = slices.Clone(c.HTTP.TrustedProxies)
	for _, f := range fields(&r) {
		if f.secret && f.value.String() != "" {
			f.value.SetString(redacted)
		}
	}
	r.Database.URL = redactURL(r.Database.URL)
	r.Email.SMTPURL = redactURL(r.Email.SMTPURL)
	r.SMS.WebhookURL = redactURL(r.SMS.WebhookURL)
	r.Redis.URL = redactURL(r.Redis.URL)
	return r
}

// redactURL masks the password of a URL (a PostgreSQL, SMTP or webhook
// or Redis URL), whether in the user information or in a password query parameter.
func redactURL(s string) string {
	if s == "" || strings.HasPrefix(s, "sqlite:") {
		return s
	}
	u, err := url.Parse(s)
	if err != nil {
		return redacted // cannot tell where a password would be
	}
	if q := u.Query(); q.Has("password") {
		q.Set("password", "xxxxx")
		u.RawQuery = q.Encode()
	}
	return u.Redacted()
}

// plainConfig has Config's fields and none of its methods, so fmt prints
// the fields instead of calling Format again.
type plainConfig Config

// Format prints the redacted configuration with any verb, so neither %v
// nor %+v nor %#v nor %s can show a secret.
func (c Config) Format(f fmt.State, verb rune) {
	fmt.Fprintf(f, fmt.FormatString(f, verb), plainConfig(c.Redacted()))
}

// String returns the redacted configuration with field names.
func (c Config) String() string {
	return fmt.Sprintf("%+v", c)
}

// LogValue logs the redacted configuration as groups named like the YAML
// keys, so the logged config reads like the file.
func (c Config) LogValue() slog.Value {
	r := c.Redacted()
	return groupValue(reflect.ValueOf(r))
}

func groupValue(v reflect.Value) slog.Value {
	t := v.Type()
	var attrs []slog.Attr
	for i := range t.NumField() {
		sf := t.Field(i)
		name, _, _ := strings.Cut(sf.Tag.Get("yaml"), ",")
		if !sf.IsExported() || name == "" || name == "-" {
			continue
		}
		fv := v.Field(i)
		if sf.Type.Kind() == reflect.Struct {
			attrs = append(attrs, slog.Attr{Key: name, Value: groupValue(fv)})
			continue
		}
		attrs = append(attrs, slog.Any(name, fv.Interface()))
	}
	return slog.GroupValue(attrs...)
}

// plainRegistration has Registration's fields and none of its methods.
type plainRegistration Registration

// Format prints the section with the initial access token redacted, for
// code that prints the section on its own.
func (r Registration) Format(f fmt.State, verb rune) {
	if r.InitialAccessToken != "" {
		r.InitialAccessToken = redacted
	}
	fmt.Fprintf(f, fmt.FormatString(f, verb), plainRegistration(r))
}

// plainEmail has Email's fields and none of its methods.
type plainEmail Email

// Format prints the section with the SMTP password masked.
func (e Email) Format(f fmt.State, verb rune) {
	e.SMTPURL = redactURL(e.SMTPURL)
	fmt.Fprintf(f, fmt.FormatString(f, verb), plainEmail(e))
}

// plainSMS has SMS's fields and none of its methods.
type plainSMS SMS

// Format prints the section with its secrets redacted.
func (s SMS) Format(f fmt.State, verb rune) {
	if s.WebhookSecret != "" {
		s.WebhookSecret = redacted
	}
	if s.TwilioAuthToken != "" {
		s.TwilioAuthToken = redacted
	}
	s.WebhookURL = redactURL(s.WebhookURL)
	fmt.Fprintf(f, fmt.FormatString(f, verb), plainSMS(s))
}
