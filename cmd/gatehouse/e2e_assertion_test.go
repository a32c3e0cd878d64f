package main

import (
	"crypto/rand"
	"crypto/rsa"
	"encoding/json"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/go-jose/go-jose/v4"
	josejwt "github.com/go-jose/go-jose/v4/jwt"
	"golang.org/x/oauth2"
)

// assertionClient is a private_key_jwt client registered on a test server.
type assertionClient struct {
	id  string
	key *rsa.PrivateKey
	srv *testServer
}

func registerAssertionClient(t testing.TB, srv *testServer) *assertionClient {
	t.Helper()
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
	return &assertionClient{id: reg.JSON["client_id"].(string), key: key, srv: srv}
}

// sign makes an assertion with the client's key; typ "" leaves the header
// out.
func (a *assertionClient) sign(t testing.TB, typ string, claims josejwt.Claims) string {
	t.Helper()
	opts := &jose.SignerOptions{}
	if typ != "" {
		opts = opts.WithType(jose.ContentType(typ))
	}
	signer, err := jose.NewSigner(jose.SigningKey{Algorithm: jose.RS256, Key: jose.JSONWebKey{Key: a.key, KeyID: "k1"}}, opts)
	if err != nil {
		t.Fatal(err)
	}
	raw, err := josejwt.Signed(signer).Claims(claims).Serialize()
	if err != nil {
		t.Fatal(err)
	}
	return raw
}

// claims are valid claims for the token endpoint, issued now and living
// for lifetime.
func (a *assertionClient) claims(now time.Time, lifetime time.Duration) josejwt.Claims {
	return josejwt.Claims{
		Issuer: a.id, Subject: a.id, Audience: josejwt.Audience{a.srv.URL + "/oauth2/token"}, ID: oauth2.GenerateVerifier(),
		IssuedAt: josejwt.NewNumericDate(now), Expiry: josejwt.NewNumericDate(now.Add(lifetime)),
	}
}

func (a *assertionClient) token(t testing.TB, assertion string) rawResponse {
	t.Helper()
	form := url.Values{"grant_type": {"client_credentials"}, "scope": {"profile"},
		"client_assertion_type": {"urn:ietf:params:oauth:client-assertion-type:jwt-bearer"}, "client_assertion": {assertion}}
	return postForm(t, a.srv.URL+"/oauth2/token", form.Encode(), "", "")
}

// TestClientAssertionRules: a private_key_jwt assertion that is expired,
// not yet valid, issued in the future, of another JWT type, too long-lived
// or replayed is a failed client authentication, 401 invalid_client
// (RFC 7523 §3, §3.2), never a server error.
func TestClientAssertionRules(t *testing.T) {
	t.Parallel()
	srv := startServer(t, "sqlite", nil)
	a := registerAssertionClient(t, srv)
	now := time.Now()
	at := func(d time.Duration) *josejwt.NumericDate { return josejwt.NewNumericDate(now.Add(d)) }
	with := func(edit func(c *josejwt.Claims)) josejwt.Claims {
		c := a.claims(now, time.Minute)
		edit(&c)
		return c
	}
	for _, tc := range []struct {
		name   string
		typ    string
		claims josejwt.Claims
		ok     bool
	}{
		{"valid, no typ", "", a.claims(now, time.Minute), true},
		{"valid, typ JWT", "JWT", a.claims(now, time.Minute), true},
		{"valid, typ client-authentication+jwt", "client-authentication+jwt", a.claims(now, time.Minute), true},
		{"valid, five minutes without iat", "", with(func(c *josejwt.Claims) { c.IssuedAt, c.Expiry = nil, at(4*time.Minute) }), true},
		{"expired", "", with(func(c *josejwt.Claims) { c.IssuedAt, c.Expiry = at(-3*time.Minute), at(-time.Minute) }), false},
		{"not yet valid", "", with(func(c *josejwt.Claims) { c.NotBefore = at(time.Hour) }), false},
		{"issued in the future", "", with(func(c *josejwt.Claims) { c.IssuedAt, c.Expiry = at(time.Hour), at(time.Hour+time.Minute) }), false},
		{"no exp", "", with(func(c *josejwt.Claims) { c.Expiry = nil }), false},
		{"logout token", "logout+jwt", a.claims(now, time.Minute), false},
		{"access token", "at+jwt", a.claims(now, time.Minute), false},
		{"lifetime above five minutes", "", a.claims(now, 10*time.Minute), false},
		{"lifetime above five minutes without iat", "", with(func(c *josejwt.Claims) { c.IssuedAt, c.Expiry = nil, at(time.Hour) }), false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got := a.token(t, a.sign(t, tc.typ, tc.claims))
			if tc.ok {
				if got.Status != http.StatusOK || got.JSON["access_token"] == nil {
					t.Errorf("token endpoint answered %d %s, want a token", got.Status, got.Body)
				}
				return
			}
			if got.Status != http.StatusUnauthorized || got.JSON["error"] != "invalid_client" {
				t.Errorf("token endpoint answered %d %s, want 401 invalid_client", got.Status, got.Body)
			}
		})
	}
	t.Run("replay within the lifetime", func(t *testing.T) {
		raw := a.sign(t, "", a.claims(now, time.Minute))
		if got := a.token(t, raw); got.Status != http.StatusOK {
			t.Fatalf("first use: %d %s", got.Status, got.Body)
		}
		if got := a.token(t, raw); got.Status != http.StatusUnauthorized || got.JSON["error"] != "invalid_client" {
			t.Errorf("replay: %d %s, want 401 invalid_client", got.Status, got.Body)
		}
	})
}
