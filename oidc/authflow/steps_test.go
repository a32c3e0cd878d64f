package authflow

import (
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"gatehouse/identity/audit"
)

// TestLoginDetail: a failed sign-in's login name is kept in the audit
// trail only when it names an account, else only as a keyed hash.
func TestLoginDetail(t *testing.T) {
	key := []byte("0123456789abcdef0123456789abcdef")
	hashed := func(key []byte, login string) string {
		return loginDetail(key, login, false)["login_hmac"]
	}
	cases := []struct {
		name  string
		key   []byte
		login string
		known bool
		want  audit.Details
	}{
		{name: "known name kept", key: key, login: "olga", known: true, want: audit.Details{"login": "olga"}},
		{name: "known name shortened", key: key, login: strings.Repeat("x", 150), known: true, want: audit.Details{"login": strings.Repeat("x", 100)}},
		{name: "unknown name hashed", key: key, login: "hunter2secret", want: audit.Details{"login_hmac": hashed(key, "hunter2secret")}},
		{name: "unknown name without a key", key: nil, login: "hunter2secret", want: audit.Details{}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			got := loginDetail(tc.key, tc.login, tc.known)
			if diff := cmp.Diff(tc.want, got); diff != "" {
				t.Errorf("loginDetail(%q) mismatch (-want +got):\n%s", tc.login, diff)
			}
			for k, v := range got {
				if !tc.known && strings.Contains(v, tc.login) {
					t.Errorf("detail %s = %q holds the unknown name", k, v)
				}
			}
		})
	}

	h := hashed(key, "hunter2secret")
	if len(h) != 64 {
		t.Errorf("login_hmac = %q, want 64 hex digits", h)
	}
	if got := hashed(key, "  Hunter2Secret "); got != h {
		t.Errorf("the same name typed in another case hashed to %s, want %s", got, h)
	}
	if got := hashed([]byte("another key, another deployment!"), "hunter2secret"); got == h {
		t.Error("the hash does not depend on the key")
	}
	if got := hashed(key, "hunter3secret"); got == h {
		t.Error("two names hashed alike")
	}
}

// TestCovers: remembered consent covers a request only when it holds
// every requested scope.
func TestCovers(t *testing.T) {
	tests := []struct {
		name               string
		granted, requested []string
		want               bool
	}{
		{"nothing requested", nil, nil, true},
		{"nothing requested of some", []string{"openid"}, []string{}, true},
		{"same", []string{"openid", "email"}, []string{"openid", "email"}, true},
		{"subset", []string{"openid", "email", "profile"}, []string{"email", "openid"}, true},
		{"repeated request", []string{"openid"}, []string{"openid", "openid"}, true},
		{"one missing", []string{"openid", "email"}, []string{"openid", "phone"}, false},
		{"nothing granted", nil, []string{"openid"}, false},
		{"case matters", []string{"openid"}, []string{"OpenID"}, false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if got := covers(tc.granted, tc.requested); got != tc.want {
				t.Errorf("covers(%q, %q) = %v, want %v", tc.granted, tc.requested, got, tc.want)
			}
		})
	}
}
