package main

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/url"
	"regexp"
	"slices"
	"strings"
	"testing"

	gooidc "github.com/coreos/go-oidc/v3/oidc"
	josev4 "github.com/go-jose/go-jose/v4"
	"github.com/google/go-cmp/cmp"
	"golang.org/x/oauth2"
	"golang.org/x/oauth2/clientcredentials"

	"gatehouse/migrations/dbtest"
)

// fetchJWKS returns the key set the server publishes.
func fetchJWKS(t testing.TB, base string) josev4.JSONWebKeySet {
	t.Helper()
	resp, err := http.Get(base + "/.well-known/jwks.json")
	if err != nil {
		t.Fatalf("GET JWKS: %v", err)
	}
	defer resp.Body.Close()
	var set josev4.JSONWebKeySet
	if err := json.NewDecoder(resp.Body).Decode(&set); err != nil || resp.StatusCode != http.StatusOK {
		t.Fatalf("JWKS: status %d, decode error %v", resp.StatusCode, err)
	}
	return set
}

// kids returns the sorted key IDs of a key set.
func kids(set josev4.JSONWebKeySet) []string {
	var out []string
	for _, k := range set.Keys {
		out = append(out, k.KeyID)
	}
	slices.Sort(out)
	return out
}

// mustParseJWS parses a compact JWS signed with one of the provider's
// algorithms.
func mustParseJWS(t testing.TB, token string) *josev4.JSONWebSignature {
	t.Helper()
	jws, err := josev4.ParseSignedCompact(token, []josev4.SignatureAlgorithm{josev4.RS256, josev4.ES256})
	if err != nil {
		t.Fatalf("not a JWS: %v (token %.20q...)", err, token)
	}
	if len(jws.Signatures) != 1 {
		t.Fatalf("JWS has %d signatures, want 1", len(jws.Signatures))
	}
	return jws
}

// mustVerifyAccessTokenJWT checks that token is an RFC 9068 JWT access
// token signed by a key in the server's JWKS and returns its claims.
func mustVerifyAccessTokenJWT(t testing.TB, base, token string) map[string]any {
	t.Helper()
	jws := mustParseJWS(t, token)
	h := jws.Signatures[0].Header
	// RFC 9068 §2.1: typ "at+jwt" (the "application/" prefix may be left out).
	if typ := h.ExtraHeaders[josev4.HeaderType]; typ != "at+jwt" && typ != "application/at+jwt" {
		t.Errorf("access token header typ = %v, want \"at+jwt\"", typ)
	}
	set := fetchJWKS(t, base)
	keys := set.Key(h.KeyID)
	if h.KeyID == "" || len(keys) != 1 {
		t.Fatalf("access token kid %q matches %d keys in JWKS %v", h.KeyID, len(keys), kids(set))
	}
	payload, err := jws.Verify(keys[0])
	if err != nil {
		t.Fatalf("access token signature does not verify against JWKS key %s: %v", h.KeyID, err)
	}
	var claims map[string]any
	if err := json.Unmarshal(payload, &claims); err != nil {
		t.Fatalf("access token payload is not JSON: %v", err)
	}
	return claims
}

// atClaims are the RFC 9068 §2.2 claims a test compares.
type atClaims struct {
	Issuer   string
	Subject  string
	ClientID string
	Scope    []string // sorted
}

// checkATClaims compares the RFC 9068 §2.2 required claims with want and
// checks the ones whose value the test cannot predict.
func checkATClaims(t testing.TB, claims map[string]any, want atClaims) {
	t.Helper()
	str := func(k string) string { s, _ := claims[k].(string); return s }
	scope, ok := claims["scope"].(string)
	if !ok {
		t.Errorf("scope claim = %#v, want a space-separated string (RFC 9068 §2.2.3)", claims["scope"])
	}
	got := atClaims{Issuer: str("iss"), Subject: str("sub"), ClientID: str("client_id"), Scope: strings.Fields(scope)}
	slices.Sort(got.Scope)
	slices.Sort(want.Scope)
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("access token claims mismatch (-want +got):\n%s", diff)
	}
	var aud []string
	switch a := claims["aud"].(type) {
	case string:
		aud = []string{a}
	case []any:
		for _, v := range a {
			if s, ok := v.(string); ok && s != "" {
				aud = append(aud, s)
			}
		}
	}
	if len(aud) == 0 {
		t.Errorf("aud claim = %#v, want a non-empty audience (RFC 9068 §2.2 makes aud REQUIRED)", claims["aud"])
	}
	exp, _ := claims["exp"].(float64)
	iat, _ := claims["iat"].(float64)
	if iat == 0 || exp <= iat {
		t.Errorf("exp %v iat %v, want both set with exp > iat", claims["exp"], claims["iat"])
	}
	if str("jti") == "" {
		t.Errorf("jti claim = %#v, want a token ID", claims["jti"])
	}
}

// TestJWTAccessTokens: a client that chose JWT access tokens gets RFC 9068
// tokens that relying parties can verify offline and that the server
// still treats as revocable, stored tokens.
func TestJWTAccessTokens(t *testing.T) {
	t.Parallel()
	for _, d := range dbtest.Dialects {
		t.Run(d, func(t *testing.T) { testJWTAccessTokens(t, d) })
	}
}

func testJWTAccessTokens(t *testing.T, dialect string) {
	ctx := t.Context()
	srv := startServer(t, dialect, nil)
	user := srv.createUser(t, "alice", testUserPassword)
	id, secret := srv.createClient(t, "--name", "JWT App", "--redirect-uri", rpCallback, "--first-party", "--jwt-access-tokens")
	rp := newRelyingParty(t, srv.URL, id, secret)

	verifier := oauth2.GenerateVerifier()
	q := signIn(t, newBrowser(t, rpCallback), rp.OAuth.AuthCodeURL("state-jwt-0123456789", oauth2.S256ChallengeOption(verifier)), "alice", false)
	tok, err := rp.OAuth.Exchange(ctx, q.Get("code"), oauth2.VerifierOption(verifier))
	if err != nil {
		t.Fatalf("Exchange: %v", err)
	}
	claims := mustVerifyAccessTokenJWT(t, srv.URL, tok.AccessToken)
	checkATClaims(t, claims, atClaims{Issuer: srv.URL, Subject: user.ID, ClientID: id, Scope: rp.OAuth.Scopes})

	ui, err := rp.Provider.UserInfo(ctx, oauth2.StaticTokenSource(tok))
	if err != nil {
		t.Fatalf("UserInfo with a JWT access token: %v", err)
	}
	if ui.Subject != user.ID {
		t.Errorf("userinfo sub = %q, want %q", ui.Subject, user.ID)
	}
	if intro := introspect(t, srv.URL, id, secret, tok.AccessToken); intro["active"] != true || intro["sub"] != user.ID || intro["client_id"] != id {
		t.Errorf("introspection of the JWT access token = %v, want active for %s", intro, user.ID)
	}
	revoke(t, srv.URL, id, secret, tok.AccessToken)
	if intro := introspect(t, srv.URL, id, secret, tok.AccessToken); intro["active"] != false {
		t.Errorf("revoked JWT access token introspects as %v, want inactive", intro)
	}
	if _, err := rp.Provider.UserInfo(ctx, oauth2.StaticTokenSource(tok)); err == nil {
		t.Error("userinfo accepted a revoked JWT access token")
	}

	// client_credentials: the client is the subject (RFC 9068 §2.2).
	svcID, svcSecret := srv.createClient(t, "--name", "JWT Service", "--grant-type", "client_credentials", "--scope", "profile", "--jwt-access-tokens")
	cc := clientcredentials.Config{ClientID: svcID, ClientSecret: svcSecret, TokenURL: rp.Provider.Endpoint().TokenURL, Scopes: []string{"profile"}}
	ccTok, err := cc.Token(ctx)
	if err != nil {
		t.Fatalf("client_credentials: %v", err)
	}
	claims = mustVerifyAccessTokenJWT(t, srv.URL, ccTok.AccessToken)
	checkATClaims(t, claims, atClaims{Issuer: srv.URL, Subject: svcID, ClientID: svcID, Scope: []string{"profile"}})
	if intro := introspect(t, srv.URL, svcID, svcSecret, ccTok.AccessToken); intro["active"] != true || intro["client_id"] != svcID {
		t.Errorf("introspection of the client_credentials JWT = %v, want active", intro)
	}
}

var rotatedLine = regexp.MustCompile(`Now signing with (\S+); published next key (\S+)\.`)

// TestKeyRotation: `keys rotate` promotes the published next key, and
// tokens signed before the rotation stay verifiable.
func TestKeyRotation(t *testing.T) {
	t.Parallel()
	for _, d := range dbtest.Dialects {
		t.Run(d, func(t *testing.T) { testKeyRotation(t, d) })
	}
}

func testKeyRotation(t *testing.T, dialect string) {
	ctx := t.Context()
	srv := startServer(t, dialect, nil)
	srv.createUser(t, "alice", testUserPassword)
	id, secret := srv.createClient(t, "--name", "Rotating App", "--redirect-uri", rpCallback, "--first-party")
	rp := newRelyingParty(t, srv.URL, id, secret)
	b := newBrowser(t, rpCallback)

	verifier := oauth2.GenerateVerifier()
	q := signIn(t, b, rp.OAuth.AuthCodeURL("state-rotate-0123456", oauth2.S256ChallengeOption(verifier)), "alice", false)
	oldID := exchangeIDToken(t, rp, q.Get("code"), verifier)
	if _, err := rp.Verifier.Verify(ctx, oldID); err != nil {
		t.Fatalf("ID token before rotation does not verify: %v", err)
	}
	oldKid := mustParseJWS(t, oldID).Signatures[0].Header.KeyID
	before := kids(fetchJWKS(t, srv.URL))
	if len(before) != 2 || !slices.Contains(before, oldKid) {
		t.Fatalf("JWKS at start = %v, want the current key %s and a next key", before, oldKid)
	}

	out, code := srv.cli(t, "", "keys", "rotate")
	if code != 2 || !strings.Contains(out, "too recently") || !strings.Contains(out, "--force") {
		t.Fatalf("keys rotate right after start exited %d: %q; want 2 and a message that the next key is too young", code, out)
	}
	out, code = srv.cli(t, "", "keys", "rotate", "--force")
	m := rotatedLine.FindStringSubmatch(out)
	if code != 0 || m == nil {
		t.Fatalf("keys rotate --force exited %d: %q", code, out)
	}
	newCur, newNext := m[1], m[2]
	if !slices.Contains(before, newCur) || newCur == oldKid {
		t.Errorf("rotation promoted %s, want the published next key (JWKS was %v, current %s)", newCur, before, oldKid)
	}

	out, code = srv.cli(t, "", "keys", "list")
	if code != 0 {
		t.Fatalf("keys list exited %d: %s", code, out)
	}
	want := map[string][]string{"current": {newCur}, "next": {newNext}, "retired": {oldKid}}
	if diff := cmp.Diff(want, keysByState(t, out)); diff != "" {
		t.Errorf("keys list after rotation mismatch (-want +got):\n%s\n%s", diff, out)
	}

	// The server picks up the rotation on its next reload.
	if err := srv.App.Keys.Load(ctx); err != nil {
		t.Fatalf("Keys.Load: %v", err)
	}
	wantKids := []string{oldKid, newCur, newNext}
	slices.Sort(wantKids)
	if diff := cmp.Diff(wantKids, kids(fetchJWKS(t, srv.URL))); diff != "" {
		t.Errorf("JWKS after rotation mismatch (-want +got):\n%s", diff)
	}

	if _, err := rp.Verifier.Verify(ctx, oldID); err != nil {
		t.Errorf("ID token signed before the rotation no longer verifies: %v", err)
	}
	// SSO: the browser session skips the login page.
	verifier = oauth2.GenerateVerifier()
	_, resp := b.get(t, rp.OAuth.AuthCodeURL("state-rotate-0123456", oauth2.S256ChallengeOption(verifier)))
	newID := exchangeIDToken(t, rp, callbackQuery(t, resp).Get("code"), verifier)
	if kid := mustParseJWS(t, newID).Signatures[0].Header.KeyID; kid != newCur {
		t.Errorf("ID token after rotation signed with kid %q, want the new current key %q", kid, newCur)
	}
	if _, err := rp.Verifier.Verify(ctx, newID); err != nil {
		t.Errorf("ID token signed after the rotation does not verify: %v", err)
	}

	// The retired key still vouches for an id_token_hint.
	b.CheckRedirect = func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }
	p, _ := b.get(t, srv.URL+"/oauth2/logout?"+url.Values{"id_token_hint": {oldID}}.Encode())
	if p.Status != http.StatusOK && (p.Status < 300 || p.Status > 399) {
		t.Errorf("logout with an id_token_hint signed by the retired key answered %d, want 200 or a redirect:\n%s", p.Status, p.Body)
	}
}

// exchangeIDToken redeems a code and returns the raw ID token.
func exchangeIDToken(t testing.TB, rp *relyingParty, code, verifier string) string {
	t.Helper()
	tok, err := rp.OAuth.Exchange(context.Background(), code, oauth2.VerifierOption(verifier))
	if err != nil {
		t.Fatalf("Exchange: %v", err)
	}
	raw, _ := tok.Extra("id_token").(string)
	if raw == "" {
		t.Fatal("no id_token in the token response")
	}
	return raw
}

// keysByState parses `keys list` into key IDs by state.
func keysByState(t testing.TB, out string) map[string][]string {
	t.Helper()
	lines := strings.Split(strings.TrimSpace(out), "\n")
	if len(lines) == 0 || !strings.HasPrefix(lines[0], "KEY ID") {
		t.Fatalf("keys list printed no header:\n%s", out)
	}
	got := map[string][]string{}
	for _, l := range lines[1:] {
		f := strings.Fields(l)
		if len(f) < 3 {
			t.Fatalf("keys list line %q has too few columns", l)
		}
		got[f[2]] = append(got[f[2]], f[0])
	}
	return got
}

// TestDynamicRegistration: RFC 7591 registration behind the initial
// access token, the registered client working in both grants, and RFC
// 7592 read and delete with the registration access token.
func TestDynamicRegistration(t *testing.T) {
	t.Parallel()
	for _, d := range dbtest.Dialects {
		t.Run(d, func(t *testing.T) { testDynamicRegistration(t, d) })
	}
}

// registrationResult is the part of an RFC 7591 §3.2.1 response the test reads.
type registrationResult struct {
	ClientID                string   `json:"client_id"`
	ClientSecret            string   `json:"client_secret"`
	RegistrationAccessToken string   `json:"registration_access_token"`
	RegistrationClientURI   string   `json:"registration_client_uri"`
	ClientName              string   `json:"client_name"`
	RedirectURIs            []string `json:"redirect_uris"`
	GrantTypes              []string `json:"grant_types"`
	ResponseTypes           []string `json:"response_types"`
	Scope                   string   `json:"scope"`
	TokenEndpointAuthMethod string   `json:"token_endpoint_auth_method"`
}

// metadata is the registered metadata of r, for comparisons.
func (r registrationResult) metadata() registrationResult {
	return registrationResult{ClientName: r.ClientName, RedirectURIs: r.RedirectURIs, GrantTypes: r.GrantTypes,
		ResponseTypes: r.ResponseTypes, Scope: r.Scope, TokenEndpointAuthMethod: r.TokenEndpointAuthMethod}
}

// registrationCall sends one request to a registration endpoint.
func registrationCall(t testing.TB, method, target, token string, body any) (*http.Response, []byte) {
	t.Helper()
	var rd io.Reader
	if body != nil {
		raw, err := json.Marshal(body)
		if err != nil {
			t.Fatal(err)
		}
		rd = bytes.NewReader(raw)
	}
	req, err := http.NewRequest(method, target, rd)
	if err != nil {
		t.Fatal(err)
	}
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatalf("%s %s: %v", method, target, err)
	}
	defer resp.Body.Close()
	out, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return resp, out
}

func testDynamicRegistration(t *testing.T, dialect string) {
	ctx := t.Context()
	srv := startServer(t, dialect, nil)
	user := srv.createUser(t, "alice", testUserPassword)

	var disco struct {
		RegistrationEndpoint string `json:"registration_endpoint"`
	}
	p, err := gooidc.NewProvider(ctx, srv.URL)
	if err != nil {
		t.Fatalf("discovery: %v", err)
	}
	if err := p.Claims(&disco); err != nil {
		t.Fatal(err)
	}
	endpoint := srv.URL + "/oauth2/register"
	if disco.RegistrationEndpoint != endpoint {
		t.Fatalf("discovery registration_endpoint = %q, want %q", disco.RegistrationEndpoint, endpoint)
	}

	request := map[string]any{
		"client_name":                "DCR app",
		"redirect_uris":              []string{rpCallback},
		"grant_types":                []string{"authorization_code", "refresh_token", "client_credentials"},
		"response_types":             []string{"code"},
		"scope":                      "openid profile offline_access",
		"token_endpoint_auth_method": "client_secret_post",
	}
	wantMeta := registrationResult{
		ClientName: "DCR app", RedirectURIs: []string{rpCallback},
		GrantTypes:    []string{"authorization_code", "refresh_token", "client_credentials"},
		ResponseTypes: []string{"code"}, Scope: "openid profile offline_access", TokenEndpointAuthMethod: "client_secret_post",
	}

	t.Run("refused", func(t *testing.T) {
		resp, body := registrationCall(t, http.MethodPost, endpoint, "", request)
		if resp.StatusCode != http.StatusUnauthorized || !strings.HasPrefix(resp.Header.Get("WWW-Authenticate"), "Bearer") {
			t.Errorf("registration without a token: %d WWW-Authenticate %q, want 401 with a Bearer challenge: %s",
				resp.StatusCode, resp.Header.Get("WWW-Authenticate"), body)
		}
		bad := map[string]any{"client_name": "Bad", "redirect_uris": []string{"http://example.com/callback"}}
		resp, body = registrationCall(t, http.MethodPost, endpoint, testInitialAccessToken, bad)
		var e struct {
			Error string `json:"error"`
		}
		json.Unmarshal(body, &e)
		if resp.StatusCode != http.StatusBadRequest || e.Error != "invalid_redirect_uri" {
			t.Errorf("registration with an http redirect to a public host: %d %s, want 400 invalid_redirect_uri", resp.StatusCode, body)
		}
	})

	resp, body := registrationCall(t, http.MethodPost, endpoint, testInitialAccessToken, request)
	if resp.StatusCode != http.StatusCreated {
		t.Fatalf("registration: %d %s, want 201", resp.StatusCode, body)
	}
	var reg registrationResult
	if err := json.Unmarshal(body, &reg); err != nil {
		t.Fatal(err)
	}
	if reg.ClientID == "" || reg.ClientSecret == "" || reg.RegistrationAccessToken == "" ||
		reg.RegistrationClientURI != endpoint+"/"+reg.ClientID {
		t.Fatalf("registration response lacks identifiers: %s", body)
	}
	if diff := cmp.Diff(wantMeta, reg.metadata()); diff != "" {
		t.Errorf("registered metadata mismatch (-want +got):\n%s", diff)
	}

	// client_credentials with client_secret_post.
	cc := clientcredentials.Config{ClientID: reg.ClientID, ClientSecret: reg.ClientSecret, TokenURL: p.Endpoint().TokenURL,
		Scopes: []string{"profile"}, AuthStyle: oauth2.AuthStyleInParams}
	if _, err := cc.Token(ctx); err != nil {
		t.Fatalf("client_credentials with the registered client: %v", err)
	}

	// The code flow through a go-oidc relying party.
	rp := newRelyingParty(t, srv.URL, reg.ClientID, reg.ClientSecret)
	rp.OAuth.Endpoint.AuthStyle = oauth2.AuthStyleInParams
	rp.OAuth.Scopes = []string{gooidc.ScopeOpenID, "profile", gooidc.ScopeOfflineAccess}
	verifier := oauth2.GenerateVerifier()
	q := signIn(t, newBrowser(t, rpCallback), rp.OAuth.AuthCodeURL("state-dcr-0123456789", oauth2.S256ChallengeOption(verifier)), "alice", true)
	tok, err := rp.OAuth.Exchange(ctx, q.Get("code"), oauth2.VerifierOption(verifier))
	if err != nil {
		t.Fatalf("Exchange with the registered client: %v", err)
	}
	raw, _ := tok.Extra("id_token").(string)
	idt, err := rp.Verifier.Verify(ctx, raw)
	if err != nil {
		t.Fatalf("ID token for the registered client does not verify: %v", err)
	}
	if idt.Subject != user.ID || tok.RefreshToken == "" {
		t.Errorf("ID token sub %q, refresh token present %v; want %q and true", idt.Subject, tok.RefreshToken != "", user.ID)
	}

	// RFC 7592 §2.1: read with the registration access token.
	resp, body = registrationCall(t, http.MethodGet, reg.RegistrationClientURI, reg.RegistrationAccessToken, nil)
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("read registration: %d %s", resp.StatusCode, body)
	}
	var read registrationResult
	if err := json.Unmarshal(body, &read); err != nil {
		t.Fatal(err)
	}
	if read.ClientID != reg.ClientID || read.ClientSecret != "" || read.RegistrationClientURI != reg.RegistrationClientURI {
		t.Errorf("read registration identifiers: %s", body)
	}
	if diff := cmp.Diff(wantMeta, read.metadata()); diff != "" {
		t.Errorf("read metadata mismatch (-want +got):\n%s", diff)
	}
	if resp, _ := registrationCall(t, http.MethodGet, reg.RegistrationClientURI, testInitialAccessToken, nil); resp.StatusCode != http.StatusUnauthorized {
		t.Errorf("read registration with the initial access token: %d, want 401", resp.StatusCode)
	}

	// RFC 7592 §2.3: delete, after which the client cannot authenticate.
	resp, body = registrationCall(t, http.MethodDelete, reg.RegistrationClientURI, reg.RegistrationAccessToken, nil)
	if resp.StatusCode != http.StatusNoContent {
		t.Fatalf("delete registration: %d %s, want 204", resp.StatusCode, body)
	}
	if _, err := cc.Token(ctx); !isOAuthError(err, "invalid_client") {
		t.Errorf("client_credentials after delete: %v, want invalid_client", err)
	}
	if resp, _ := registrationCall(t, http.MethodGet, reg.RegistrationClientURI, reg.RegistrationAccessToken, nil); resp.StatusCode != http.StatusUnauthorized {
		t.Errorf("read registration after delete: %d, want 401", resp.StatusCode)
	}
}
