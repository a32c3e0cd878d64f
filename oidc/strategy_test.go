package oidc

import (
	"bytes"
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/ory/fosite"
	"github.com/ory/fosite/compose"
	"github.com/ory/fosite/handler/oauth2"
	"github.com/ory/fosite/token/jwt"
)

// mustTestProvider assembles the provider with New, over loaded RS256 keys
// and an empty client store. No token store is needed to issue tokens.
func mustTestProvider(t testing.TB) (*Provider, *Keys) {
	t.Helper()
	keys, _, clock := mustLoadedKeys(t, "RS256")
	return New(ProviderConfig{
		Issuer: providerTestIssuer,
		Lifetimes: Lifetimes{
			AccessToken:  time.Hour,
			RefreshToken: 30 * 24 * time.Hour,
			IDToken:      time.Hour,
			Code:         10 * time.Minute,
		},
		TokenSecret: bytes.Repeat([]byte{7}, 32),
		Hasher:      &SecretHasher{Pepper: bytes.Repeat([]byte{8}, 32)},
		Keys:        keys,
		Clients:     &ClientCache{Store: newMemClientStore(), TTL: time.Minute, Now: clock.Now, Issuer: providerTestIssuer},
	}), keys
}

// providerTokenStrategy digs the token strategy New wired out of the
// authorization code handler, so the tests run what the provider runs.
func providerTokenStrategy(t testing.TB, p *Provider) *tokenStrategy {
	t.Helper()
	for _, h := range p.Config.GetTokenEndpointHandlers(t.Context()) {
		ae, ok := h.(*oauth2.AuthorizeExplicitGrantHandler)
		if !ok {
			continue
		}
		cs, ok := ae.AccessTokenStrategy.(*compose.CommonStrategy)
		if !ok {
			t.Fatalf("access token strategy is %T, want *compose.CommonStrategy", ae.AccessTokenStrategy)
		}
		ts, ok := cs.CoreStrategy.(*tokenStrategy)
		if !ok {
			t.Fatalf("core strategy is %T, want *tokenStrategy", cs.CoreStrategy)
		}
		return ts
	}
	t.Fatal("no authorization code handler in the provider")
	return nil
}

// newTokenRequest returns a request by client whose tokens expire in an
// hour. fosite checks expiry against the wall clock.
func newTokenRequest(client *Client) *fosite.AccessRequest {
	s := NewSession()
	s.Subject = "6c1f7b9e-0000-4000-8000-000000000001"
	// As authorize.go fills it for RFC 9068 access tokens.
	s.JWTClaims = &jwt.JWTClaims{Subject: s.Subject, Extra: map[string]interface{}{"client_id": client.ID}}
	exp := time.Now().UTC().Add(time.Hour).Truncate(time.Second)
	for _, tt := range []fosite.TokenType{fosite.AccessToken, fosite.RefreshToken, fosite.AuthorizeCode} {
		s.SetExpiresAt(tt, exp)
	}
	r := fosite.NewAccessRequest(s)
	r.Client = client
	r.GrantScope("openid")
	r.GrantScope("profile")
	r.GrantAudience("https://api.example.com")
	return r
}

// tamper changes one character in the middle of the token's last part.
func tamper(token string) string {
	i := strings.LastIndex(token, ".") + 5
	c := byte('A')
	if token[i] == 'A' {
		c = 'B'
	}
	return token[:i] + string(c) + token[i+1:]
}

type tokenKind struct {
	name      string
	prefix    string
	generate  func(*tokenStrategy, context.Context, fosite.Requester) (string, string, error)
	signature func(*tokenStrategy, context.Context, string) string
	validate  func(*tokenStrategy, context.Context, fosite.Requester, string) error
}

var opaqueTokenKinds = []tokenKind{
	{"access token", prefixAccessToken, (*tokenStrategy).GenerateAccessToken, (*tokenStrategy).AccessTokenSignature, (*tokenStrategy).ValidateAccessToken},
	{"refresh token", prefixRefreshToken, (*tokenStrategy).GenerateRefreshToken, (*tokenStrategy).RefreshTokenSignature, (*tokenStrategy).ValidateRefreshToken},
	{"authorization code", prefixCode, (*tokenStrategy).GenerateAuthorizeCode, (*tokenStrategy).AuthorizeCodeSignature, (*tokenStrategy).ValidateAuthorizeCode},
}

func TestTokenStrategyOpaque(t *testing.T) {
	p, _ := mustTestProvider(t)
	s := providerTokenStrategy(t, p)
	clients := []*Client{
		{ID: "default"},
		{ID: "opaque", ClientMetadata: ClientMetadata{AccessTokenFormat: TokenFormatOpaque}},
	}
	for _, kind := range opaqueTokenKinds {
		for _, client := range clients {
			t.Run(kind.name+"/"+client.ID, func(t *testing.T) {
				ctx := t.Context()
				r := newTokenRequest(client)
				token, sig, err := kind.generate(s, ctx, r)
				if err != nil {
					t.Fatalf("generate: %v", err)
				}
				rest, ok := strings.CutPrefix(token, kind.prefix)
				if !ok {
					t.Fatalf("token %q lacks the prefix %q", token, kind.prefix)
				}
				if _, tokenSig, ok := strings.Cut(rest, "."); !ok || tokenSig != sig {
					t.Errorf("token %q: signature part is not the returned signature %q", token, sig)
				}
				if got := kind.signature(s, ctx, token); got != sig {
					t.Errorf("signature of the token = %q, want %q as generated", got, sig)
				}
				if err := kind.validate(s, ctx, r, token); err != nil {
					t.Errorf("validate a fresh token: %v", err)
				}
				if err := kind.validate(s, ctx, r, tamper(token)); err == nil {
					t.Error("validate accepted a tampered token")
				}
			})
		}
	}
}

func TestTokenStrategyOpaqueAccessTokenRejects(t *testing.T) {
	p, _ := mustTestProvider(t)
	s := providerTokenStrategy(t, p)
	client := &Client{ID: "app"}
	token, _, err := s.GenerateAccessToken(t.Context(), newTokenRequest(client))
	if err != nil {
		t.Fatal(err)
	}
	other, _ := mustTestProvider(t) // same GlobalSecret, so change it
	other.Config.GlobalSecret = bytes.Repeat([]byte{9}, 32)
	foreign, _, err := providerTokenStrategy(t, other).GenerateAccessToken(t.Context(), newTokenRequest(client))
	if err != nil {
		t.Fatal(err)
	}
	refresh, _, err := s.GenerateRefreshToken(t.Context(), newTokenRequest(client))
	if err != nil {
		t.Fatal(err)
	}

	expired := newTokenRequest(client)
	expired.Session.SetExpiresAt(fosite.AccessToken, time.Now().UTC().Add(-time.Minute))

	tests := []struct {
		name  string
		r     fosite.Requester
		token string
		want  error // nil: any error
	}{
		{"tampered", newTokenRequest(client), tamper(token), fosite.ErrTokenSignatureMismatch},
		{"prefix stripped", newTokenRequest(client), strings.TrimPrefix(token, prefixAccessToken), nil},
		{"other secret", newTokenRequest(client), foreign, fosite.ErrTokenSignatureMismatch},
		{"refresh token", newTokenRequest(client), refresh, nil},
		{"expired session", expired, token, fosite.ErrTokenExpired},
		{"empty", newTokenRequest(client), "", nil},
		{"prefix only", newTokenRequest(client), prefixAccessToken, fosite.ErrInvalidTokenFormat},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			err := s.ValidateAccessToken(t.Context(), tc.r, tc.token)
			if err == nil || (tc.want != nil && !errors.Is(err, tc.want)) {
				t.Errorf("ValidateAccessToken: err = %v, want %v", err, tc.want)
			}
		})
	}
}

func TestTokenStrategyJWTAccessToken(t *testing.T) {
	ctx := t.Context()
	p, keys := mustTestProvider(t)
	s := providerTokenStrategy(t, p)
	client := &Client{ID: "api-client", ClientMetadata: ClientMetadata{AccessTokenFormat: TokenFormatJWT}}
	r := newTokenRequest(client)

	token, sig, err := s.GenerateAccessToken(ctx, r)
	if err != nil {
		t.Fatalf("GenerateAccessToken: %v", err)
	}
	if strings.HasPrefix(token, "gate_") {
		t.Errorf("JWT access token %q has an opaque prefix", token)
	}
	parts := strings.Split(token, ".")
	if len(parts) != 3 {
		t.Fatalf("JWT access token has %d parts, want 3: %q", len(parts), token)
	}
	if sig != parts[2] {
		t.Errorf("returned signature %q is not the JWT's signature part %q", sig, parts[2])
	}
	if got := s.AccessTokenSignature(ctx, token); got != sig {
		t.Errorf("AccessTokenSignature = %q, want %q", got, sig)
	}

	h := jwsHeader(t, token)
	if want := mustCurrentKID(t, keys); h.KeyID != want || h.Algorithm != "RS256" {
		t.Errorf("header kid %q alg %q, want %q RS256", h.KeyID, h.Algorithm, want)
	}
	if typ := h.ExtraHeaders["typ"]; typ != "at+jwt" { // RFC 9068 §2.1
		t.Errorf("header typ = %v, want at+jwt", typ)
	}
	dec, err := p.Signer.Decode(ctx, token)
	if err != nil {
		t.Fatalf("Decode: %v", err)
	}
	got := map[string]interface{}{}
	for _, c := range []string{"iss", "sub", "client_id", "scope", "aud", "exp"} {
		got[c] = dec.Claims[c]
	}
	want := map[string]interface{}{
		"iss":       providerTestIssuer,
		"sub":       r.Session.GetSubject(),
		"client_id": client.ID,
		"scope":     "openid profile", // RFC 9068 §2.2.3: a string
		"aud":       []interface{}{"https://api.example.com"},
		"exp":       r.Session.GetExpiresAt(fosite.AccessToken).Unix(),
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("JWT access token claims mismatch (-want +got):\n%s", diff)
	}

	if err := s.ValidateAccessToken(ctx, r, token); err != nil {
		t.Errorf("ValidateAccessToken: %v", err)
	}
	if err := s.ValidateAccessToken(ctx, r, tamper(token)); err == nil {
		t.Error("ValidateAccessToken accepted a tampered JWT")
	}
	if err := s.ValidateAccessToken(ctx, r, prefixAccessToken+token); err == nil {
		t.Error("ValidateAccessToken accepted a JWT dressed as an opaque token")
	}

	// Refresh tokens and codes stay opaque for JWT clients.
	if rt, _, err := s.GenerateRefreshToken(ctx, r); err != nil || !strings.HasPrefix(rt, prefixRefreshToken) {
		t.Errorf("GenerateRefreshToken for a JWT client = %q, %v; want a %s token", rt, err, prefixRefreshToken)
	}
	if code, _, err := s.GenerateAuthorizeCode(ctx, r); err != nil || !strings.HasPrefix(code, prefixCode) {
		t.Errorf("GenerateAuthorizeCode for a JWT client = %q, %v; want a %s code", code, err, prefixCode)
	}
}
