package main

import (
	"context"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"testing"

	gooidc "github.com/coreos/go-oidc/v3/oidc"
	"golang.org/x/oauth2"

	"gatehouse/migrations/dbtest"
)

// locationRecorder keeps every Location header the server answers with.
type locationRecorder struct {
	next http.RoundTripper
	mu   sync.Mutex
	seen []string
}

func (r *locationRecorder) RoundTrip(req *http.Request) (*http.Response, error) {
	resp, err := r.next.RoundTrip(req)
	if err == nil && resp.Header.Get("Location") != "" {
		r.mu.Lock()
		r.seen = append(r.seen, resp.Header.Get("Location"))
		r.mu.Unlock()
	}
	return resp, err
}

// TestLogoutPost: a form-encoded POST to the end-session endpoint
// (RP-Initiated Logout 1.0 §2) is handled as a POST. Its id_token_hint,
// a token holding personal data, never appears in a URL: no redirect
// carries it or any other body content, only the final redirect to the
// client carries state. The logout completes whether the browser sends
// its SameSite=Lax cookies with the cross-site POST or not.
func TestLogoutPost(t *testing.T) {
	t.Parallel()
	for _, dialect := range dbtest.Dialects {
		t.Run(dialect, func(t *testing.T) { testLogoutPost(t, dialect) })
	}
}

func testLogoutPost(t *testing.T, dialect string) {
	ctx := context.Background()
	srv := startServer(t, dialect, nil)
	srv.createUser(t, "lena", testUserPassword)
	id, secret := srv.createClient(t, "--name", "Posting App", "--redirect-uri", rpCallback, "--first-party",
		"--post-logout-redirect-uri", rpAfterLogout)
	rp := newRelyingParty(t, srv.URL, id, secret)
	b := newBrowser(t, "http://127.0.0.1:9/")
	locations := &locationRecorder{next: http.DefaultTransport}
	b.Transport = locations
	u, _ := url.Parse(srv.URL)

	signInForHint := func() string {
		t.Helper()
		verifier := oauth2.GenerateVerifier()
		_, resp := b.get(t, rp.OAuth.AuthCodeURL("state-0123456789", gooidc.Nonce("nonce-0123456789"), oauth2.S256ChallengeOption(verifier)))
		q := callbackQuery(t, resp)
		if q.Get("code") == "" {
			p, _ := b.get(t, srv.URL+"/login")
			b.submit(t, p, "login-submit", map[string]string{"login": "lena", "password": testUserPassword})
			_, resp = b.get(t, rp.OAuth.AuthCodeURL("state-0123456789", gooidc.Nonce("nonce-0123456789"), oauth2.S256ChallengeOption(verifier)))
			q = callbackQuery(t, resp)
		}
		tok, err := rp.OAuth.Exchange(ctx, q.Get("code"), oauth2.VerifierOption(verifier))
		if err != nil {
			t.Fatal(err)
		}
		hint, _ := tok.Extra("id_token").(string)
		return hint
	}
	signedIn := func() bool {
		home, _ := b.get(t, srv.URL+"/")
		return strings.Contains(home.Body, "Signed in as")
	}
	logoutForm := func(hint, state string) url.Values {
		return url.Values{"id_token_hint": {hint}, "post_logout_redirect_uri": {rpAfterLogout}, "state": {state}}
	}
	checkLocations := func(hint string) {
		t.Helper()
		for _, loc := range locations.seen {
			if strings.Contains(loc, "id_token_hint") || strings.Contains(loc, hint) || strings.Contains(loc, hint[:20]) {
				t.Errorf("a redirect carries the id_token_hint: %s", loc)
			}
		}
	}

	// Prime the session, then sign out with the cookies sent (a same-site
	// POST, or a browser that sends Lax cookies).
	p, _ := b.get(t, srv.URL+"/login")
	b.submit(t, p, "login-submit", map[string]string{"login": "lena", "password": testUserPassword})
	hint := signInForHint()
	locations.seen = nil
	got, resp := b.post(t, srv.URL+"/oauth2/logout", logoutForm(hint, "s1"))
	if resp.StatusCode != http.StatusSeeOther || resp.Header.Get("Location") != rpAfterLogout+"?state=s1" {
		t.Fatalf("POST logout with the session's hint: got %d Location %q, want 303 to %s?state=s1:\n%.300s",
			resp.StatusCode, resp.Header.Get("Location"), rpAfterLogout, got.Body)
	}
	checkLocations(hint)
	if signedIn() {
		t.Fatal("still signed in after the POST logout")
	}

	// A cross-site POST: SameSite=Lax keeps every cookie back, so the
	// provider cannot see the session and asks on its own page.
	p, _ = b.get(t, srv.URL+"/login")
	b.submit(t, p, "login-submit", map[string]string{"login": "lena", "password": testUserPassword})
	hint = signInForHint()
	locations.seen = nil
	req, _ := http.NewRequest(http.MethodPost, srv.URL+"/oauth2/logout", strings.NewReader(logoutForm(hint, "s2").Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	resp, err := (&http.Client{Transport: locations, CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}).Do(req)
	if err != nil {
		t.Fatal(err)
	}
	confirm := readPage(t, resp)
	if resp.StatusCode != http.StatusOK || !strings.Contains(confirm.Body, `id="logout-submit"`) {
		t.Fatalf("cookieless POST logout: got %d Location %q, want the confirmation page", resp.StatusCode, resp.Header.Get("Location"))
	}
	if strings.Contains(confirm.Body, hint) {
		t.Error("the confirmation page repeats the id_token_hint")
	}
	b.Jar.SetCookies(u, resp.Cookies()) // what the browser keeps from that response
	_, resp = b.submit(t, confirm, "logout-submit", nil)
	if resp.StatusCode != http.StatusSeeOther || resp.Header.Get("Location") != rpAfterLogout+"?state=s2" {
		t.Fatalf("confirming: got %d Location %q, want 303 to %s?state=s2", resp.StatusCode, resp.Header.Get("Location"), rpAfterLogout)
	}
	checkLocations(hint)
	if signedIn() {
		t.Fatal("still signed in after confirming the POST logout")
	}
}
