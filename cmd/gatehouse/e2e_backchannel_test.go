package main

import (
	"context"
	"net/http"
	"net/http/httptest"
	"net/url"
	"testing"
	"time"

	gooidc "github.com/coreos/go-oidc/v3/oidc"
	josev4 "github.com/go-jose/go-jose/v4"
	"golang.org/x/oauth2"

	"gatehouse/migrations/dbtest"
)

// TestBackchannelLogout: when a user signs out, a client that registered a
// backchannel_logout_uri receives a logout token it can verify with the
// provider's keys (Back-Channel Logout 1.0 §2.4-2.6).
func TestBackchannelLogout(t *testing.T) {
	t.Parallel()
	for _, dialect := range dbtest.Dialects {
		t.Run(dialect, func(t *testing.T) {
			ctx := context.Background()
			tokens := make(chan string, 4)
			rp := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				tokens <- r.PostFormValue("logout_token")
			}))
			defer rp.Close()
			// The test RP listens on loopback over http.
			srv := startServer(t, dialect, allowPrivateOutbound)
			user := srv.createUser(t, "nina", testUserPassword)
			id, secret := srv.createClient(t, "--name", "Listening App", "--redirect-uri", rpCallback, "--first-party",
				"--post-logout-redirect-uri", rpAfterLogout, "--backchannel-logout-uri", rp.URL+"/backchannel")
			relying := newRelyingParty(t, srv.URL, id, secret)
			b := newBrowser(t, "http://127.0.0.1:9/")
			verifier := oauth2.GenerateVerifier()
			q := signIn(t, b, relying.OAuth.AuthCodeURL("state-0123456789", gooidc.Nonce("nonce-0123456789"), oauth2.S256ChallengeOption(verifier)), "nina", false)
			tok, err := relying.OAuth.Exchange(ctx, q.Get("code"), oauth2.VerifierOption(verifier))
			if err != nil {
				t.Fatal(err)
			}
			idToken, _ := tok.Extra("id_token").(string)
			idt, err := relying.Verifier.Verify(ctx, idToken)
			if err != nil {
				t.Fatal(err)
			}
			var idClaims struct {
				SID string `json:"sid"`
			}
			idt.Claims(&idClaims)

			_, resp := b.get(t, srv.URL+"/oauth2/logout?"+url.Values{"id_token_hint": {idToken}, "post_logout_redirect_uri": {rpAfterLogout}}.Encode())
			if resp.StatusCode != http.StatusSeeOther {
				t.Fatalf("logout answered %d", resp.StatusCode)
			}
			var logoutToken string
			select {
			case logoutToken = <-tokens:
			case <-time.After(15 * time.Second):
				t.Fatal("no logout token reached the client")
			}
			// The RP verifies it like an ID token (signature, iss, aud, exp)…
			lt, err := relying.Provider.Verifier(&gooidc.Config{ClientID: id}).Verify(ctx, logoutToken)
			if err != nil {
				t.Fatalf("logout token does not verify: %v", err)
			}
			var claims struct {
				SID    string                 `json:"sid"`
				Nonce  string                 `json:"nonce"`
				Events map[string]interface{} `json:"events"`
				JTI    string                 `json:"jti"`
			}
			if err := lt.Claims(&claims); err != nil {
				t.Fatal(err)
			}
			// …and checks what makes it a logout token (§2.6).
			if lt.Subject != user.ID || claims.SID != idClaims.SID || claims.Nonce != "" || claims.JTI == "" {
				t.Errorf("logout token claims: sub %q sid %q nonce %q jti %q", lt.Subject, claims.SID, claims.Nonce, claims.JTI)
			}
			if _, ok := claims.Events["http://schemas.openid.net/event/backchannel-logout"]; !ok {
				t.Errorf("events = %v", claims.Events)
			}
			jws, err := josev4.ParseSignedCompact(logoutToken, []josev4.SignatureAlgorithm{josev4.RS256})
			if err != nil || jws.Signatures[0].Header.ExtraHeaders["typ"] != "logout+jwt" {
				t.Errorf("logout token typ header = %v (%v)", jws.Signatures[0].Header.ExtraHeaders["typ"], err)
			}
			// The refresh token issued through that session is revoked too.
			tok.Expiry = time.Now().Add(-time.Minute)
			if _, err := relying.OAuth.TokenSource(ctx, tok).Token(); !isOAuthError(err, "invalid_grant") {
				t.Errorf("refresh after logout: %v, want invalid_grant", err)
			}
		})
	}
}
