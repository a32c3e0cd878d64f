package main

import (
	"context"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"testing"
	"time"

	"golang.org/x/oauth2"

	"gatehouse/config"
	"gatehouse/identity"
	identitysql "gatehouse/identity/sqlstore"
	"gatehouse/migrations/dbtest"
	"gatehouse/oidc"
)

// federation pair: a second Gatehouse is the upstream OpenID provider of
// the first, which offers "Sign in with Upstream" on its login page.
type federationPair struct {
	up, down *testServer
}

const upstreamConnectorID = "upstream"

// startFederationPair starts the upstream with a first-party client for
// the downstream's callback and the user ann, and the downstream with an
// oidc connector on the upstream. The downstream's callback is known
// only once it listens, so the client's redirect URI follows then.
func startFederationPair(t *testing.T, dialect string) *federationPair {
	return startFederationPairWith(t, dialect, nil)
}

// startFederationPairWith is startFederationPair with the downstream's
// connector changed by edit first (nil for none).
func startFederationPairWith(t *testing.T, dialect string, edit func(*config.Connector)) *federationPair {
	up := startServer(t, dialect, nil)
	up.createUser(t, "ann", testUserPassword)
	id, secret := up.createClient(t, "--name", "Downstream", "--redirect-uri", "http://127.0.0.1:9/placeholder", "--first-party",
		"--scope", "openid profile email")
	down := startServer(t, dialect, func(c *config.Config) {
		// Two hosts, as in a real deployment: cookies ignore the port, so
		// two servers both on 127.0.0.1 would share theirs.
		onLocalhost(t, c)
		// The upstream listens on 127.0.0.1.
		c.Outbound.AllowPrivateNetworks = true
		c.Connectors = []config.Connector{{ID: upstreamConnectorID, Type: "oidc", Name: "Upstream", OIDC: config.OIDCConnector{
			Issuer: up.URL, ClientID: id, ClientSecret: config.Secret(secret), TrustEmail: true,
		}}}
		if edit != nil {
			edit(&c.Connectors[0])
		}
	})
	if out, code := up.cli(t, "", "clients", "update", id, "--redirect-uri", down.URL+"/federation/callback/"+upstreamConnectorID); code != 0 {
		t.Fatalf("clients update: %s", out)
	}
	return &federationPair{up: up, down: down}
}

// TestUpstreamSignIn: a relying party of the downstream gets an ID token
// for the downstream's own user after the browser signed in at the
// upstream, with the upstream's e-mail address and amr fed; a second
// client then signs in without credentials (prompt=none).
func TestUpstreamSignIn(t *testing.T) {
	t.Parallel()
	for _, dialect := range dbtest.Dialects {
		t.Run(dialect, func(t *testing.T) { testUpstreamSignIn(t, dialect) })
	}
}

func testUpstreamSignIn(t *testing.T, dialect string) {
	ctx := context.Background()
	fp := startFederationPair(t, dialect)
	down := fp.down
	id, secret := down.createClient(t, "--name", "App", "--redirect-uri", rpCallback, "--first-party")
	rp := newRelyingParty(t, down.URL, id, secret)

	b := newBrowser(t, rpCallback)
	verifier := oauth2.GenerateVerifier()
	p, _ := b.get(t, rp.OAuth.AuthCodeURL("state-0123456789", oauth2.S256ChallengeOption(verifier)))
	if p.URL.Path != "/login" {
		t.Fatalf("authorize led to %s, want the login page", p.URL)
	}
	mustContain(t, p.Body, `id="login-upstream-upstream" class="button button-secondary" type="submit">Sign in with Upstream</button>`, "login page")
	p, _ = b.submit(t, p, "login-upstream-upstream", nil)
	if !strings.HasPrefix(p.URL.String(), fp.up.URL+"/login") {
		t.Fatalf("the button led to %s, want the upstream's login page", p.URL)
	}
	_, resp := b.submit(t, p, "login-submit", map[string]string{"login": "ann", "password": testUserPassword})
	q := callbackQuery(t, resp)
	tok, err := rp.OAuth.Exchange(ctx, q.Get("code"), oauth2.VerifierOption(verifier))
	if err != nil {
		t.Fatalf("Exchange: %v", err)
	}
	raw, _ := tok.Extra("id_token").(string)
	idt, err := rp.Verifier.Verify(ctx, raw)
	if err != nil {
		t.Fatalf("ID token: %v", err)
	}
	var claims struct {
		Email    string   `json:"email"`
		Username string   `json:"preferred_username"`
		AMR      []string `json:"amr"`
	}
	if err := idt.Claims(&claims); err != nil {
		t.Fatal(err)
	}
	local, _, err := identitysql.NewUserStore(down.App.DB.Gorm()).FindUserByLogin(ctx, "ann@example.com")
	if err != nil {
		t.Fatalf("no local user provisioned: %v", err)
	}
	upUser, _, err := identitysql.NewUserStore(fp.up.App.DB.Gorm()).FindUserByLogin(ctx, "ann")
	if err != nil {
		t.Fatal(err)
	}
	if idt.Subject != local.ID || idt.Subject == upUser.ID || claims.Email != "ann@example.com" || claims.Username != "ann" ||
		!slices.Contains(claims.AMR, "fed") {
		t.Errorf("ID token sub %s claims %+v; want the downstream user %s with ann@example.com and amr fed", idt.Subject, claims, local.ID)
	}

	// Single sign-on: another client of the downstream, no credentials.
	id2, secret2 := down.createClient(t, "--name", "Other App", "--redirect-uri", rpCallback, "--first-party")
	rp2 := newRelyingParty(t, down.URL, id2, secret2)
	_, resp = b.get(t, rp2.OAuth.AuthCodeURL("state-abcdefghij", oauth2.SetAuthURLParam("prompt", "none")))
	q = callbackQuery(t, resp)
	if q.Get("code") == "" {
		t.Fatalf("prompt=none after the upstream sign-in: %v, want a code", q)
	}
	tok, err = rp2.OAuth.Exchange(ctx, q.Get("code"))
	if err != nil {
		t.Fatalf("Exchange (second client): %v", err)
	}
	raw, _ = tok.Extra("id_token").(string)
	if idt, err = rp2.Verifier.Verify(ctx, raw); err != nil || idt.Subject != local.ID {
		t.Errorf("second client's ID token: %v, sub %v; want %s", err, idt, local.ID)
	}

	// Signing in again through the upstream finds the same local user.
	b2 := newBrowser(t, rpCallback)
	p, _ = b2.get(t, rp.OAuth.AuthCodeURL("state-0123456789", oauth2.S256ChallengeOption(verifier)))
	p, _ = b2.submit(t, p, "login-upstream-upstream", nil)
	_, resp = b2.submit(t, p, "login-submit", map[string]string{"login": "ann", "password": testUserPassword})
	q = callbackQuery(t, resp)
	tok, err = rp.OAuth.Exchange(ctx, q.Get("code"), oauth2.VerifierOption(verifier))
	if err != nil {
		t.Fatal(err)
	}
	raw, _ = tok.Extra("id_token").(string)
	if idt, err = rp.Verifier.Verify(ctx, raw); err != nil || idt.Subject != local.ID {
		t.Errorf("second upstream sign-in: %v; want the same local user %s", err, local.ID)
	}
}

// TestUpstreamCallbackRefusals: callbacks that must sign nobody in, from
// the attacker's side: a made-up state, a state of someone else's flow,
// a replayed callback, an upstream error, and an ID token whose nonce is
// not the one this sign-in sent. Each gets an error page and leaves the
// browser without a session (prompt=none is refused afterwards).
func TestUpstreamCallbackRefusals(t *testing.T) {
	t.Parallel()
	fp := startFederationPair(t, "sqlite")
	down := fp.down
	id, secret := down.createClient(t, "--name", "App", "--redirect-uri", rpCallback, "--first-party")
	rp := newRelyingParty(t, down.URL, id, secret)
	callback := down.URL + "/federation/callback/" + upstreamConnectorID

	// begin starts a sign-in and stops at the upstream's authorization
	// endpoint, returning its URL and the state the downstream sent.
	begin := func(t *testing.T, b *browser) (*url.URL, string) {
		t.Helper()
		b.stopAt = fp.up.URL + oidc.PathAuthorize
		p, _ := b.get(t, rp.OAuth.AuthCodeURL("state-0123456789"))
		_, resp := b.submit(t, p, "login-upstream-upstream", nil)
		loc, err := url.Parse(resp.Header.Get("Location"))
		if err != nil || !strings.HasPrefix(loc.String(), fp.up.URL+oidc.PathAuthorize) || loc.Query().Get("state") == "" {
			t.Fatalf("the button redirected to %q, want the upstream's authorization endpoint with a state", loc)
		}
		if loc.Query().Get("code_challenge_method") != "S256" || loc.Query().Get("nonce") == "" {
			t.Errorf("upstream request %s lacks PKCE S256 or a nonce", loc)
		}
		b.stopAt = rpCallback
		return loc, loc.Query().Get("state")
	}
	// noSession checks that the browser is not signed in downstream.
	noSession := func(t *testing.T, b *browser) {
		t.Helper()
		_, resp := b.get(t, rp.OAuth.AuthCodeURL("state-abcdefghij", oauth2.SetAuthURLParam("prompt", "none")))
		if q := callbackQuery(t, resp); q.Get("error") != "login_required" {
			t.Errorf("prompt=none after a refused callback: %v, want login_required", q)
		}
	}
	refused := func(t *testing.T, p *page, status int, text string) {
		t.Helper()
		if p.Status != status || !strings.Contains(p.Body, text) {
			t.Errorf("callback answered %d, want %d with %q:\n%s", p.Status, status, text, p.Body)
		}
	}
	// upstreamLogin signs in at the upstream from its authorization URL
	// and follows the answer back to the downstream.
	upstreamLoginAs := func(t *testing.T, b *browser, authz *url.URL, username string) (*page, *http.Response) {
		t.Helper()
		p, _ := b.get(t, authz.String())
		return b.submit(t, p, "login-submit", map[string]string{"login": username, "password": testUserPassword})
	}
	upstreamLogin := func(t *testing.T, b *browser, authz *url.URL) (*page, *http.Response) {
		t.Helper()
		return upstreamLoginAs(t, b, authz, "ann")
	}
	ctx := context.Background()
	createUser := func(t *testing.T, srv *testServer, username, email string, verified bool) string {
		t.Helper()
		u, err := srv.App.Identity.Accounts.CreateUser(ctx, identity.CreateInput{
			Username: username, Email: email, Password: testUserPassword, EmailVerified: verified})
		if err != nil {
			t.Fatal(err)
		}
		return u.ID
	}

	t.Run("unverified upstream address of an existing account", func(t *testing.T) {
		createUser(t, fp.up, "ben", "ben@example.com", false)
		createUser(t, down, "benjamin", "ben@example.com", true)
		b := newBrowser(t, rpCallback)
		authz, _ := begin(t, b)
		p, _ := upstreamLoginAs(t, b, authz, "ben")
		refused(t, p, http.StatusConflict, "An account with your e-mail address or username already exists here")
		noSession(t, b)
	})

	t.Run("verified upstream address links the existing account", func(t *testing.T) {
		createUser(t, fp.up, "cat", "cat@example.com", true)
		localID := createUser(t, down, "catherine", "cat@example.com", true)
		b := newBrowser(t, rpCallback)
		authz, _ := begin(t, b)
		_, resp := upstreamLoginAs(t, b, authz, "cat")
		q := callbackQuery(t, resp)
		tok, err := rp.OAuth.Exchange(ctx, q.Get("code"))
		if err != nil {
			t.Fatal(err)
		}
		raw, _ := tok.Extra("id_token").(string)
		if idt, err := rp.Verifier.Verify(ctx, raw); err != nil || idt.Subject != localID {
			t.Errorf("ID token %v, %v; want the existing account %s", idt, err, localID)
		}
	})

	t.Run("made-up state", func(t *testing.T) {
		b := newBrowser(t, rpCallback)
		_, state := begin(t, b)
		flowID, _, _ := strings.Cut(state, ".")
		for _, s := range []string{"", "nonsense", flowID + ".not-the-state", "unknown-flow.x"} {
			p, _ := b.get(t, callback+"?code=abc&state="+url.QueryEscape(s))
			refused(t, p, http.StatusBadRequest, "could not be completed")
		}
		noSession(t, b)
	})

	t.Run("state of another browser's flow", func(t *testing.T) {
		victim := newBrowser(t, rpCallback)
		authz, _ := begin(t, victim)
		// The attacker signs in at the upstream with the victim's request
		// and hands the callback to... their own browser.
		attacker := newBrowser(t, callback)
		_, resp := upstreamLogin(t, attacker, authz)
		cb := resp.Header.Get("Location")
		if !strings.HasPrefix(cb, callback) {
			t.Fatalf("upstream answered %d %q, want the downstream callback", resp.StatusCode, cb)
		}
		attacker.stopAt = rpCallback
		p, _ := attacker.get(t, cb)
		refused(t, p, http.StatusBadRequest, "could not be completed")
		noSession(t, attacker)
	})

	t.Run("replayed callback", func(t *testing.T) {
		b := newBrowser(t, callback)
		authz, _ := begin(t, b)
		b.stopAt = callback
		_, resp := upstreamLogin(t, b, authz)
		cb := resp.Header.Get("Location")
		b.stopAt = rpCallback
		_, resp = b.get(t, cb)
		if q := callbackQuery(t, resp); q.Get("code") == "" {
			t.Fatalf("first callback: %v, want a code", q)
		}
		p, _ := b.get(t, cb)
		refused(t, p, http.StatusBadRequest, "could not be completed")
	})

	t.Run("upstream error", func(t *testing.T) {
		b := newBrowser(t, rpCallback)
		_, state := begin(t, b)
		p, _ := b.get(t, callback+"?error=access_denied&state="+url.QueryEscape(state))
		refused(t, p, http.StatusBadRequest, "Signing in with Upstream did not succeed")
		// The state was used up by the error.
		p, _ = b.get(t, callback+"?code=abc&state="+url.QueryEscape(state))
		refused(t, p, http.StatusBadRequest, "could not be completed")
		noSession(t, b)
	})

	t.Run("ID token with another nonce", func(t *testing.T) {
		b := newBrowser(t, rpCallback)
		authz, state := begin(t, b)
		flowID, _, _ := strings.Cut(state, ".")
		// The upstream gets a nonce the flow does not expect: its ID
		// token then carries the wrong one.
		f, err := down.App.SignIn.Flows.GetFlow(ctx, flowID, time.Now())
		if err != nil || f.Upstream == nil {
			t.Fatalf("flow %v, %v; want one waiting upstream", f, err)
		}
		f.Upstream.Nonce = "another-nonce"
		f.Version++
		if err := down.App.SignIn.Flows.UpdateFlow(ctx, f); err != nil {
			t.Fatal(err)
		}
		p, _ := upstreamLogin(t, b, authz)
		refused(t, p, http.StatusBadRequest, "Signing in with Upstream did not succeed")
		found := false
		for _, r := range down.Logs.Records("login failed") {
			e, _ := r["error"].(string)
			found = found || (r["reason"] == "upstream_refused" && strings.Contains(e, "nonce does not match"))
		}
		if !found {
			t.Error("the refusal was not logged with its reason")
		}
		noSession(t, b)
	})
}
