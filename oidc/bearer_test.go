package oidc

import (
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/google/go-cmp/cmp"
)

func TestBearerToken(t *testing.T) {
	for _, tc := range []struct {
		name    string
		headers []string
		target  string
		want    string
		wantOK  bool
	}{
		{name: "bearer", headers: []string{"Bearer abc.def"}, want: "abc.def", wantOK: true},
		{name: "scheme in any case", headers: []string{"bEARER abc"}, want: "abc", wantOK: true},
		{name: "extra spaces", headers: []string{"Bearer   abc  "}, want: "abc", wantOK: true},
		{name: "none"},
		{name: "basic", headers: []string{"Basic YWxpY2U6c2VjcmV0"}},
		{name: "scheme only", headers: []string{"Bearer"}},
		{name: "empty token", headers: []string{"Bearer  "}},
		{name: "two tokens", headers: []string{"Bearer abc def"}},
		{name: "two headers", headers: []string{"Bearer abc", "Bearer def"}},
		// RFC 6750 §2.3 is not supported: a query token leaks into logs.
		{name: "query", target: "/api?access_token=abc"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			target := tc.target
			if target == "" {
				target = "/api"
			}
			r := httptest.NewRequest(http.MethodGet, target, nil)
			for _, h := range tc.headers {
				r.Header.Add("Authorization", h)
			}
			got, ok := BearerToken(r)
			if got != tc.want || ok != tc.wantOK {
				t.Errorf("BearerToken(%q) = %q, %v; want %q, %v", tc.headers, got, ok, tc.want, tc.wantOK)
			}
		})
	}
}

func TestBearerChallenge(t *testing.T) {
	for _, tc := range []struct {
		name                     string
		status                   int
		code, description, scope string
		wantChallenge            string
		wantBody                 map[string]string
	}{
		{
			name: "no token", status: http.StatusUnauthorized,
			wantChallenge: `Bearer realm="gatehouse"`,
		},
		{
			name: "invalid token", status: http.StatusUnauthorized, code: BearerInvalidToken, description: "The access token expired.",
			wantChallenge: `Bearer realm="gatehouse", error="invalid_token", error_description="The access token expired."`,
			wantBody:      map[string]string{"error": "invalid_token", "error_description": "The access token expired."},
		},
		{
			name: "insufficient scope", status: http.StatusForbidden, code: BearerInsufficientScope, description: "Needs users:write.", scope: "users:write",
			wantChallenge: `Bearer realm="gatehouse", error="insufficient_scope", error_description="Needs users:write.", scope="users:write"`,
			wantBody:      map[string]string{"error": "insufficient_scope", "error_description": "Needs users:write.", "scope": "users:write"},
		},
		{
			// A description cannot break out of its quoted string.
			name: "quotes dropped", status: http.StatusUnauthorized, code: BearerInvalidToken, description: "bad \"token\"\\\r\n, error=\"x\"",
			wantChallenge: `Bearer realm="gatehouse", error="invalid_token", error_description="bad token, error=x"`,
			wantBody:      map[string]string{"error": "invalid_token", "error_description": "bad \"token\"\\\r\n, error=\"x\""},
		},
	} {
		t.Run(tc.name, func(t *testing.T) {
			w := httptest.NewRecorder()
			BearerChallenge(w, tc.status, tc.code, tc.description, tc.scope)
			if w.Code != tc.status {
				t.Errorf("status = %d, want %d", w.Code, tc.status)
			}
			if got := w.Header().Get("WWW-Authenticate"); got != tc.wantChallenge {
				t.Errorf("WWW-Authenticate = %s\nwant               %s", got, tc.wantChallenge)
			}
			if got := w.Header().Get("Cache-Control"); got != "no-store" {
				t.Errorf("Cache-Control = %q, want no-store", got)
			}
			var body map[string]string
			if w.Body.Len() > 0 {
				if err := json.Unmarshal(w.Body.Bytes(), &body); err != nil {
					t.Fatalf("body %q: %v", w.Body, err)
				}
			}
			if diff := cmp.Diff(tc.wantBody, body); diff != "" {
				t.Errorf("body mismatch (-want +got):\n%s", diff)
			}
		})
	}
}
