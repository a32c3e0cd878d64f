package main

import (
	"context"
	"crypto"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"encoding/base64"
	"errors"
	"strings"
	"testing"
	"time"

	josev4 "github.com/go-jose/go-jose/v4"
	"golang.org/x/oauth2"
	"golang.org/x/oauth2/clientcredentials"

	"gatehouse/migrations/dbtest"
	"gatehouse/oidc"
)

// TestVerifyAccessToken: the admin API's check of a bearer token, from
// the side of someone presenting what they have: the provider's own
// opaque and JWT access tokens pass and say whose they are; a tampered
// one, one signed by another key, an ID token or a refresh token in
// their place, and a token revoked directly or with its user's sessions
// are ErrInvalidToken.
func TestVerifyAccessToken(t *testing.T) {
	t.Parallel()
	for _, dialect := range dbtest.Dialects {
		t.Run(dialect, func(t *testing.T) { testVerifyAccessToken(t, dialect) })
	}
}

func testVerifyAccessToken(t *testing.T, dialect string) {
	ctx := context.Background()
	srv := startServer(t, dialect, nil)
	p := srv.App.Provider
	alice := srv.createUser(t, "alice", testUserPassword)
	scopes := []string{"openid", "profile", "offline_access"}
	signedIn := func(t *testing.T, args ...string) (*oauth2.Token, string, string) {
		t.Helper()
		id, secret := srv.createClient(t, append([]string{"--name", "App", "--redirect-uri", rpCallback, "--first-party"}, args...)...)
		rp := newRelyingParty(t, srv.URL, id, secret)
		rp.OAuth.Scopes = scopes
		verifier := oauth2.GenerateVerifier()
		q := signIn(t, newBrowser(t, rpCallback), rp.OAuth.AuthCodeURL("state-0123456789", oauth2.S256ChallengeOption(verifier)), "alice", false)
		tok, err := rp.OAuth.Exchange(ctx, q.Get("code"), oauth2.VerifierOption(verifier))
		if err != nil {
			t.Fatalf("Exchange: %v", err)
		}
		return tok, id, secret
	}
	invalid := func(t *testing.T, what, token string) {
		t.Helper()
		if at, err := p.VerifyAccessToken(ctx, token); !errors.Is(err, oidc.ErrInvalidToken) {
			t.Errorf("VerifyAccessToken(%s) = %+v, %v; want ErrInvalidToken", what, at, err)
		}
	}

	for _, format := range []struct {
		name string
		args []string
	}{{"opaque", nil}, {"jwt", []string{"--jwt-access-tokens"}}} {
		t.Run(format.name, func(t *testing.T) {
			tok, clientID, secret := signedIn(t, format.args...)
			at, err := p.VerifyAccessToken(ctx, tok.AccessToken)
			if err != nil {
				t.Fatalf("VerifyAccessToken: %v", err)
			}
			if at.ClientID != clientID || at.Subject != alice.ID || !contains(at.Audience, srv.URL) {
				t.Errorf("VerifyAccessToken = %+v, want client %s, subject %s, audience with %s", at, clientID, alice.ID, srv.URL)
			}
			if got := sorted(at.Scopes); !equalStrings(got, sorted(scopes)) {
				t.Errorf("scopes = %v, want %v", got, sorted(scopes))
			}
			if life := time.Until(at.ExpiresAt); life <= 0 || life > srv.Config.Tokens.AccessTokenLifetime.Std()+time.Second { // stored to the second
				t.Errorf("ExpiresAt = %v, in %v; want within the access token lifetime", at.ExpiresAt, life)
			}

			invalid(t, "the ID token", tok.Extra("id_token").(string))
			invalid(t, "the refresh token", tok.RefreshToken)
			invalid(t, "the empty string", "")
			invalid(t, "the token cut short", tok.AccessToken[:len(tok.AccessToken)-4])
			invalid(t, "the token with a changed last character", flipLast(tok.AccessToken))
			if format.name == "jwt" {
				invalid(t, "the JWT with a changed payload", changedPayload(t, tok.AccessToken))
				invalid(t, "the JWT signed by another key", resigned(t, tok.AccessToken))
			} else {
				invalid(t, "another server's opaque token", "gate_at_"+strings.Repeat("A", 43)+"."+strings.Repeat("B", 43))
			}

			revoke(t, srv.URL, clientID, secret, tok.AccessToken)
			invalid(t, "the revoked token", tok.AccessToken)
		})
	}

	t.Run("user's sessions revoked", func(t *testing.T) {
		tok, _, _ := signedIn(t, "--jwt-access-tokens")
		if _, err := p.VerifyAccessToken(ctx, tok.AccessToken); err != nil {
			t.Fatalf("VerifyAccessToken before: %v", err)
		}
		if out, code := srv.cli(t, "", "users", "revoke-sessions", "alice"); code != 0 {
			t.Fatalf("users revoke-sessions: %d %s", code, out)
		}
		invalid(t, "a token of the signed-out user", tok.AccessToken)
	})

	t.Run("client_credentials", func(t *testing.T) {
		id, secret := srv.createClient(t, "--name", "Service", "--grant-type", "client_credentials", "--scope", "usage:read", "--jwt-access-tokens")
		cc := clientcredentials.Config{ClientID: id, ClientSecret: secret, TokenURL: srv.URL + "/oauth2/token", AuthStyle: oauth2.AuthStyleInHeader}
		tok, err := cc.Token(ctx)
		if err != nil {
			t.Fatal(err)
		}
		at, err := p.VerifyAccessToken(ctx, tok.AccessToken)
		if err != nil {
			t.Fatalf("VerifyAccessToken: %v", err)
		}
		if at.ClientID != id || at.Subject != "" || !at.HasScope("usage:read") || len(at.Scopes) != 1 {
			t.Errorf("VerifyAccessToken = %+v, want client %s, no subject, scope usage:read", at, id)
		}
		if _, code := srv.cli(t, "", "clients", "delete", id); code != 0 {
			t.Fatal("clients delete failed")
		}
		invalid(t, "a token of a deleted client", tok.AccessToken)
	})
}

// flipLast changes a token's last character (a base64url one).
func flipLast(token string) string {
	last := token[len(token)-1]
	repl := byte('A')
	if last == 'A' {
		repl = 'B'
	}
	return token[:len(token)-1] + string(repl)
}

// changedPayload keeps a JWT's header and signature but names another
// subject in its payload.
func changedPayload(t testing.TB, token string) string {
	t.Helper()
	parts := strings.Split(token, ".")
	raw, err := base64.RawURLEncoding.DecodeString(parts[1])
	if err != nil {
		t.Fatal(err)
	}
	changed := strings.Replace(string(raw), `"sub":"`, `"sub":"x`, 1)
	if changed == string(raw) {
		t.Fatalf("no sub claim in %s", raw)
	}
	parts[1] = base64.RawURLEncoding.EncodeToString([]byte(changed))
	return strings.Join(parts, ".")
}

// resigned signs a JWT's header (algorithm, kid, typ) and payload again
// with a key of the attacker's own.
func resigned(t testing.TB, token string) string {
	t.Helper()
	jws := mustParseJWS(t, token)
	h := jws.Signatures[0].Header
	alg := josev4.SignatureAlgorithm(h.Algorithm)
	var key crypto.Signer
	var err error
	if strings.HasPrefix(h.Algorithm, "ES") {
		key, err = ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	} else {
		key, err = rsa.GenerateKey(rand.Reader, 2048)
	}
	if err != nil {
		t.Fatal(err)
	}
	opts := (&josev4.SignerOptions{}).WithType("at+jwt").WithHeader("kid", h.KeyID)
	signer, err := josev4.NewSigner(josev4.SigningKey{Algorithm: alg, Key: key}, opts)
	if err != nil {
		t.Fatal(err)
	}
	out, err := signer.Sign(jws.UnsafePayloadWithoutVerification())
	if err != nil {
		t.Fatal(err)
	}
	s, err := out.CompactSerialize()
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func equalStrings(a, b []string) bool {
	return strings.Join(a, " ") == strings.Join(b, " ")
}
