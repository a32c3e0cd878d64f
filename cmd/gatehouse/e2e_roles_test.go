package main

import (
	"context"
	"net/url"
	"strings"
	"testing"

	gooidc "github.com/coreos/go-oidc/v3/oidc"
	"github.com/google/go-cmp/cmp"
	"golang.org/x/oauth2"

	"gatehouse/config"
	"gatehouse/identity"
	"gatehouse/identity/access"
	"gatehouse/migrations/dbtest"
)

// TestRolesInTokens: a client granted the "roles" scope finds the user's
// roles, in the configured claim, in the ID token, userinfo, its JWT
// access token and introspection; the same client without the scope
// finds them nowhere. Tokens carry the roles of their authorization: a
// later change reaches the next authorization only.
func TestRolesInTokens(t *testing.T) {
	t.Parallel()
	for _, dialect := range dbtest.Dialects {
		t.Run(dialect, func(t *testing.T) { testRolesInTokens(t, dialect) })
	}
}

// rolesSeen is where one authorization's tokens put the roles claim.
type rolesSeen struct {
	IDToken, Userinfo, AccessToken, Introspection any
}

func testRolesInTokens(t *testing.T, dialect string) {
	ctx := context.Background()
	const claim = "https://gatehouse.test/roles"
	srv := startServer(t, dialect, func(c *config.Config) { c.Tokens.RolesClaim = claim })
	rita := srv.createUser(t, "rita", testUserPassword)
	roles := srv.App.Identity.Roles
	if _, err := roles.CreateRole(ctx, identity.OperatorActor, access.Role{Name: "support", Permissions: []access.Permission{access.UsersRead}}); err != nil {
		t.Fatal(err)
	}
	if _, err := roles.SetRoles(ctx, identity.OperatorActor, rita.ID, []string{"manager", "support"}); err != nil {
		t.Fatal(err)
	}
	id, secret := srv.createClient(t, "--name", "Roles App", "--redirect-uri", rpCallback, "--first-party",
		"--jwt-access-tokens", "--scope", "openid profile roles offline_access")
	rp := newRelyingParty(t, srv.URL, id, secret)

	var disc struct {
		Scopes []string `json:"scopes_supported"`
		Claims []string `json:"claims_supported"`
	}
	if err := rp.Provider.Claims(&disc); err != nil {
		t.Fatal(err)
	}
	if !contains(disc.Scopes, "roles") || !contains(disc.Claims, claim) {
		t.Errorf("discovery scopes %v claims %v; want the roles scope and %s", disc.Scopes, disc.Claims, claim)
	}

	authorize := func(t *testing.T, scopes ...string) (rolesSeen, map[string]any) {
		t.Helper()
		rp.OAuth.Scopes = scopes
		verifier := oauth2.GenerateVerifier()
		q := signIn(t, newBrowser(t, rpCallback), rp.OAuth.AuthCodeURL("state-0123456789", oauth2.S256ChallengeOption(verifier)), "rita", false)
		tok, err := rp.OAuth.Exchange(ctx, q.Get("code"), oauth2.VerifierOption(verifier))
		if err != nil {
			t.Fatalf("Exchange: %v", err)
		}
		raw, _ := tok.Extra("id_token").(string)
		idt, err := rp.Verifier.Verify(ctx, raw)
		if err != nil {
			t.Fatalf("ID token does not verify: %v", err)
		}
		var idClaims, uiClaims map[string]any
		if err := idt.Claims(&idClaims); err != nil {
			t.Fatal(err)
		}
		ui, err := rp.Provider.UserInfo(ctx, oauth2.StaticTokenSource(tok))
		if err != nil {
			t.Fatalf("userinfo: %v", err)
		}
		if err := ui.Claims(&uiClaims); err != nil {
			t.Fatal(err)
		}
		at := mustVerifyAccessTokenJWT(t, srv.URL, tok.AccessToken)
		in := introspect(t, srv.URL, id, secret, tok.AccessToken)
		for name, m := range map[string]map[string]any{"ID token": idClaims, "userinfo": uiClaims, "access token": at, "introspection": in} {
			if _, ok := m["roles"]; ok {
				t.Errorf("%s has a claim named roles, want only the configured %s", name, claim)
			}
		}
		return rolesSeen{idClaims[claim], uiClaims[claim], at[claim], in[claim]}, map[string]any{"access_token": tok.AccessToken, "refresh_token": tok.RefreshToken}
	}
	want := func(roles ...any) rolesSeen { return rolesSeen{roles, roles, roles, roles} }

	t.Run("with the scope", func(t *testing.T) {
		got, tok := authorize(t, gooidc.ScopeOpenID, "profile", "roles", gooidc.ScopeOfflineAccess)
		if diff := cmp.Diff(want("manager", "support"), got); diff != "" {
			t.Errorf("roles claims mismatch (-want +got):\n%s", diff)
		}
		// The roles change; the tokens already issued keep theirs, the
		// next authorization has the new ones.
		if _, err := roles.SetRoles(ctx, identity.OperatorActor, rita.ID, nil); err != nil {
			t.Fatal(err)
		}
		in := introspect(t, srv.URL, id, secret, tok["access_token"].(string))
		if diff := cmp.Diff([]any{"manager", "support"}, in[claim]); diff != "" {
			t.Errorf("introspection after the change (-want +got):\n%s", diff)
		}
		// A refresh copies the grant's session: the roles of the
		// authorization, not those of the refresh.
		refreshed, err := rp.OAuth.TokenSource(ctx, &oauth2.Token{RefreshToken: tok["refresh_token"].(string)}).Token()
		if err != nil {
			t.Fatalf("refresh: %v", err)
		}
		at := mustVerifyAccessTokenJWT(t, srv.URL, refreshed.AccessToken)
		if diff := cmp.Diff([]any{"manager", "support"}, at[claim]); diff != "" {
			t.Errorf("access token of a refresh after the change (-want +got):\n%s", diff)
		}
		got, _ = authorize(t, gooidc.ScopeOpenID, "profile", "roles")
		if diff := cmp.Diff(rolesSeen{[]any{}, []any{}, []any{}, []any{}}, got); diff != "" {
			t.Errorf("roles claims of a user without roles (-want +got):\n%s", diff)
		}
	})
	t.Run("without the scope", func(t *testing.T) {
		if _, err := roles.SetRoles(ctx, identity.OperatorActor, rita.ID, []string{"manager"}); err != nil {
			t.Fatal(err)
		}
		got, _ := authorize(t, gooidc.ScopeOpenID, "profile", gooidc.ScopeOfflineAccess)
		if diff := cmp.Diff(rolesSeen{}, got); diff != "" {
			t.Errorf("roles claims without the scope (-want +got):\n%s", diff)
		}
	})
	t.Run("a client not allowed the scope", func(t *testing.T) {
		// An attacker's client, registered without the roles scope, asks
		// for it anyway: the request is refused before any sign-in.
		otherID, otherSecret := srv.createClient(t, "--name", "No Roles", "--redirect-uri", rpCallback, "--first-party")
		other := newRelyingParty(t, srv.URL, otherID, otherSecret)
		other.OAuth.Scopes = []string{gooidc.ScopeOpenID, "roles"}
		_, resp := newBrowser(t, rpCallback).get(t, other.OAuth.AuthCodeURL("state-0123456789", oauth2.S256ChallengeOption(oauth2.GenerateVerifier())))
		loc, err := url.Parse(resp.Header.Get("Location"))
		if err != nil || !strings.HasPrefix(loc.String(), rpCallback) || loc.Query().Get("error") != "invalid_scope" || loc.Query().Get("code") != "" {
			t.Errorf("authorize with a scope the client may not request: %d Location %q, want a redirect with invalid_scope", resp.StatusCode, resp.Header.Get("Location"))
		}
	})
}
