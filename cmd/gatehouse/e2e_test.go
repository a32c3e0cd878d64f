package main

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	gooidc "github.com/coreos/go-oidc/v3/oidc"
	"golang.org/x/oauth2"
	"golang.org/x/oauth2/clientcredentials"

	"gatehouse/migrations/dbtest"
)

const (
	rpCallback       = "http://127.0.0.1:9/callback"
	rpAfterLogout    = "http://127.0.0.1:9/signed-out"
	testUserPassword = "correct horse battery staple"
)

// relyingParty is a real OIDC client: go-oidc and x/oauth2 configured only
// from the issuer's discovery document.
type relyingParty struct {
	Provider *gooidc.Provider
	Verifier *gooidc.IDTokenVerifier
	OAuth    *oauth2.Config
}

func newRelyingParty(t testing.TB, issuer, clientID, secret string) *relyingParty {
	t.Helper()
	p, err := gooidc.NewProvider(context.Background(), issuer)
	if err != nil {
		t.Fatalf("discovery: %v", err)
	}
	endpoint := p.Endpoint()
	// x/oauth2's auto-detection retries a failed request with the other
	// authentication style, which would blur the error under test.
	endpoint.AuthStyle = oauth2.AuthStyleInHeader
	return &relyingParty{
		Provider: p,
		Verifier: p.Verifier(&gooidc.Config{ClientID: clientID}),
		OAuth: &oauth2.Config{
			ClientID: clientID, ClientSecret: secret, Endpoint: endpoint, RedirectURL: rpCallback,
			Scopes: []string{gooidc.ScopeOpenID, "profile", "email", gooidc.ScopeOfflineAccess},
		},
	}
}

// signIn drives the hosted pages from the authorization URL to the code.
func signIn(t testing.TB, b *browser, authURL, username string, consent bool) url.Values {
	t.Helper()
	p, _ := b.get(t, authURL)
	if p.URL.Path != "/login" {
		t.Fatalf("authorize led to %s (status %d), want the login page:\n%s", p.URL, p.Status, p.Body)
	}
	mustContain(t, p.Body, `autocomplete="current-password"`, "login page")
	p, resp := b.submit(t, p, "login-submit", map[string]string{"login": username, "password": testUserPassword})
	if consent {
		if p.URL.Path != "/consent" {
			t.Fatalf("login led to %s (status %d), want consent:\n%s", p.URL, p.Status, p.Body)
		}
		mustContain(t, p.Body, "Allow", "consent page")
		_, resp = b.submit(t, p, "consent-allow", nil)
	}
	return callbackQuery(t, resp)
}

func callbackQuery(t testing.TB, resp *http.Response) url.Values {
	t.Helper()
	loc := resp.Header.Get("Location")
	if resp.StatusCode != http.StatusSeeOther || !strings.HasPrefix(loc, rpCallback) {
		t.Fatalf("expected a redirect to the callback, got %d Location %q", resp.StatusCode, loc)
	}
	u, err := url.Parse(loc)
	if err != nil {
		t.Fatal(err)
	}
	return u.Query()
}

func TestEndToEnd(t *testing.T) {
	t.Parallel()
	for _, dialect := range dbtest.Dialects {
		t.Run(dialect, func(t *testing.T) { testEndToEnd(t, dialect) })
	}
}

func testEndToEnd(t *testing.T, dialect string) {
	ctx := context.Background()
	srv := startServer(t, dialect, nil)
	user := srv.createUser(t, "alice", testUserPassword)
	clientID, secret := srv.createClient(t, "--name", "Example App", "--redirect-uri", rpCallback,
		"--post-logout-redirect-uri", rpAfterLogout)
	rp := newRelyingParty(t, srv.URL, clientID, secret)
	b := newBrowser(t, rpCallback)

	// Authorization code flow with PKCE through the hosted pages.
	verifier := oauth2.GenerateVerifier()
	state, nonce := "state-"+oauth2.GenerateVerifier()[:16], "nonce-"+oauth2.GenerateVerifier()[:16]
	authURL := rp.OAuth.AuthCodeURL(state, gooidc.Nonce(nonce), oauth2.S256ChallengeOption(verifier))
	q := signIn(t, b, authURL, "alice", true)
	if q.Get("state") != state {
		t.Errorf("state = %q, want %q", q.Get("state"), state)
	}
	if q.Get("iss") != srv.URL {
		t.Errorf("iss = %q, want %q (RFC 9207)", q.Get("iss"), srv.URL)
	}
	code := q.Get("code")
	tok, err := rp.OAuth.Exchange(ctx, code, oauth2.VerifierOption(verifier))
	if err != nil {
		t.Fatalf("Exchange: %v", err)
	}
	rawID, _ := tok.Extra("id_token").(string)
	idt, err := rp.Verifier.Verify(ctx, rawID)
	if err != nil {
		t.Fatalf("ID token does not verify: %v", err)
	}
	if idt.Nonce != nonce || idt.Subject != user.ID {
		t.Errorf("ID token nonce %q sub %q, want %q %q", idt.Nonce, idt.Subject, nonce, user.ID)
	}
	if err := idt.VerifyAccessToken(tok.AccessToken); err != nil {
		t.Errorf("at_hash: %v", err)
	}
	var claims struct {
		AuthTime int64    `json:"auth_time"`
		AMR      []string `json:"amr"`
		ACR      string   `json:"acr"`
		SID      string   `json:"sid"`
		Email    string   `json:"email"`
		Username string   `json:"preferred_username"`
	}
	if err := idt.Claims(&claims); err != nil {
		t.Fatal(err)
	}
	if claims.AuthTime == 0 || len(claims.AMR) == 0 || claims.ACR == "" || claims.SID == "" ||
		claims.Email != "alice@example.com" || claims.Username != "alice" {
		t.Errorf("ID token claims incomplete: %+v", claims)
	}

	// UserInfo with the access token.
	ui, err := rp.Provider.UserInfo(ctx, oauth2.StaticTokenSource(tok))
	if err != nil {
		t.Fatalf("UserInfo: %v", err)
	}
	if ui.Subject != user.ID || ui.Email != "alice@example.com" || !ui.EmailVerified {
		t.Errorf("userinfo = %+v", ui)
	}

	// A second use of the code fails, and revokes what it issued.
	if _, err := rp.OAuth.Exchange(ctx, code, oauth2.VerifierOption(verifier)); !isOAuthError(err, "invalid_grant") {
		t.Errorf("second code use: %v, want invalid_grant", err)
	}

	// Refresh rotation and reuse detection, on a fresh grant (the code
	// replay above revoked the first one). SSO: no login page this time,
	// and consent is remembered.
	verifier = oauth2.GenerateVerifier()
	p, resp := b.get(t, rp.OAuth.AuthCodeURL(state, gooidc.Nonce(nonce), oauth2.S256ChallengeOption(verifier)))
	_ = p
	q = callbackQuery(t, resp)
	tok, err = rp.OAuth.Exchange(ctx, q.Get("code"), oauth2.VerifierOption(verifier))
	if err != nil {
		t.Fatalf("Exchange after SSO: %v", err)
	}
	if tok.RefreshToken == "" {
		t.Fatal("no refresh token for offline_access")
	}
	first := tok.RefreshToken
	tok.Expiry = time.Now().Add(-time.Minute)
	rotated, err := rp.OAuth.TokenSource(ctx, tok).Token()
	if err != nil {
		t.Fatalf("refresh: %v", err)
	}
	if rotated.RefreshToken == "" || rotated.RefreshToken == first {
		t.Fatalf("refresh token not rotated")
	}
	old := &oauth2.Token{RefreshToken: first, Expiry: time.Now().Add(-time.Minute)}
	if _, err := rp.OAuth.TokenSource(ctx, old).Token(); !isOAuthError(err, "invalid_grant") {
		t.Errorf("reuse of rotated refresh token: %v, want invalid_grant", err)
	}
	rotated.Expiry = time.Now().Add(-time.Minute)
	if _, err := rp.OAuth.TokenSource(ctx, rotated).Token(); !isOAuthError(err, "invalid_grant") {
		t.Errorf("after reuse the whole grant must be revoked; refresh gave %v", err)
	}

	// Introspection and revocation.
	verifier = oauth2.GenerateVerifier()
	_, resp = b.get(t, rp.OAuth.AuthCodeURL(state, oauth2.S256ChallengeOption(verifier)))
	tok, err = rp.OAuth.Exchange(ctx, callbackQuery(t, resp).Get("code"), oauth2.VerifierOption(verifier))
	if err != nil {
		t.Fatal(err)
	}
	intro := introspect(t, srv.URL, clientID, secret, tok.AccessToken)
	if intro["active"] != true || intro["sub"] != user.ID || intro["client_id"] != clientID {
		t.Errorf("introspection = %v", intro)
	}
	revoke(t, srv.URL, clientID, secret, tok.AccessToken)
	if intro := introspect(t, srv.URL, clientID, secret, tok.AccessToken); intro["active"] != false {
		t.Errorf("revoked token introspects as %v", intro)
	}
	if _, err := rp.Provider.UserInfo(ctx, oauth2.StaticTokenSource(tok)); err == nil {
		t.Error("userinfo accepted a revoked token")
	}

	// client_credentials with a service client.
	svcID, svcSecret := srv.createClient(t, "--name", "Service", "--grant-type", "client_credentials", "--scope", "profile")
	cc := clientcredentials.Config{ClientID: svcID, ClientSecret: svcSecret, TokenURL: rp.Provider.Endpoint().TokenURL, Scopes: []string{"profile"}}
	ccTok, err := cc.Token(ctx)
	if err != nil {
		t.Fatalf("client_credentials: %v", err)
	}
	if intro := introspect(t, srv.URL, svcID, svcSecret, ccTok.AccessToken); intro["active"] != true || intro["client_id"] != svcID || intro["scope"] != "profile" {
		t.Errorf("client_credentials token introspection = %v", intro)
	}

	// RP-initiated logout, then prompt=none must say login_required.
	logoutURL := rp.Provider.Endpoint().AuthURL[:strings.Index(rp.Provider.Endpoint().AuthURL, "/oauth2/")] + "/oauth2/logout?" + url.Values{
		"id_token_hint": {rawID}, "post_logout_redirect_uri": {rpAfterLogout}, "state": {"bye"},
	}.Encode()
	b.stopAt = rpAfterLogout
	_, resp = b.get(t, logoutURL)
	if loc := resp.Header.Get("Location"); resp.StatusCode != http.StatusSeeOther || loc != rpAfterLogout+"?state=bye" {
		t.Fatalf("logout answered %d Location %q", resp.StatusCode, loc)
	}
	b.stopAt = rpCallback
	_, resp = b.get(t, rp.OAuth.AuthCodeURL(state, oauth2.SetAuthURLParam("prompt", "none"), oauth2.S256ChallengeOption(oauth2.GenerateVerifier())))
	if q := callbackQuery(t, resp); q.Get("error") != "login_required" || q.Get("state") != state {
		t.Errorf("prompt=none after logout: %v, want error=login_required", q)
	}
}

func isOAuthError(err error, code string) bool {
	var re *oauth2.RetrieveError
	return errors.As(err, &re) && re.ErrorCode == code
}

func introspect(t testing.TB, base, id, secret, token string) map[string]interface{} {
	t.Helper()
	req, _ := http.NewRequest(http.MethodPost, base+"/oauth2/introspect", strings.NewReader(url.Values{"token": {token}}.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.SetBasicAuth(url.QueryEscape(id), url.QueryEscape(secret))
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var out map[string]interface{}
	if err := json.NewDecoder(resp.Body).Decode(&out); err != nil || resp.StatusCode != http.StatusOK {
		t.Fatalf("introspect: %d %v", resp.StatusCode, err)
	}
	return out
}

func revoke(t testing.TB, base, id, secret, token string) {
	t.Helper()
	req, _ := http.NewRequest(http.MethodPost, base+"/oauth2/revoke", strings.NewReader(url.Values{"token": {token}}.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.SetBasicAuth(url.QueryEscape(id), url.QueryEscape(secret))
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("revoke: %d %s", resp.StatusCode, body)
	}
}

// TestConcurrentCodeRedemption: of several simultaneous redemptions of one
// code exactly one succeeds; the rest get invalid_grant, never a 500.
func TestConcurrentCodeRedemption(t *testing.T) {
	t.Parallel()
	for _, dialect := range dbtest.Dialects {
		t.Run(dialect, func(t *testing.T) {
			ctx := context.Background()
			srv := startServer(t, dialect, nil)
			srv.createUser(t, "bob", testUserPassword)
			id, secret := srv.createClient(t, "--name", "Racer", "--redirect-uri", rpCallback, "--first-party")
			rp := newRelyingParty(t, srv.URL, id, secret)
			verifier := oauth2.GenerateVerifier()
			q := signIn(t, newBrowser(t, rpCallback), rp.OAuth.AuthCodeURL("state-123456789", oauth2.S256ChallengeOption(verifier)), "bob", false)
			const n = 8
			var wg sync.WaitGroup
			errs := make([]error, n)
			for i := range n {
				wg.Add(1)
				go func() {
					defer wg.Done()
					_, errs[i] = rp.OAuth.Exchange(ctx, q.Get("code"), oauth2.VerifierOption(verifier))
				}()
			}
			wg.Wait()
			ok := 0
			for _, err := range errs {
				switch {
				case err == nil:
					ok++
				case !isOAuthError(err, "invalid_grant"):
					t.Errorf("concurrent redemption failed with %v, want invalid_grant", err)
				}
			}
			if ok != 1 {
				t.Errorf("%d of %d concurrent redemptions succeeded, want exactly 1", ok, n)
			}
		})
	}
}
