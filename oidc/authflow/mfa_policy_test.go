package authflow

import (
	"net/url"
	"testing"
	"time"
)

// TestReauthRequested: prompt=login and max_age ask the user to prove
// themselves now, which a remembered browser does not.
func TestReauthRequested(t *testing.T) {
	for _, tc := range []struct {
		name string
		form url.Values
		want bool
	}{
		{"direct sign-in", nil, false},
		{"plain request", url.Values{"prompt": {"consent"}}, false},
		{"prompt=login", url.Values{"prompt": {"consent login"}}, true},
		{"max_age", url.Values{"max_age": {"3600"}}, true},
		{"max_age=0", url.Values{"max_age": {"0"}}, true},
		{"acr_values alone", url.Values{"acr_values": {"phr"}}, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := reauthRequested(&Flow{Form: tc.form}); got != tc.want {
				t.Errorf("reauthRequested(%v) = %v, want %v", tc.form, got, tc.want)
			}
		})
	}
}

func TestRememberFor(t *testing.T) {
	for d, want := range map[time.Duration]string{
		0:                   "",
		12 * time.Hour:      "12 hours",
		24 * time.Hour:      "1 day",
		30 * 24 * time.Hour: "30 days",
		36 * time.Hour:      "2 days",
	} {
		if got := rememberFor(d); got != want {
			t.Errorf("rememberFor(%v) = %q, want %q", d, got, want)
		}
	}
}
