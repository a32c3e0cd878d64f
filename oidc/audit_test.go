package oidc

import (
	"context"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/labstack/echo/v4"

	"gatehouse/identity/audit"
)

// TestAuditRequest: an event reported below the handler through a hook
// gets the request's address, user agent and request ID from the context.
func TestAuditRequest(t *testing.T) {
	req := httptest.NewRequest("POST", "/login", nil)
	req.RemoteAddr = "192.0.2.7:4242"
	req.Header.Set("User-Agent", "guesser/1.0")
	rec := httptest.NewRecorder()
	rec.Header().Set(echo.HeaderXRequestID, "req-1")
	c := echo.New().NewContext(req, rec)
	e := audit.Entry{Action: audit.ActionLoginFailed, Subject: "u1"}

	got := AuditRequest(WithAuditRequest(context.Background(), c), e)
	want := audit.Entry{Action: audit.ActionLoginFailed, Subject: "u1", IP: "192.0.2.7", UserAgent: "guesser/1.0", RequestID: "req-1"}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("AuditRequest mismatch (-want +got):\n%s", diff)
	}
	if diff := cmp.Diff(e, AuditRequest(context.Background(), e)); diff != "" {
		t.Errorf("AuditRequest without request details mismatch (-want +got):\n%s", diff)
	}
}

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
