package account

import (
	"testing"
	"time"
)

func TestDescribeAgent(t *testing.T) {
	tests := []struct{ ua, want string }{
		{"Mozilla/5.0 (X11; Linux x86_64; rv:128.0) Gecko/20100101 Firefox/128.0", "Firefox on Linux"},
		{"Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/126.0 Safari/537.36 Edg/126.0", "Edge on Windows"},
		{"Mozilla/5.0 (iPhone; CPU iPhone OS 17_5 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.5 Mobile/15E148 Safari/604.1", "Safari on iOS"},
		{"Mozilla/5.0 (Linux; Android 14) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/126.0 Mobile Safari/537.36", "Chrome on Android"},
		{"Go-http-client/1.1", "Unknown browser"},
		{"", "Unknown browser"},
	}
	for _, tc := range tests {
		if got := describeAgent(tc.ua); got != tc.want {
			t.Errorf("describeAgent(%q) = %q, want %q", tc.ua, got, tc.want)
		}
	}
}

func TestAgo(t *testing.T) {
	tests := []struct {
		d    time.Duration
		want string
	}{
		{30 * time.Second, "just now"}, {10 * time.Minute, "10 minutes ago"}, {5 * time.Hour, "5 hours ago"}, {72 * time.Hour, "3 days ago"},
	}
	for _, tc := range tests {
		if got := ago(tc.d); got != tc.want {
			t.Errorf("ago(%v) = %q, want %q", tc.d, got, tc.want)
		}
	}
}

func TestSignedInWith(t *testing.T) {
	tests := []struct {
		amr  []string
		want string
	}{
		{[]string{"pwd"}, "password"},
		{[]string{"pwd", "otp", "mfa"}, "password and authenticator app"},
		{[]string{"pwd", "mfa"}, "password and recovery code"},
		{[]string{"swk", "user", "mfa"}, "passkey"},
		{[]string{"pwd", "hwk", "mfa"}, "password and security key"},
		{[]string{"pwd", "sms", "mfa"}, "password and SMS code"},
		{[]string{"pwd", "otp", "email", "mfa"}, "password, authenticator app and e-mail code"},
		{nil, ""},
	}
	for _, tc := range tests {
		if got := signedInWith(tc.amr); got != tc.want {
			t.Errorf("signedInWith(%q) = %q, want %q", tc.amr, got, tc.want)
		}
	}
}
