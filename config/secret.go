package config

import (
	"encoding/json"
	"fmt"
	"log/slog"
	"net/url"
	"strings"
)

// Secret is a configuration value that must not be shown: a key, a token,
// or a URL that may hold a password. However it is printed (String,
// GoString, any fmt verb), logged (slog) or encoded as JSON it reads as
// its redacted form; the code that uses it calls Reveal. YAML and the
// environment load it like any string.
//
// The redacted form of a URL (anything with "://", and sqlite:PATH) is the
// URL with its password masked, so that logs still say which database or
// server is meant; anything else set reads "[redacted]". A secret that is
// a URL must therefore keep the secret part in the password (the user
// information or a password query parameter).
type Secret string

// redacted replaces a secret's value wherever it is shown.
const redacted = "[redacted]"

// Reveal returns the secret itself, for the code that needs it.
func (s Secret) Reveal() string { return string(s) }

// Redacted returns the form of s that may be shown: empty when s is.
func (s Secret) Redacted() string {
	v := string(s)
	switch {
	case v == "":
		return ""
	case strings.HasPrefix(v, "sqlite:"), strings.Contains(v, "://"):
		return redactURL(v)
	}
	return redacted
}

// String returns the redacted form.
func (s Secret) String() string { return s.Redacted() }

// GoString returns the redacted form, quoted, for %#v.
func (s Secret) GoString() string { return fmt.Sprintf("%q", s.Redacted()) }

// Format prints the redacted form with any verb and flags, so that no
// verb (%x included) can show the value.
func (s Secret) Format(f fmt.State, verb rune) {
	if verb == 'v' && f.Flag('#') {
		fmt.Fprint(f, s.GoString())
		return
	}
	fmt.Fprintf(f, fmt.FormatString(f, verb), s.Redacted())
}

// LogValue logs the redacted form.
func (s Secret) LogValue() slog.Value { return slog.StringValue(s.Redacted()) }

// MarshalJSON encodes the redacted form: slog's JSON handler and anything
// else that encodes a section of the configuration as JSON.
func (s Secret) MarshalJSON() ([]byte, error) { return json.Marshal(s.Redacted()) }

// redactURL masks the password of a URL (a PostgreSQL, SMTP, webhook or
// Redis URL), whether in the user information or in a password query
// parameter.
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
