package mfapages

import (
	"testing"
	"time"

	"gatehouse/oidc"
)

// TestFreshSecondFactor: only a session signed in with a second factor
// ("mfa" in its amr) within the last five minutes may change factors.
func TestFreshSecondFactor(t *testing.T) {
	now := time.Date(2031, 5, 6, 7, 8, 0, 0, time.UTC)
	h := &Handler{Now: func() time.Time { return now }}
	cases := []struct {
		name string
		amr  []string
		ago  time.Duration
		want bool
	}{
		{"code just now", []string{"pwd", "otp", "mfa"}, 0, true},
		{"recovery code 5 minutes ago", []string{"pwd", "mfa"}, 5 * time.Minute, true},
		{"code 5 minutes and a second ago", []string{"pwd", "otp", "mfa"}, 5*time.Minute + time.Second, false},
		{"password only, just now", []string{"pwd"}, 0, false},
		{"no amr", nil, 0, false},
	}
	for _, c := range cases {
		bs := &oidc.BrowserSession{AMR: c.amr, AuthTime: now.Add(-c.ago)}
		if got := h.freshSecondFactor(bs); got != c.want {
			t.Errorf("%s: fresh = %v, want %v", c.name, got, c.want)
		}
	}
}
