package audit

import (
	"errors"
	"fmt"
	"maps"
	"slices"
	"strings"
)

// Details is a small map of facts about an event, such as
// {"reason": "bad_password"} or {"client_id": "…", "scopes": "openid email"}.
//
// Details must never hold secrets. A key is treated as secret when one of its
// lower-cased words (split at '_', '-', '.' and ' ') is password, passwd,
// secret, token, code, otp, pin, cookie or key. Log.Record strips such keys and lists their names under
// "redacted"; a Store refuses them with ErrSecretDetail. Name innocent facts
// accordingly: "jti" or "kind" rather than "token_id" or "token_type",
// "reason" rather than "error_code".
type Details map[string]string

// ErrSecretDetail reports a Details key that looks like it holds a secret.
var ErrSecretDetail = errors.New("audit: details key looks secret")

// RedactedKey is the Details key under which Log.Record lists stripped keys.
const RedactedKey = "redacted"

var secretWords = map[string]bool{
	"password": true, "passwd": true, "secret": true, "token": true,
	"code": true, "otp": true, "pin": true, "cookie": true, "key": true,
}

// IsSecretKey reports whether a Details key names something secret.
func IsSecretKey(k string) bool {
	words := strings.FieldsFunc(strings.ToLower(k), func(r rune) bool {
		return r == '_' || r == '-' || r == '.' || r == ' '
	})
	for _, w := range words {
		if secretWords[w] {
			return true
		}
	}
	return false
}

// Secrets returns the sorted keys of d that look secret.
func (d Details) Secrets() []string {
	var out []string
	for k := range d {
		if IsSecretKey(k) {
			out = append(out, k)
		}
	}
	slices.Sort(out)
	return out
}

// Check returns ErrSecretDetail naming the first secret-looking key.
func (d Details) Check() error {
	if s := d.Secrets(); len(s) > 0 {
		return fmt.Errorf("%w: %q", ErrSecretDetail, s[0])
	}
	return nil
}

// Clean returns a copy of d without secret-looking keys; when it removed
// any, their names are listed, comma-separated, under RedactedKey. An empty
// result is nil.
func (d Details) Clean() Details {
	if len(d) == 0 {
		return nil
	}
	secrets := d.Secrets()
	out := maps.Clone(d)
	for _, k := range secrets {
		delete(out, k)
	}
	if len(secrets) > 0 {
		out[RedactedKey] = strings.Join(secrets, ",")
	}
	return out
}
