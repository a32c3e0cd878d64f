package config

import (
	"bytes"
	"encoding/json"
	"fmt"
	"log/slog"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

// TestSecret: a Secret shows only its redacted form, however it is
// printed, logged or encoded, alone or inside a section; Reveal and YAML
// give the value.
func TestSecret(t *testing.T) {
	const token = "tok-0123456789-very-secret"
	const dbURL = "postgres://gatehouse:db-pass@db.internal/gatehouse"
	tests := []struct {
		name, value, want string
	}{
		{"token", token, "[redacted]"},
		{"URL with password", dbURL, "postgres://gatehouse:xxxxx@db.internal/gatehouse"},
		{"sqlite", "sqlite:data/gatehouse.db", "sqlite:data/gatehouse.db"},
		{"empty", "", ""},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			s := Secret(tc.value)
			if got := s.Reveal(); got != tc.value {
				t.Errorf("Reveal() = %q, want the value", got)
			}
			if diff := cmp.Diff(tc.want, s.Redacted()); diff != "" {
				t.Errorf("Redacted() mismatch (-want +got):\n%s", diff)
			}
			var logged bytes.Buffer
			log := slog.New(slog.NewJSONHandler(&logged, nil))
			log.Info("x", "secret", s, "section", Email{SMTPURL: s}, "any", any(s))
			encoded, err := json.Marshal(struct{ S Secret }{s})
			if err != nil {
				t.Fatal(err)
			}
			shown := map[string]string{
				"%v": fmt.Sprintf("%v", s), "%+v": fmt.Sprintf("%+v", s), "%#v": fmt.Sprintf("%#v", s),
				"%s": fmt.Sprintf("%s", s), "%q": fmt.Sprintf("%q", s), "%x": fmt.Sprintf("%x", s),
				"%10s": fmt.Sprintf("%10s", s), "String": s.String(), "GoString": s.GoString(),
				"section %#v": fmt.Sprintf("%#v", Email{SMTPURL: s}), "pointer %+v": fmt.Sprintf("%+v", &SMS{WebhookSecret: s}),
				"slog": logged.String(), "JSON": string(encoded),
			}
			for how, text := range shown {
				for _, secret := range []string{token, "db-pass", fmt.Sprintf("%x", "db-pass"), fmt.Sprintf("%x", token)} {
					if strings.Contains(text, secret) {
						t.Errorf("%s shows the secret: %s", how, text)
					}
				}
			}
			if tc.value != "" && !strings.Contains(shown["%v"], tc.want) {
				t.Errorf("%%v = %q, want the redacted form %q", shown["%v"], tc.want)
			}
		})
	}
}
