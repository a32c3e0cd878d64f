package main

import (
	"context"
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
	gooidc "github.com/coreos/go-oidc/v3/oidc"
	"github.com/google/go-cmp/cmp"
	"golang.org/x/oauth2"

	"gatehouse/config"
	"gatehouse/identity/mfa"
	"gatehouse/migrations/dbtest"
)

// TestBrowser drives the hosted pages in headless Chromium against the
// real server on each database: sign-up with the proof-of-work CAPTCHA
// solved by the page's own script, e-mail verification and consent;
// sign-in with a password; and the accessibility contract of every page on
// the way, the forgot-password and account pages included. The relying
// party is real: its callback receives the code, and go-oidc checks the ID
// token it is exchanged for.
func TestBrowser(t *testing.T) {
	t.Parallel()
	for _, dialect := range dbtest.Dialects {
		t.Run(dialect, func(t *testing.T) {
			t.Parallel()
			testBrowser(t, dialect)
		})
	}
}

func testBrowser(t *testing.T, dialect string) {
	srv, mb, cb, rp := startBrowserServer(t, dialect)
	alice := srv.createUser(t, "alice", testUserPassword)

	t.Run("sign-up", func(t *testing.T) {
		tb := newTab(t)
		req := newAuthRequest(rp, oauth2.SetAuthURLParam("prompt", "create"))
		tb.navigate(t, req.URL)
		tb.arrive(t, "/register")
		tb.checkAccessible(t)
		tb.fill(t, map[string]string{
			"register-username": "rosa", "register-email": "rosa@example.com", "register-password": testUserPassword,
		})
		// The page's script solves the challenge by itself; the answer in
		// the form is the sign that it did.
		tb.do(t, chromedp.Poll[chromedp.Void](`document.querySelector('input[name="altcha"]').value !== ""`,
			chromedp.WithPollingInterval(20*time.Millisecond)))
		tb.click(t, "register-submit")

		tb.arrive(t, "/verify-email")
		tb.checkAccessible(t)
		tb.fill(t, map[string]string{"verify-code": mb.next(t, "rosa@example.com").code(t)})
		tb.click(t, "verify-submit")

		tb.arrive(t, "/consent")
		tb.checkAccessible(t)
		tb.click(t, "consent-allow")

		rosa, _, err := srv.App.Identity.Accounts.Users.FindUserByLogin(t.Context(), "rosa")
		if err != nil {
			t.Fatalf("the account made in the browser: %v", err)
		}
		claims := req.finish(t, rp, cb, srv.URL)
		// auth_time and amr are the server's to choose; they must be there.
		want := idClaims{Subject: rosa.ID, Nonce: req.Nonce, AuthTime: claims.AuthTime, AMR: claims.AMR, ACR: mfa.ACRSingleFactor,
			Email: "rosa@example.com", EmailVerified: true, Username: "rosa"}
		if diff := cmp.Diff(want, claims); diff != "" {
			t.Errorf("ID token claims mismatch (-want +got):\n%s", diff)
		}
		if claims.AuthTime == 0 || !slices.Contains(claims.AMR, "pwd") {
			t.Errorf("ID token auth_time %d amr %v, want a time and pwd", claims.AuthTime, claims.AMR)
		}
		tb.noProblems(t)
	})

	t.Run("sign-in", func(t *testing.T) {
		tb := newTab(t)
		req := newAuthRequest(rp)
		tb.navigate(t, req.URL)
		tb.arrive(t, "/login")
		tb.checkAccessible(t)
		tb.fill(t, map[string]string{"login-username": "alice", "login-password": testUserPassword})
		tb.click(t, "login-submit")
		tb.arrive(t, "/consent")
		tb.click(t, "consent-allow")
		claims := req.finish(t, rp, cb, srv.URL)
		if claims.Subject != alice.ID || claims.Nonce != req.Nonce || !slices.Contains(claims.AMR, "pwd") || claims.AuthTime == 0 {
			t.Errorf("ID token claims = %+v, want alice's (%s) with amr pwd", claims, alice.ID)
		}
		tb.noProblems(t)
	})

	t.Run("forgot-password and account pages", func(t *testing.T) {
		tb := newTab(t)
		tb.navigate(t, srv.URL+"/forgot-password")
		tb.arrive(t, "/forgot-password")
		tb.checkAccessible(t)

		tb.navigate(t, srv.URL+"/login?next=%2Faccount")
		tb.arrive(t, "/login")
		tb.fill(t, map[string]string{"login-username": "alice", "login-password": testUserPassword})
		tb.click(t, "login-submit")
		tb.arrive(t, "/account")
		sections, err := chromedp.Run(tb.ctx, chromedp.Evaluate[[]string](
			`Array.from(document.querySelectorAll('a[id^="account-nav-"]')).map(function (a) { return a.href; })`))
		if err != nil || len(sections) < 2 {
			t.Fatalf("account sections: %v, %v", sections, err)
		}
		for _, s := range sections {
			tb.navigate(t, s)
			tb.arrive(t, "/account")
			tb.checkAccessible(t)
		}
	})
}

// startBrowserServer starts the server for a browser test on localhost,
// with its mail going to a test mailbox, and a relying party whose
// redirect URI is a real callback; clientFlags add to its registration.
func startBrowserServer(t *testing.T, dialect string, clientFlags ...string) (*testServer, *mailbox, *callback, *relyingParty) {
	t.Helper()
	mb := startMailbox(t)
	srv := startServer(t, dialect, func(cfg *config.Config) {
		withDelivery(mb, nil, true)(cfg)
		onLocalhost(t, cfg)
	})
	cb := startCallback(t)
	clientID, secret := srv.createClient(t, append([]string{"--name", "Browser App", "--redirect-uri", cb.URL}, clientFlags...)...)
	rp := newRelyingParty(t, srv.URL, clientID, secret)
	rp.OAuth.RedirectURL = cb.URL
	return srv, mb, cb, rp
}

// onLocalhost names the issuer by localhost, as WebAuthn needs a domain;
// the server still listens on 127.0.0.1, which localhost resolves to.
func onLocalhost(t testing.TB, cfg *config.Config) {
	t.Helper()
	_, port, err := net.SplitHostPort(cfg.Listen)
	if err != nil {
		t.Fatalf("listen %q: %v", cfg.Listen, err)
	}
	cfg.Issuer = "http://localhost:" + port
}

// callback is the relying party's redirect URI: a real server that hands
// each query it receives to the test waiting for its state.
type callback struct {
	URL string

	mu      sync.Mutex
	byState map[string]chan url.Values
}

func startCallback(t testing.TB) *callback {
	t.Helper()
	cb := &callback{byState: map[string]chan url.Values{}}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		// The browser asks for /favicon.ico too.
		if r.URL.Path == "/callback" {
			q := r.URL.Query()
			select {
			case cb.queue(q.Get("state")) <- q:
			default: // a second answer to one request: the first one counts
			}
		}
		w.Header().Set("Content-Type", "text/plain; charset=utf-8")
		w.Write([]byte("signed in\n"))
	}))
	t.Cleanup(srv.Close)
	cb.URL = srv.URL + "/callback"
	return cb
}

func (cb *callback) queue(state string) chan url.Values {
	cb.mu.Lock()
	defer cb.mu.Unlock()
	q, ok := cb.byState[state]
	if !ok {
		q = make(chan url.Values, 1)
		cb.byState[state] = q
	}
	return q
}

// next waits for the browser to arrive at the callback with state.
func (cb *callback) next(t testing.TB, state string) url.Values {
	t.Helper()
	select {
	case q := <-cb.queue(state):
		return q
	case <-time.After(tabTimeout):
		t.Fatalf("the relying party's callback was not called with state %q", state)
		return nil
	}
}

// authRequest is one authorization request of the relying party, with the
// values it must find again in the answer.
type authRequest struct {
	URL, State, Nonce, Verifier string
}

func newAuthRequest(rp *relyingParty, opts ...oauth2.AuthCodeOption) *authRequest {
	r := &authRequest{
		State:    "state-" + oauth2.GenerateVerifier()[:16],
		Nonce:    "nonce-" + oauth2.GenerateVerifier()[:16],
		Verifier: oauth2.GenerateVerifier(),
	}
	opts = append(opts, gooidc.Nonce(r.Nonce), oauth2.S256ChallengeOption(r.Verifier))
	r.URL = rp.OAuth.AuthCodeURL(r.State, opts...)
	return r
}

// idClaims are the ID token claims the browser tests check.
type idClaims struct {
	Subject       string   `json:"sub"`
	Nonce         string   `json:"nonce"`
	AuthTime      int64    `json:"auth_time"`
	AMR           []string `json:"amr"`
	ACR           string   `json:"acr"`
	Email         string   `json:"email"`
	EmailVerified bool     `json:"email_verified"`
	Username      string   `json:"preferred_username"`
}

// finish takes the code the callback received, exchanges it as the
// relying party would and returns the verified ID token's claims.
func (r *authRequest) finish(t testing.TB, rp *relyingParty, cb *callback, issuer string) idClaims {
	t.Helper()
	q := cb.next(t, r.State)
	if q.Get("error") != "" {
		t.Fatalf("the callback got an error: %s: %s", q.Get("error"), q.Get("error_description"))
	}
	if q.Get("iss") != issuer {
		t.Errorf("callback iss %q, want %q (RFC 9207)", q.Get("iss"), issuer)
	}
	ctx, cancel := context.WithTimeout(t.Context(), 30*time.Second)
	defer cancel()
	tok, err := rp.OAuth.Exchange(ctx, q.Get("code"), oauth2.VerifierOption(r.Verifier))
	if err != nil {
		t.Fatalf("Exchange: %v", err)
	}
	raw, _ := tok.Extra("id_token").(string)
	idt, err := rp.Verifier.Verify(ctx, raw)
	if err != nil {
		t.Fatalf("the ID token does not verify: %v", err)
	}
	var c idClaims
	if err := idt.Claims(&c); err != nil {
		t.Fatal(err)
	}
	return c
}
