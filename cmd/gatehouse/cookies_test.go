package main

import (
	"net/http"
	"net/url"
	"strings"
	"sync"
	"testing"

	"golang.org/x/oauth2"

	"gatehouse/config"
)

// cookieRecorder keeps every cookie the server sets.
type cookieRecorder struct {
	next http.RoundTripper
	mu   sync.Mutex
	set  []*http.Cookie
}

func (r *cookieRecorder) RoundTrip(req *http.Request) (*http.Response, error) {
	resp, err := r.next.RoundTrip(req)
	if err == nil {
		r.mu.Lock()
		r.set = append(r.set, resp.Cookies()...)
		r.mu.Unlock()
	}
	return resp, err
}

// TestHostPrefixCookies: with an https issuer every cookie Gatehouse sets
// (session, flow, CSRF) carries the __Host- prefix with what the prefix
// requires (Secure, Path=/, no Domain), so that no sibling host can plant
// or overwrite it; with an http issuer the names stay plain.
func TestHostPrefixCookies(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		scheme string
		prefix string
	}{{"https", "__Host-"}, {"http", ""}} {
		t.Run(tc.scheme, func(t *testing.T) {
			srv := startServer(t, "sqlite", func(c *config.Config) { c.Issuer = tc.scheme + "://" + c.Listen })
			srv.createUser(t, "hana", testUserPassword)
			id, _ := srv.createClient(t, "--name", "Cookies", "--redirect-uri", rpCallback)
			b := newBrowser(t, rpCallback)
			if tc.scheme == "https" {
				b = newTLSBrowser(t, rpCallback)
			}
			rec := &cookieRecorder{next: b.Transport}
			if rec.next == nil {
				rec.next = http.DefaultTransport
			}
			b.Transport = rec

			rp := &oauth2.Config{ClientID: id, RedirectURL: rpCallback, Endpoint: oauth2.Endpoint{AuthURL: srv.URL + "/oauth2/authorize"}, Scopes: []string{"openid"}}
			signIn(t, b, rp.AuthCodeURL("state-0123456789", oauth2.S256ChallengeOption(oauth2.GenerateVerifier())), "hana", true)
			p, _ := b.get(t, srv.URL+"/oauth2/logout")
			b.submit(t, p, "logout-submit", nil)

			seen := map[string]bool{}
			for _, c := range rec.set {
				seen[c.Name] = true
				if !strings.HasPrefix(c.Name, tc.prefix) || (tc.prefix == "" && strings.HasPrefix(c.Name, "__")) {
					t.Errorf("cookie %q set without the expected prefix %q", c.Name, tc.prefix)
				}
				if tc.scheme == "https" && (!c.Secure || c.Path != "/" || c.Domain != "") {
					t.Errorf("cookie %s: Secure=%v Path=%q Domain=%q, __Host- needs Secure, Path=/ and no Domain", c.Name, c.Secure, c.Path, c.Domain)
				}
				if !c.HttpOnly || c.SameSite != http.SameSiteLaxMode {
					t.Errorf("cookie %s: HttpOnly=%v SameSite=%v, want HttpOnly and Lax", c.Name, c.HttpOnly, c.SameSite)
				}
			}
			for _, name := range []string{"gatehouse_session", "gatehouse_flow", "gatehouse_csrf"} {
				if !seen[tc.prefix+name] {
					t.Errorf("no %s%s cookie set during sign-in and sign-out; saw %v", tc.prefix, name, seen)
				}
			}
		})
	}
}

// TestCSRFRotation: the CSRF token changes at sign-in and at sign-out, so
// a token captured before either is refused after it.
func TestCSRFRotation(t *testing.T) {
	t.Parallel()
	srv := startServer(t, "sqlite", nil)
	srv.createUser(t, "ivo", testUserPassword)
	b := newBrowser(t, rpCallback)
	post := func(path, token string) int {
		t.Helper()
		resp, err := b.PostForm(srv.URL+path, url.Values{"csrf": {token}})
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		return resp.StatusCode
	}

	p, _ := b.get(t, srv.URL+"/login")
	beforeLogin := csrfFromPage(t, p)
	if got, _ := b.submit(t, p, "login-submit", map[string]string{"login": "ivo", "password": testUserPassword}); got.URL.Path != "/" && got.URL.Path != "/account" {
		t.Fatalf("sign-in led to %s (%d)", got.URL, got.Status)
	}
	if got := post("/account/sessions/revoke-others", beforeLogin); got != http.StatusForbidden {
		t.Errorf("token from before sign-in: got %d, want 403", got)
	}
	p, _ = b.get(t, srv.URL+"/account")
	signedIn := csrfFromPage(t, p)
	if signedIn == beforeLogin {
		t.Fatal("the CSRF token did not change at sign-in")
	}
	if got := post("/account/sessions/revoke-others", signedIn); got != http.StatusOK {
		t.Errorf("current token: got %d, want 200 after the redirect", got)
	}

	p, _ = b.get(t, srv.URL+"/oauth2/logout")
	b.submit(t, p, "logout-submit", nil)
	if got := post("/login", signedIn); got != http.StatusForbidden {
		t.Errorf("token from before sign-out: got %d, want 403", got)
	}
	p, _ = b.get(t, srv.URL+"/login")
	if after := csrfFromPage(t, p); after == signedIn {
		t.Error("the CSRF token did not change at sign-out")
	}
}
