package mfa_test

import (
	"testing"
	"time"

	"gatehouse/identity/mfa"
)

func TestPolicyRequires(t *testing.T) {
	for _, tc := range []struct {
		name   string
		policy mfa.Policy
		roles  []string
		client string
		want   bool
	}{
		{"nothing configured", mfa.Policy{}, []string{"admin"}, "app", false},
		{"everyone", mfa.Policy{Everyone: true}, nil, "", true},
		{"a role the user holds", mfa.Policy{Roles: []string{"admin"}}, []string{"staff", "admin"}, "app", true},
		{"a role the user lacks", mfa.Policy{Roles: []string{"admin"}}, []string{"staff"}, "app", false},
		{"a role configured nobody holds", mfa.Policy{Roles: []string{"no-such-role"}}, nil, "app", false},
		{"the client", mfa.Policy{Clients: []string{"payroll"}}, nil, "payroll", true},
		{"another client", mfa.Policy{Clients: []string{"payroll"}}, nil, "app", false},
		{"no client (the account area)", mfa.Policy{Clients: []string{"payroll"}}, nil, "", false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := tc.policy.Requires(tc.roles, tc.client); got != tc.want {
				t.Errorf("Requires(%q, %q) = %v, want %v", tc.roles, tc.client, got, tc.want)
			}
		})
	}
}

func TestPolicyGrace(t *testing.T) {
	begun := time.Date(2031, 1, 1, 12, 0, 0, 0, time.UTC)
	week := mfa.Policy{Everyone: true, GracePeriod: 7 * 24 * time.Hour}
	for _, tc := range []struct {
		name    string
		policy  mfa.Policy
		now     time.Time
		inGrace bool
		days    int
	}{
		{"no grace period", mfa.Policy{Everyone: true}, begun, false, 0},
		{"first sign-in", week, begun, true, 7},
		{"half a day in", week, begun.Add(12 * time.Hour), true, 7},
		{"a day in", week, begun.Add(24 * time.Hour), true, 6},
		{"last second", week, begun.Add(7*24*time.Hour - time.Second), true, 1},
		{"over", week, begun.Add(7 * 24 * time.Hour), false, 0},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := tc.policy.InGrace(begun, tc.now); got != tc.inGrace {
				t.Errorf("InGrace = %v, want %v", got, tc.inGrace)
			}
			if got := tc.policy.DaysLeft(begun, tc.now); got != tc.days {
				t.Errorf("DaysLeft = %d, want %d", got, tc.days)
			}
		})
	}
}

func TestBrowserLabel(t *testing.T) {
	for ua, want := range map[string]string{
		"Mozilla/5.0 (X11; Linux x86_64; rv:128.0) Gecko/20100101 Firefox/128.0":                                                                  "Firefox on Linux",
		"Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/126.0 Safari/537.36 Edg/126.0":                   "Edge on Windows",
		"Mozilla/5.0 (iPhone; CPU iPhone OS 17_5 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.5 Mobile/15E148 Safari/604.1": "Safari on iOS",
		"Go-http-client/1.1": "Unknown browser",
		"":                   "Unknown browser",
	} {
		if got := mfa.BrowserLabel(ua); got != want {
			t.Errorf("BrowserLabel(%q) = %q, want %q", ua, got, want)
		}
	}
}
