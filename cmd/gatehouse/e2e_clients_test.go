package main

import (
	"context"
	"crypto/rand"
	"crypto/rsa"
	"encoding/json"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	gooidc "github.com/coreos/go-oidc/v3/oidc"
	"github.com/go-jose/go-jose/v4"
	josejwt "github.com/go-jose/go-jose/v4/jwt"
	"golang.org/x/oauth2"
)

// TestPrivateKeyJWT: a client registered with its public key authenticates
// with a signed assertion (RFC 7523 §2.2, OIDC Core §9), and an assertion
// cannot be replayed.
func TestPrivateKeyJWT(t *testing.T) {
	t.Parallel()
	srv := startServer(t, "postgres", nil)
	key, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		t.Fatal(err)
	}
	jwks, _ := json.Marshal(jose.JSONWebKeySet{Keys: []jose.JSONWebKey{{Key: key.Public(), KeyID: "k1", Algorithm: "RS256", Use: "sig"}}})
	body := `{"client_name":"Signed","grant_types":["client_credentials"],"response_types":[],"scope":"profile",` +
		`"token_endpoint_auth_method":"private_key_jwt","token_endpoint_auth_signing_alg":"RS256","jwks":` + string(jwks) + `}`
	req, _ := http.NewRequest(http.MethodPost, srv.URL+"/oauth2/register", strings.NewReader(body))
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Authorization", "Bearer "+testInitialAccessToken)
	reg := do(t, req)
	if reg.Status != http.StatusCreated {
		t.Fatalf("registration: %d %s", reg.Status, reg.Body)
	}
	clientID := reg.JSON["client_id"].(string)
	if reg.JSON["client_secret"] != nil {
		t.Error("a private_key_jwt client was given a secret")
	}
	signer, err := jose.NewSigner(jose.SigningKey{Algorithm: jose.RS256, Key: jose.JSONWebKey{Key: key, KeyID: "k1"}}, nil)
	if err != nil {
		t.Fatal(err)
	}
	assertion := func(aud string) string {
		now := time.Now()
		raw, err := josejwt.Signed(signer).Claims(josejwt.Claims{
			Issuer: clientID, Subject: clientID, Audience: josejwt.Audience{aud}, ID: oauth2.GenerateVerifier(),
			IssuedAt: josejwt.NewNumericDate(now), Expiry: josejwt.NewNumericDate(now.Add(5 * time.Minute)),
		}).Serialize()
		if err != nil {
			t.Fatal(err)
		}
		return raw
	}
	form := func(a string) string {
		return url.Values{"grant_type": {"client_credentials"}, "scope": {"profile"},
			"client_assertion_type": {"urn:ietf:params:oauth:client-assertion-type:jwt-bearer"}, "client_assertion": {a}}.Encode()
	}
	good := assertion(srv.URL + "/oauth2/token")
	if got := postForm(t, srv.URL+"/oauth2/token", form(good), "", ""); got.Status != 200 || got.JSON["access_token"] == nil {
		t.Fatalf("private_key_jwt: %d %s", got.Status, got.Body)
	}
	if got := postForm(t, srv.URL+"/oauth2/token", form(good), "", ""); got.Status != 401 || got.JSON["error"] != "invalid_client" {
		t.Errorf("replayed assertion: %d %s, want 401 invalid_client", got.Status, got.Body)
	}
	if got := postForm(t, srv.URL+"/oauth2/token", form(assertion("https://elsewhere.example/token")), "", ""); got.Status != 401 {
		t.Errorf("assertion for another audience: %d %s, want 401", got.Status, got.Body)
	}
	other, _ := rsa.GenerateKey(rand.Reader, 2048)
	forged, _ := jose.NewSigner(jose.SigningKey{Algorithm: jose.RS256, Key: jose.JSONWebKey{Key: other, KeyID: "k1"}}, nil)
	raw, _ := josejwt.Signed(forged).Claims(josejwt.Claims{Issuer: clientID, Subject: clientID,
		Audience: josejwt.Audience{srv.URL + "/oauth2/token"}, ID: "forged-1", Expiry: josejwt.NewNumericDate(time.Now().Add(time.Minute))}).Serialize()
	if got := postForm(t, srv.URL+"/oauth2/token", form(raw), "", ""); got.Status != 401 {
		t.Errorf("assertion signed with another key: %d %s, want 401", got.Status, got.Body)
	}
}

// TestNativeLoopbackAndPromptNone: a native app may use any loopback port
// (RFC 8252 §7.3); an existing session answers prompt=none silently; an
// id_token_hint for someone else gets login_required.
func TestNativeLoopbackAndPromptNone(t *testing.T) {
	t.Parallel()
	srv := startServer(t, "sqlite", nil)
	srv.createUser(t, "gina", testUserPassword)
	srv.createUser(t, "hugo", testUserPassword)
	nativeID, _ := srv.createClient(t, "--name", "Desktop", "--native", "--public", "--first-party", "--redirect-uri", "http://127.0.0.1/callback")
	ctx := context.Background()
	p, err := gooidc.NewProvider(ctx, srv.URL)
	if err != nil {
		t.Fatal(err)
	}
	redirect := "http://127.0.0.1:53123/callback"
	cfg := &oauth2.Config{ClientID: nativeID, Endpoint: p.Endpoint(), RedirectURL: redirect, Scopes: []string{"openid", "profile"}}
	verifier := oauth2.GenerateVerifier()
	b := newBrowser(t, "http://127.0.0.1:53123/")
	page, _ := b.get(t, cfg.AuthCodeURL("state-0123456789", oauth2.S256ChallengeOption(verifier)))
	if page.URL.Path != "/login" {
		t.Fatalf("native loopback redirect with a port led to %s (%d)", page.URL, page.Status)
	}
	_, resp := b.submit(t, page, "login-submit", map[string]string{"login": "gina", "password": testUserPassword})
	loc, _ := url.Parse(resp.Header.Get("Location"))
	if !strings.HasPrefix(loc.String(), redirect) || loc.Query().Get("code") == "" {
		t.Fatalf("expected a code at %s, got %q", redirect, loc)
	}
	tok, err := cfg.Exchange(ctx, loc.Query().Get("code"), oauth2.VerifierOption(verifier))
	if err != nil {
		t.Fatalf("public client exchange: %v", err)
	}
	ginaID, _ := tok.Extra("id_token").(string)

	// prompt=none with the session: straight back with a code.
	_, resp = b.get(t, cfg.AuthCodeURL("state-0123456789", oauth2.SetAuthURLParam("prompt", "none"), oauth2.S256ChallengeOption(verifier)))
	if loc, _ := url.Parse(resp.Header.Get("Location")); loc == nil || loc.Query().Get("code") == "" {
		t.Fatalf("prompt=none with a session: %d %q", resp.StatusCode, resp.Header.Get("Location"))
	}
	// Hugo's browser presenting Gina's ID token as a hint.
	hb := newBrowser(t, "http://127.0.0.1:53123/")
	page, _ = hb.get(t, cfg.AuthCodeURL("state-0123456789", oauth2.S256ChallengeOption(verifier)))
	hb.submit(t, page, "login-submit", map[string]string{"login": "hugo", "password": testUserPassword})
	_, resp = hb.get(t, cfg.AuthCodeURL("state-0123456789", oauth2.SetAuthURLParam("prompt", "none"),
		oauth2.SetAuthURLParam("id_token_hint", ginaID), oauth2.S256ChallengeOption(verifier)))
	if loc, _ := url.Parse(resp.Header.Get("Location")); loc == nil || loc.Query().Get("error") != "login_required" {
		t.Errorf("hint for another user with prompt=none: %q, want login_required", resp.Header.Get("Location"))
	}
	// Without prompt=none the same mismatch asks Hugo's browser to sign in.
	page, _ = hb.get(t, cfg.AuthCodeURL("state-0123456789", oauth2.SetAuthURLParam("id_token_hint", ginaID), oauth2.S256ChallengeOption(verifier)))
	if page.URL.Path != "/login" {
		t.Errorf("hint for another user led to %s, want the login page", page.URL)
	}
	// A hint that is not our ID token is a bad request.
	_, resp = hb.get(t, cfg.AuthCodeURL("state-0123456789", oauth2.SetAuthURLParam("id_token_hint", "not.a.jwt"), oauth2.S256ChallengeOption(verifier)))
	if loc, _ := url.Parse(resp.Header.Get("Location")); loc == nil || loc.Query().Get("error") != "invalid_request" {
		t.Errorf("garbage id_token_hint: %q, want invalid_request", resp.Header.Get("Location"))
	}
}
