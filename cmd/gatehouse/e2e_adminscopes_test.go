package main

import (
	"context"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"golang.org/x/oauth2"
	"golang.org/x/oauth2/clientcredentials"

	"gatehouse/identity"
	"gatehouse/identity/access"
	"gatehouse/migrations/dbtest"
)

// TestAdminScopesForServices: a client_credentials client an
// administrator allowed admin scopes gets tokens with those it asks for
// (all of them when it asks for none), never one it was not allowed.
func TestAdminScopesForServices(t *testing.T) {
	t.Parallel()
	for _, dialect := range dbtest.Dialects {
		t.Run(dialect, func(t *testing.T) { testAdminScopesForServices(t, dialect) })
	}
}

func testAdminScopesForServices(t *testing.T, dialect string) {
	ctx := context.Background()
	srv := startServer(t, dialect, nil)
	id, secret := srv.createClient(t, "--name", "Sync Service", "--grant-type", "client_credentials", "--scope", "users:read users:write")
	token := func(t *testing.T, scopes ...string) (*oauth2.Token, error) {
		t.Helper()
		cc := clientcredentials.Config{ClientID: id, ClientSecret: secret, TokenURL: srv.URL + "/oauth2/token", Scopes: scopes, AuthStyle: oauth2.AuthStyleInHeader}
		return cc.Token(ctx)
	}
	for _, tc := range []struct {
		name      string
		requested []string
		want      []string
	}{
		{"narrowed to one", []string{"users:read"}, []string{"users:read"}},
		{"both", []string{"users:write", "users:read"}, []string{"users:read", "users:write"}},
		{"none asked: all allowed", nil, []string{"users:read", "users:write"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			tok, err := token(t, tc.requested...)
			if err != nil {
				t.Fatalf("client_credentials: %v", err)
			}
			// RFC 6749 §5.1: the response names the scope granted.
			respScope, _ := tok.Extra("scope").(string)
			if diff := cmp.Diff(tc.want, sorted(strings.Fields(respScope))); diff != "" {
				t.Errorf("token response scope mismatch (-want +got):\n%s", diff)
			}
			in := introspect(t, srv.URL, id, secret, tok.AccessToken)
			scope, _ := in["scope"].(string)
			if diff := cmp.Diff(tc.want, sorted(strings.Fields(scope))); diff != "" {
				t.Errorf("introspected scope mismatch (-want +got):\n%s", diff)
			}
			if _, ok := in["sub"]; ok && in["sub"] != id {
				t.Errorf("introspected sub = %v, want the client or none", in["sub"])
			}
			at, err := srv.App.Provider.VerifyAccessToken(ctx, tok.AccessToken)
			if err != nil {
				t.Fatalf("VerifyAccessToken: %v", err)
			}
			if at.ClientID != id || at.Subject != "" || !slices.Equal(sorted(at.Scopes), tc.want) {
				t.Errorf("VerifyAccessToken = %+v, want client %s, no subject, scopes %v", at, id, tc.want)
			}
			var perms []string
			for _, p := range at.Permissions().List() {
				perms = append(perms, string(p))
			}
			if diff := cmp.Diff(tc.want, sorted(perms)); diff != "" {
				t.Errorf("Permissions() mismatch (-want +got):\n%s", diff)
			}
		})
	}
	// The service asks beyond what it was allowed.
	for _, scope := range []string{"users:admin", "clients:write", "roles"} {
		if _, err := token(t, "users:read", scope); !isOAuthError(err, "invalid_scope") {
			t.Errorf("client_credentials asking for %q: %v, want invalid_scope", scope, err)
		}
	}
	// Allowing admin scopes is on the record.
	if out, _ := srv.cli(t, "", "audit", "list", "--action", "client.created"); !strings.Contains(out, "users:read users:write") {
		t.Errorf("audit of the client's creation does not name its scopes:\n%s", out)
	}
	// An unknown scope is a usage error of the CLI, not a client.
	if out, code := srv.cli(t, "", "clients", "create", "--name", "Bad", "--grant-type", "client_credentials", "--scope", "users:delete"); code == 0 {
		t.Errorf("clients create with scope users:delete succeeded: %s", out)
	}
}

// TestRegistrationRefusesAdminScopes: whoever holds the initial access
// token cannot register a client, nor update their registered client
// into one, that may ask for an admin scope.
func TestRegistrationRefusesAdminScopes(t *testing.T) {
	t.Parallel()
	srv := startServer(t, "sqlite", nil)
	register := func(method, target, token, body string) rawResponse {
		req, _ := http.NewRequest(method, target, strings.NewReader(body))
		req.Header.Set("Content-Type", "application/json")
		req.Header.Set("Authorization", "Bearer "+token)
		return do(t, req)
	}
	for _, tc := range []struct{ scope, refused string }{
		{"users:read", "users:read"},
		{"openid users:admin", "users:admin"},
		{"profile audit:read usage:read", "audit:read"},
	} {
		body := `{"client_name":"Sneaky","grant_types":["client_credentials"],"response_types":[],"scope":"` + tc.scope + `"}`
		reg := register(http.MethodPost, srv.URL+"/oauth2/register", testInitialAccessToken, body)
		desc, _ := reg.JSON["error_description"].(string)
		if reg.Status != http.StatusBadRequest || reg.JSON["error"] != "invalid_client_metadata" || !strings.Contains(desc, `"`+tc.refused+`"`) {
			t.Errorf("registration with scope %q: %d %s, want 400 invalid_client_metadata naming %s", tc.scope, reg.Status, reg.Body, tc.refused)
		}
	}
	reg := register(http.MethodPost, srv.URL+"/oauth2/register", testInitialAccessToken,
		`{"client_name":"Plain","grant_types":["client_credentials"],"response_types":[],"scope":"profile"}`)
	if reg.Status != http.StatusCreated {
		t.Fatalf("registration: %d %s", reg.Status, reg.Body)
	}
	clientID := reg.JSON["client_id"].(string)
	update := `{"client_id":"` + clientID + `","client_name":"Plain","grant_types":["client_credentials"],"response_types":[],"scope":"profile users:write"}`
	upd := register(http.MethodPut, reg.JSON["registration_client_uri"].(string), reg.JSON["registration_access_token"].(string), update)
	if upd.Status != http.StatusBadRequest || upd.JSON["error"] != "invalid_client_metadata" || !strings.Contains(upd.Body, "users:write") {
		t.Errorf("update adding users:write: %d %s, want 400 invalid_client_metadata naming it", upd.Status, upd.Body)
	}
	cc := clientcredentials.Config{ClientID: clientID, ClientSecret: reg.JSON["client_secret"].(string), TokenURL: srv.URL + "/oauth2/token",
		Scopes: []string{"users:write"}, AuthStyle: oauth2.AuthStyleInHeader}
	if _, err := cc.Token(context.Background()); !isOAuthError(err, "invalid_scope") {
		t.Errorf("registered client asking for users:write: %v, want invalid_scope", err)
	}
}

// TestAdminScopesForUsers: a user's token carries only the admin scopes
// the user's roles grant, and only through a client an administrator
// allowed them; an ordinary application gets none, even for an admin.
func TestAdminScopesForUsers(t *testing.T) {
	t.Parallel()
	for _, dialect := range dbtest.Dialects {
		t.Run(dialect, func(t *testing.T) { testAdminScopesForUsers(t, dialect) })
	}
}

func testAdminScopesForUsers(t *testing.T, dialect string) {
	ctx := context.Background()
	srv := startServer(t, dialect, nil)
	roles := srv.App.Identity.Roles
	if _, err := roles.CreateRole(ctx, identity.OperatorActor, access.Role{Name: "support", Permissions: []access.Permission{access.UsersRead, access.AuditRead}}); err != nil {
		t.Fatal(err)
	}
	for _, u := range []struct {
		name  string
		roles []string
	}{{"ada", []string{"admin"}}, {"manny", []string{"manager"}}, {"sam", []string{"support"}}} {
		user := srv.createUser(t, u.name, testUserPassword)
		if _, err := roles.SetRoles(ctx, identity.OperatorActor, user.ID, u.roles); err != nil {
			t.Fatal(err)
		}
	}
	consoleScopes := []string{"openid", "users:read", "users:write", "users:admin", "audit:read"}
	consoleID, consoleSecret := srv.createClient(t, "--name", "Console", "--redirect-uri", rpCallback, "--first-party",
		"--scope", strings.Join(append(consoleScopes, "offline_access"), " "))
	console := newRelyingParty(t, srv.URL, consoleID, consoleSecret)

	authorize := func(t *testing.T, rp *relyingParty, username string, scopes ...string) *oauth2.Token {
		t.Helper()
		rp.OAuth.Scopes = scopes
		verifier := oauth2.GenerateVerifier()
		q := signIn(t, newBrowser(t, rpCallback), rp.OAuth.AuthCodeURL("state-0123456789", oauth2.S256ChallengeOption(verifier)), username, false)
		tok, err := rp.OAuth.Exchange(ctx, q.Get("code"), oauth2.VerifierOption(verifier))
		if err != nil {
			t.Fatalf("Exchange: %v", err)
		}
		return tok
	}
	granted := func(t *testing.T, tok *oauth2.Token) []string {
		t.Helper()
		at, err := srv.App.Provider.VerifyAccessToken(ctx, tok.AccessToken)
		if err != nil {
			t.Fatalf("VerifyAccessToken: %v", err)
		}
		scope, _ := tok.Extra("scope").(string)
		if diff := cmp.Diff(sorted(at.Scopes), sorted(strings.Fields(scope))); diff != "" {
			t.Errorf("token response scope and the token's own differ (-token +response):\n%s", diff)
		}
		return sorted(at.Scopes)
	}

	for _, tc := range []struct {
		user string
		want []string
	}{
		{"ada", []string{"audit:read", "openid", "users:admin", "users:read", "users:write"}},
		{"manny", []string{"openid"}}, // manager: usage:read only, which was not asked for
		{"sam", []string{"audit:read", "openid", "users:read"}},
	} {
		t.Run("console for "+tc.user, func(t *testing.T) {
			tok := authorize(t, console, tc.user, consoleScopes...)
			if diff := cmp.Diff(tc.want, granted(t, tok)); diff != "" {
				t.Errorf("granted scopes mismatch (-want +got):\n%s", diff)
			}
			in := introspect(t, srv.URL, consoleID, consoleSecret, tok.AccessToken)
			if diff := cmp.Diff(tc.want, sorted(strings.Fields(in["scope"].(string)))); diff != "" {
				t.Errorf("introspected scopes mismatch (-want +got):\n%s", diff)
			}
		})
	}

	t.Run("refresh keeps the grant", func(t *testing.T) {
		tok := authorize(t, console, "sam", append(consoleScopes, "offline_access")...)
		// A refresh cannot widen the grant to what the roles refused.
		wider := url.Values{"grant_type": {"refresh_token"}, "refresh_token": {tok.RefreshToken}, "scope": {"openid users:write"}}
		req, _ := http.NewRequest(http.MethodPost, srv.URL+"/oauth2/token", strings.NewReader(wider.Encode()))
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		req.SetBasicAuth(consoleID, consoleSecret)
		if resp := do(t, req); resp.Status != http.StatusBadRequest || resp.JSON["error"] != "invalid_scope" {
			t.Errorf("refresh asking for users:write beyond the grant: %d %s, want invalid_scope", resp.Status, resp.Body)
		}
		refreshed, err := console.OAuth.TokenSource(ctx, &oauth2.Token{RefreshToken: tok.RefreshToken}).Token()
		if err != nil {
			t.Fatalf("refresh: %v", err)
		}
		if diff := cmp.Diff([]string{"audit:read", "offline_access", "openid", "users:read"}, granted(t, refreshed)); diff != "" {
			t.Errorf("scopes after refresh mismatch (-want +got):\n%s", diff)
		}
	})

	t.Run("an ordinary application never", func(t *testing.T) {
		// The confused deputy: an application the admin signs in to asks
		// for an admin scope it was never allowed. fosite refuses the
		// request before any sign-in, so no code carries it.
		appID, appSecret := srv.createClient(t, "--name", "Photo App", "--redirect-uri", rpCallback, "--first-party")
		app := newRelyingParty(t, srv.URL, appID, appSecret)
		app.OAuth.Scopes = []string{"openid", "users:read"}
		_, resp := newBrowser(t, rpCallback).get(t, app.OAuth.AuthCodeURL("state-0123456789", oauth2.S256ChallengeOption(oauth2.GenerateVerifier())))
		loc, err := url.Parse(resp.Header.Get("Location"))
		if err != nil || !strings.HasPrefix(loc.String(), rpCallback) || loc.Query().Get("error") != "invalid_scope" || loc.Query().Get("code") != "" {
			t.Errorf("authorize with users:read by an ordinary app: %d Location %q, want a redirect with invalid_scope", resp.StatusCode, resp.Header.Get("Location"))
		}
		// Without it the admin's token has no admin scope.
		tok := authorize(t, app, "ada", "openid", "profile")
		if got := granted(t, tok); slices.ContainsFunc(got, func(s string) bool { return strings.Contains(s, ":") }) {
			t.Errorf("ordinary app's token for an admin has scopes %v, want no admin scope", got)
		}
	})

	t.Run("consent names admin scopes", func(t *testing.T) {
		thirdID, thirdSecret := srv.createClient(t, "--name", "Helpdesk", "--redirect-uri", rpCallback, "--scope", "openid users:read")
		third := newRelyingParty(t, srv.URL, thirdID, thirdSecret)
		third.OAuth.Scopes = []string{"openid", "users:read"}
		b := newBrowser(t, rpCallback)
		p, _ := b.get(t, third.OAuth.AuthCodeURL("state-0123456789", oauth2.S256ChallengeOption(oauth2.GenerateVerifier())))
		p, _ = b.submit(t, p, "login-submit", map[string]string{"login": "ada", "password": testUserPassword})
		if p.URL.Path != "/consent" {
			t.Fatalf("login led to %s, want consent", p.URL)
		}
		mustContain(t, p.Body, "Administration: see user accounts", "consent page")
	})
}

func sorted(s []string) []string {
	out := slices.Clone(s)
	slices.Sort(out)
	if out == nil {
		out = []string{}
	}
	return out
}
