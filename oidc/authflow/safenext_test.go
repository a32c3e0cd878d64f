package authflow

import "testing"

func TestSafeNext(t *testing.T) {
	tests := []struct {
		next, want string
	}{
		{"/account", "/account"},
		{"/account/security?x=1", "/account/security?x=1"},
		{"/admin", "/admin"},
		{"/admin/users/42?q=abc", "/admin/users/42?q=abc"},
		{"/administrator", ""},
		{"/accounts", ""},
		{"/admin/../token", ""},
		{"//evil.example/admin", ""},
		{"https://evil.example/admin", ""},
		{"/admin\\evil", ""},
		{"/", ""},
		{"", ""},
	}
	for _, tc := range tests {
		if got := safeNext(tc.next); got != tc.want {
			t.Errorf("safeNext(%q) = %q, want %q", tc.next, got, tc.want)
		}
	}
}
