package main

import (
	"net/http"
	"net/url"
	"strings"
	"testing"
)

// TestHardening covers the checklist items not tested elsewhere: a new
// session ID at every login (no fixation), post-login redirects only to
// our own account pages (no open redirect), and the request body limit.
func TestHardening(t *testing.T) {
	t.Parallel()
	srv := startServer(t, "sqlite", nil)
	srv.createUser(t, "rosa", testUserPassword)
	u, _ := url.Parse(srv.URL)

	t.Run("new session id at every login", func(t *testing.T) {
		b := newBrowser(t, rpCallback)
		sessionCookie := func() string {
			for _, c := range b.Jar.Cookies(u) {
				if c.Name == "gatehouse_session" {
					return c.Value
				}
			}
			return ""
		}
		p, _ := b.get(t, srv.URL+"/login")
		b.submit(t, p, "login-submit", map[string]string{"login": "rosa", "password": testUserPassword})
		first := sessionCookie()
		p, _ = b.get(t, srv.URL+"/login")
		b.submit(t, p, "login-submit", map[string]string{"login": "rosa", "password": testUserPassword})
		second := sessionCookie()
		if first == "" || second == "" || first == second {
			t.Fatalf("session cookie before/after a second login: %q / %q, want two different values", first, second)
		}
		// The old session is gone server-side, not only replaced in the jar.
		old := newBrowser(t, rpCallback)
		old.Jar.SetCookies(u, []*http.Cookie{{Name: "gatehouse_session", Value: first, Path: "/"}})
		if home, _ := old.get(t, srv.URL+"/"); strings.Contains(home.Body, "Signed in as") {
			t.Error("the session from before the second login still works")
		}
	})

	t.Run("no open redirect after login", func(t *testing.T) {
		for _, next := range []string{"https://evil.example/", "//evil.example/account", "/account/../../evil", "/\\evil.example"} {
			b := newBrowser(t, rpCallback)
			p, _ := b.get(t, srv.URL+"/login?next="+url.QueryEscape(next))
			got, _ := b.submit(t, p, "login-submit", map[string]string{"login": "rosa", "password": testUserPassword})
			if got.URL.Host != u.Host || strings.Contains(got.URL.String(), "evil") {
				t.Errorf("next=%q led to %s", next, got.URL)
			}
		}
		b := newBrowser(t, rpCallback)
		p, _ := b.get(t, srv.URL+"/login?next="+url.QueryEscape("/account?section=password"))
		if got, _ := b.submit(t, p, "login-submit", map[string]string{"login": "rosa", "password": testUserPassword}); got.URL.Path != "/account" {
			t.Errorf("next=/account... led to %s", got.URL)
		}
	})

	t.Run("request body limit", func(t *testing.T) {
		big := strings.Repeat("a", 2<<20)
		got := postForm(t, srv.URL+"/oauth2/token", "grant_type=client_credentials&pad="+big, "x", "y")
		if got.Status != http.StatusRequestEntityTooLarge || got.JSON["error"] == nil {
			t.Errorf("a 2 MiB token request answered %d %.100s, want 413 JSON", got.Status, got.Body)
		}
	})
}
