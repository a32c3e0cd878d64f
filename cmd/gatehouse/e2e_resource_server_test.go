package main

// The two ways a resource server checks Gatehouse's access tokens, as
// README.md's "Calling Gatehouse from other services" shows them: the
// code blocks there are copied from this file, and TestReadmeExamples
// fails when they differ.

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"os"
	"regexp"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	jose "github.com/go-jose/go-jose/v4"
	"github.com/go-jose/go-jose/v4/jwt"
	"golang.org/x/oauth2"
	"golang.org/x/oauth2/clientcredentials"

	"gatehouse/migrations/dbtest"
)

// AccessTokens checks Gatehouse's RFC 9068 JWT access tokens at a
// resource server, against the keys Gatehouse publishes (its JWKS).
type AccessTokens struct {
	Issuer   string // Gatehouse's issuer URL, exactly as in its tokens
	Audience string // this API, as Gatehouse's tokens name it in aud
	HTTP     *http.Client

	mu      sync.Mutex
	keys    jose.JSONWebKeySet
	fetched time.Time
}

// Claims are what an API decides on.
type Claims struct {
	jwt.Claims        // iss, sub (the user, or the client itself), aud, exp
	ClientID   string `json:"client_id"`
	Scope      string `json:"scope"`
}

// Verify returns the claims of token if it is a valid Gatehouse access
// token for this API that was granted scope.
func (a *AccessTokens) Verify(ctx context.Context, token, scope string) (*Claims, error) {
	tok, err := jwt.ParseSigned(token, []jose.SignatureAlgorithm{jose.RS256, jose.ES256})
	if err != nil {
		return nil, err
	}
	h := tok.Headers[0]
	// RFC 9068 §4: typ at+jwt keeps an ID token from passing as an
	// access token.
	if typ := h.ExtraHeaders[jose.HeaderType]; typ != "at+jwt" && typ != "application/at+jwt" {
		return nil, errors.New("not an access token")
	}
	key, err := a.key(ctx, h.KeyID)
	if err != nil {
		return nil, err
	}
	var c Claims
	if err := tok.Claims(key, &c); err != nil {
		return nil, err // the signature does not verify
	}
	if c.Expiry == nil { // go-jose checks exp only when present
		return nil, errors.New("token without exp")
	}
	want := jwt.Expected{Issuer: a.Issuer, AnyAudience: jwt.Audience{a.Audience}, Time: time.Now()}
	if err := c.ValidateWithLeeway(want, 30*time.Second); err != nil {
		return nil, err
	}
	if !slices.Contains(strings.Fields(c.Scope), scope) {
		return nil, fmt.Errorf("scope %q was not granted", scope)
	}
	return &c, nil
}

// key returns the key kid names from the cached JWKS. The set is fetched
// again when it is an hour old or names no such key (Gatehouse rotated
// its keys), but not more than twice a minute.
func (a *AccessTokens) key(ctx context.Context, kid string) (*jose.JSONWebKey, error) {
	a.mu.Lock()
	defer a.mu.Unlock()
	if k := a.keys.Key(kid); len(k) > 0 && time.Since(a.fetched) < time.Hour {
		return &k[0], nil
	}
	if time.Since(a.fetched) > 30*time.Second {
		req, err := http.NewRequestWithContext(ctx, http.MethodGet, a.Issuer+"/.well-known/jwks.json", nil)
		if err != nil {
			return nil, err
		}
		resp, err := a.HTTP.Do(req)
		if err != nil {
			return nil, err
		}
		defer resp.Body.Close()
		var set jose.JSONWebKeySet
		if resp.StatusCode != http.StatusOK {
			return nil, fmt.Errorf("JWKS: %s", resp.Status)
		}
		if err := json.NewDecoder(resp.Body).Decode(&set); err != nil {
			return nil, err
		}
		a.keys, a.fetched = set, time.Now()
	}
	if k := a.keys.Key(kid); len(k) > 0 {
		return &k[0], nil
	}
	return nil, fmt.Errorf("unknown signing key %q", kid)
}

// Introspection is Gatehouse's answer about a token (RFC 7662 §2.2).
type Introspection struct {
	Active   bool     `json:"active"`
	Scope    string   `json:"scope"`
	ClientID string   `json:"client_id"`
	Subject  string   `json:"sub"`
	Audience []string `json:"aud"`
	Expiry   int64    `json:"exp"`
}

// Introspect asks Gatehouse about token, authenticated as this resource
// server's own client. An error (503 while Gatehouse's database is down,
// say) tells nothing about the token: do not take it for inactive.
func Introspect(ctx context.Context, issuer, clientID, secret, token string) (*Introspection, error) {
	form := url.Values{"token": {token}, "token_type_hint": {"access_token"}}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, issuer+"/oauth2/introspect", strings.NewReader(form.Encode()))
	if err != nil {
		return nil, err
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	// RFC 6749 §2.3.1: the credentials are form-encoded inside Basic.
	req.SetBasicAuth(url.QueryEscape(clientID), url.QueryEscape(secret))
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return nil, fmt.Errorf("introspection: %s", resp.Status)
	}
	var in Introspection
	if err := json.NewDecoder(resp.Body).Decode(&in); err != nil {
		return nil, err
	}
	return &in, nil
}

// TestResourceServerExamples runs README.md's two resource-server
// examples against a real server: a service's JWT access token for the
// API passes both with its scope, and each refuses what it must.
func TestResourceServerExamples(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	srv := startServer(t, dbtest.Dialects[0], nil)
	const api = "https://api.example.com"
	apiID, apiSecret := srv.createClient(t, "--name", "Users API", "--grant-type", "client_credentials",
		"--resource-server", "--resource-audience", api)
	svcID, svcSecret := srv.createClient(t, "--name", "Sync", "--grant-type", "client_credentials",
		"--scope", "users:read", "--audience", api, "--jwt-access-tokens")
	cc := clientcredentials.Config{ClientID: svcID, ClientSecret: svcSecret, TokenURL: srv.URL + "/oauth2/token",
		AuthStyle: oauth2.AuthStyleInHeader, EndpointParams: url.Values{"audience": {api}}}
	tok, err := cc.Token(ctx)
	if err != nil {
		t.Fatal(err)
	}

	tokens := &AccessTokens{Issuer: srv.URL, Audience: api, HTTP: http.DefaultClient}
	c, err := tokens.Verify(ctx, tok.AccessToken, "users:read")
	if err != nil {
		t.Fatalf("Verify: %v", err)
	}
	if c.ClientID != svcID || c.Subject != svcID {
		t.Errorf("claims = %+v, want the service's client_id and sub", c)
	}
	if _, err := tokens.Verify(ctx, tok.AccessToken, "users:write"); err == nil {
		t.Error("Verify accepted a scope that was not granted")
	}
	other := &AccessTokens{Issuer: srv.URL, Audience: "https://other.example.com", HTTP: http.DefaultClient}
	if _, err := other.Verify(ctx, tok.AccessToken, "users:read"); err == nil {
		t.Error("Verify accepted a token for another audience")
	}
	if _, err := tokens.Verify(ctx, resigned(t, tok.AccessToken), "users:read"); err == nil {
		t.Error("Verify accepted a token signed by another key")
	}
	foreign := &AccessTokens{Issuer: "https://id.other.example", Audience: api, HTTP: http.DefaultClient}
	foreign.keys, foreign.fetched = tokens.keys, tokens.fetched
	if _, err := foreign.Verify(ctx, tok.AccessToken, "users:read"); err == nil {
		t.Error("Verify accepted a token of another issuer")
	}
	user := srv.createUser(t, "ivy", testUserPassword)
	appID, appSecret := srv.createClient(t, "--name", "App", "--redirect-uri", rpCallback, "--first-party", "--jwt-access-tokens")
	rp := newRelyingParty(t, srv.URL, appID, appSecret)
	verifier := oauth2.GenerateVerifier()
	q := signIn(t, newBrowser(t, rpCallback), rp.OAuth.AuthCodeURL("state-0123456789", oauth2.S256ChallengeOption(verifier)), user.Username, false)
	userTok, err := rp.OAuth.Exchange(ctx, q.Get("code"), oauth2.VerifierOption(verifier))
	if err != nil {
		t.Fatal(err)
	}
	idp := &AccessTokens{Issuer: srv.URL, Audience: srv.URL, HTTP: http.DefaultClient}
	if _, err := idp.Verify(ctx, userTok.AccessToken, "openid"); err != nil {
		t.Errorf("Verify of a user's access token: %v", err)
	}
	if _, err := idp.Verify(ctx, userTok.Extra("id_token").(string), "openid"); err == nil {
		t.Error("Verify accepted an ID token")
	}

	in, err := Introspect(ctx, srv.URL, apiID, apiSecret, tok.AccessToken)
	if err != nil {
		t.Fatalf("Introspect: %v", err)
	}
	if !in.Active || in.ClientID != svcID || !slices.Contains(strings.Fields(in.Scope), "users:read") || !slices.Contains(in.Audience, api) {
		t.Errorf("Introspect = %+v, want the service's active token for %s with users:read", in, api)
	}
	revoke(t, srv.URL, svcID, svcSecret, tok.AccessToken)
	if in, err := Introspect(ctx, srv.URL, apiID, apiSecret, tok.AccessToken); err != nil || in.Active {
		t.Errorf("Introspect after revocation = %+v, %v; want inactive", in, err)
	}
	if _, err := Introspect(ctx, srv.URL, apiID, "wrong", tok.AccessToken); err == nil {
		t.Error("Introspect with a wrong secret succeeded")
	}
}

// TestReadmeExamples: every Go block of README.md's section on calling
// Gatehouse from other services is code of this file, verbatim, so the
// README shows code that compiles and is tested.
func TestReadmeExamples(t *testing.T) {
	readme, err := os.ReadFile("../../README.md")
	if err != nil {
		t.Fatal(err)
	}
	source, err := os.ReadFile("e2e_resource_server_test.go")
	if err != nil {
		t.Fatal(err)
	}
	_, section, ok := strings.Cut(string(readme), "\n## Calling Gatehouse from other services\n")
	if !ok {
		t.Fatal("README.md has no section \"Calling Gatehouse from other services\"")
	}
	section, _, _ = strings.Cut(section, "\n## ")
	blocks := regexp.MustCompile("(?s)```go\n(.*?)```").FindAllStringSubmatch(section, -1)
	if len(blocks) < 2 {
		t.Fatalf("the section has %d Go blocks, want the two examples", len(blocks))
	}
	for _, b := range blocks {
		if !strings.Contains(string(source), b[1]) {
			t.Errorf("README.md block not found verbatim in e2e_resource_server_test.go:\n%s", b[1])
		}
	}
}
