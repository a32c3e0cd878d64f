package main

import (
	"context"
	"net/http"
	"strings"
	"testing"

	gooidc "github.com/coreos/go-oidc/v3/oidc"
	"golang.org/x/oauth2"

	"gatehouse/migrations/dbtest"
)

// A login flow belongs to the session it was signed in with: when another
// user signs in in the same browser before the consent, the flow must not
// finish for that user, nor for the first one with the other's session,
// and no consent is recorded for either; it starts over at the sign-in.
func TestFlowBoundToSession(t *testing.T) {
	t.Parallel()
	for _, dialect := range dbtest.Dialects {
		t.Run(dialect, func(t *testing.T) { testFlowBoundToSession(t, dialect) })
	}
}

func testFlowBoundToSession(t *testing.T, dialect string) {
	ctx := context.Background()
	srv := startServer(t, dialect, nil)
	alice := srv.createUser(t, "alice", testUserPassword)
	bob := srv.createUser(t, "bob", testUserPassword)
	clientID, secret := srv.createClient(t, "--name", "Example App", "--redirect-uri", rpCallback)
	rp := newRelyingParty(t, srv.URL, clientID, secret)
	noConsent := func(t *testing.T) {
		t.Helper()
		for _, u := range []string{alice.ID, bob.ID} {
			if got, err := srv.App.Store.Consents.GetConsent(ctx, u, clientID); err != nil || got != nil {
				t.Errorf("consent of %s for the client = %v, %v; want none", u, got, err)
			}
		}
	}

	t.Run("consent submitted after another user signed in", func(t *testing.T) {
		b := newBrowser(t, rpCallback)
		consent, _ := startFlowToConsent(t, b, rp, "alice")
		signInOutsideFlow(t, b, srv.URL, "bob")
		p, resp := resubmitConsent(t, b, srv.URL, consent)
		wantRestartedAtLogin(t, p, resp)
		noConsent(t)
	})

	t.Run("consent page after another user signed in", func(t *testing.T) {
		b := newBrowser(t, rpCallback)
		consent, verifier := startFlowToConsent(t, b, rp, "alice")
		signInOutsideFlow(t, b, srv.URL, "bob")
		p, resp := b.get(t, consent.URL.String())
		wantRestartedAtLogin(t, p, resp)
		// Coming back to the consent page does not let bob's session go
		// on with the restarted flow either.
		p, resp = b.get(t, consent.URL.String())
		wantRestartedAtLogin(t, p, resp)
		// Submitting the page shown before the switch changes nothing.
		p, resp = resubmitConsent(t, b, srv.URL, consent)
		wantRestartedAtLogin(t, p, resp)
		noConsent(t)

		// Signing in again within the flow finishes it for that user.
		p, _ = b.submit(t, p, "login-submit", map[string]string{"login": "alice", "password": testUserPassword})
		if p.URL.Path != "/consent" {
			t.Fatalf("sign-in after the restart led to %s (status %d), want consent", p.URL, p.Status)
		}
		_, resp = b.submit(t, p, "consent-allow", nil)
		q := callbackQuery(t, resp)
		if sub := exchangeSubject(t, rp, q.Get("code"), verifier); sub != alice.ID {
			t.Errorf("code issued for %s, want alice %s", sub, alice.ID)
		}
		if got, err := srv.App.Store.Consents.GetConsent(ctx, bob.ID, clientID); err != nil || got != nil {
			t.Errorf("consent of bob = %v, %v; want none", got, err)
		}
	})

	t.Run("signed in before the flow, another user before consent", func(t *testing.T) {
		// A client of its own: alice consented to the first one above.
		clientID, secret := srv.createClient(t, "--name", "Other App", "--redirect-uri", rpCallback)
		rp := newRelyingParty(t, srv.URL, clientID, secret)
		b := newBrowser(t, rpCallback)
		signInOutsideFlow(t, b, srv.URL, "bob")
		p, _ := b.get(t, rp.OAuth.AuthCodeURL("state-sso", oauth2.S256ChallengeOption(oauth2.GenerateVerifier())))
		if p.URL.Path != "/consent" {
			t.Fatalf("authorize with bob signed in led to %s (status %d), want consent", p.URL, p.Status)
		}
		signInOutsideFlow(t, b, srv.URL, "alice")
		p, resp := resubmitConsent(t, b, srv.URL, p)
		wantRestartedAtLogin(t, p, resp)
		for _, u := range []string{alice.ID, bob.ID} {
			if got, err := srv.App.Store.Consents.GetConsent(ctx, u, clientID); err != nil || got != nil {
				t.Errorf("consent of %s for the client = %v, %v; want none", u, got, err)
			}
		}
	})
}

// startFlowToConsent begins an authorization request, signs in as username
// within it and returns the consent page, without deciding, and the PKCE
// verifier.
func startFlowToConsent(t testing.TB, b *browser, rp *relyingParty, username string) (*page, string) {
	t.Helper()
	verifier := oauth2.GenerateVerifier()
	p, _ := b.get(t, rp.OAuth.AuthCodeURL("state-"+username, gooidc.Nonce("nonce-"+oauth2.GenerateVerifier()[:16]), oauth2.S256ChallengeOption(verifier)))
	if p.URL.Path != "/login" {
		t.Fatalf("authorize led to %s (status %d), want the login page", p.URL, p.Status)
	}
	p, _ = b.submit(t, p, "login-submit", map[string]string{"login": username, "password": testUserPassword})
	if p.URL.Path != "/consent" {
		t.Fatalf("login led to %s (status %d), want consent", p.URL, p.Status)
	}
	return p, verifier
}

// signInOutsideFlow signs in on the plain login page, as a second tab
// would.
func signInOutsideFlow(t testing.TB, b *browser, base, username string) {
	t.Helper()
	p, _ := b.get(t, base+"/login")
	p, _ = b.submit(t, p, "login-submit", map[string]string{"login": username, "password": testUserPassword})
	if p.Status != http.StatusOK || p.URL.Path != "/" {
		t.Fatalf("sign-in as %s led to %s (status %d), want the home page", username, p.URL, p.Status)
	}
}

// resubmitConsent allows on a consent page shown earlier, with the CSRF
// token the browser holds now (signing in renews it), as a reloaded tab or
// a script would.
func resubmitConsent(t testing.TB, b *browser, base string, consent *page) (*page, *http.Response) {
	t.Helper()
	lp, _ := b.get(t, base+"/login")
	_, current, _ := findForm(t, lp, "login-submit")
	action, values, _ := findForm(t, consent, "consent-allow")
	values.Set("csrf", current.Get("csrf"))
	target, err := consent.URL.Parse(action)
	if err != nil {
		t.Fatal(err)
	}
	return b.post(t, target.String(), values)
}

// wantRestartedAtLogin checks that the browser ended on the sign-in page
// of the flow and not at the relying party.
func wantRestartedAtLogin(t testing.TB, p *page, resp *http.Response) {
	t.Helper()
	if loc := resp.Header.Get("Location"); strings.HasPrefix(loc, rpCallback) {
		t.Fatalf("the flow went on to the client (%s), want a restart at the sign-in", loc)
	}
	if p.URL.Path != "/login" || p.URL.Query().Get("flow") == "" || p.Status != http.StatusOK {
		t.Fatalf("ended on %s (status %d), want the flow's sign-in page:\n%s", p.URL, p.Status, p.Body)
	}
	mustContain(t, p.Body, `autocomplete="current-password"`, "sign-in page")
}

// exchangeSubject redeems a code and returns its ID token's subject.
func exchangeSubject(t testing.TB, rp *relyingParty, code, verifier string) string {
	t.Helper()
	tok, err := rp.OAuth.Exchange(context.Background(), code, oauth2.VerifierOption(verifier))
	if err != nil {
		t.Fatalf("Exchange: %v", err)
	}
	raw, _ := tok.Extra("id_token").(string)
	idt, err := rp.Verifier.Verify(context.Background(), raw)
	if err != nil {
		t.Fatalf("ID token does not verify: %v", err)
	}
	return idt.Subject
}
