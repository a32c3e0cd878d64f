package main

import (
	"context"
	"net/http"
	"slices"
	"strings"
	"testing"
	"time"

	"golang.org/x/oauth2"

	"gatehouse/config"
	"gatehouse/federation/ldap/ldaptest"
	"gatehouse/identity"
	"gatehouse/identity/audit"
	"gatehouse/migrations/dbtest"
)

// ldapConnector is the configuration of a connector on dir, as an
// OpenLDAP deployment writes it.
func ldapConnector(dir *ldaptest.Server) config.Connector {
	return config.Connector{ID: "corp", Type: "ldap", Name: "Example directory", LDAP: config.LDAPConnector{
		URL: dir.URL, StartTLS: true, CAFile: dir.CAFile,
		BindDN: ldaptest.ReaderDN, BindPassword: config.Secret(ldaptest.ReaderPW),
		UserBaseDN: ldaptest.PeopleDN, UserFilter: "(&(objectClass=inetOrgPerson)(uid={username})(!(description=disabled)))",
		GroupBaseDN: ldaptest.GroupsDN,
		RoleRules:   []config.LDAPRoleRule{{Group: "admins", Role: "admin"}, {Group: "staff", Role: "manager"}},
		Timeout:     config.Duration(2 * time.Second),
	}}
}

// TestLDAPSignIn: a directory user signs in on the hosted login page
// within an authorization, never told of the directory, and the ID token
// carries the roles of their groups. When the directory stops, its users
// are told to try later and local accounts still sign in. A directory
// user asking for a password reset is mailed where to change it, and the
// page answers as for anyone.
func TestLDAPSignIn(t *testing.T) {
	t.Parallel()
	for _, dialect := range dbtest.Dialects {
		t.Run(dialect, func(t *testing.T) { testLDAPSignIn(t, dialect) })
	}
}

func testLDAPSignIn(t *testing.T, dialect string) {
	ctx := context.Background()
	dir := ldaptest.Start(t, "")
	mb := startMailbox(t)
	srv := startServer(t, dialect, func(c *config.Config) {
		withDelivery(mb, nil, false)(c)
		c.Connectors = []config.Connector{ldapConnector(dir)}
	})
	srv.createUser(t, "kate", testUserPassword)
	id, secret := srv.createClient(t, "--name", "Roles App", "--redirect-uri", rpCallback, "--first-party",
		"--scope", "openid profile email roles")
	rp := newRelyingParty(t, srv.URL, id, secret)
	rp.OAuth.Scopes = []string{"openid", "profile", "email", "roles"}

	login := func(t *testing.T, username, password string) (*page, *http.Response, string) {
		t.Helper()
		verifier := oauth2.GenerateVerifier()
		b := newBrowser(t, rpCallback)
		p, _ := b.get(t, rp.OAuth.AuthCodeURL("state-0123456789", oauth2.S256ChallengeOption(verifier)))
		if p.URL.Path != "/login" {
			t.Fatalf("authorize led to %s, want the login page", p.URL)
		}
		if strings.Contains(strings.ToLower(p.Body), "ldap") || strings.Contains(p.Body, "Example directory") {
			t.Error("the login page mentions the directory")
		}
		p, resp := b.submit(t, p, "login-submit", map[string]string{"login": username, "password": password})
		return p, resp, verifier
	}

	t.Run("directory user gets the roles of their groups", func(t *testing.T) {
		_, resp, verifier := login(t, "alice", "alice-pass")
		q := callbackQuery(t, resp)
		tok, err := rp.OAuth.Exchange(ctx, q.Get("code"), oauth2.VerifierOption(verifier))
		if err != nil {
			t.Fatalf("Exchange: %v", err)
		}
		raw, _ := tok.Extra("id_token").(string)
		idt, err := rp.Verifier.Verify(ctx, raw)
		if err != nil {
			t.Fatalf("ID token does not verify: %v", err)
		}
		var claims struct {
			Roles    []string `json:"roles"`
			Email    string   `json:"email"`
			Username string   `json:"preferred_username"`
			Given    string   `json:"given_name"`
			AMR      []string `json:"amr"`
		}
		if err := idt.Claims(&claims); err != nil {
			t.Fatal(err)
		}
		slices.Sort(claims.Roles)
		if !slices.Equal(claims.Roles, []string{"admin", "manager"}) || claims.Email != "alice@example.org" ||
			claims.Username != "alice" || claims.Given != "Alice" {
			t.Errorf("ID token claims = %+v; want alice with roles admin and manager", claims)
		}
		entries, err := srv.App.Audit.List(ctx, audit.Filter{UserID: idt.Subject, Action: audit.ActionLoginSucceeded})
		if err != nil || len(entries) != 1 || entries[0].Details["connector_id"] != "corp" || entries[0].Details["amr"] != "pwd" {
			t.Errorf("audit of the sign-in = %+v, %v; want one entry with connector_id corp and amr pwd", entries, err)
		}
	})

	t.Run("wrong password and unknown names read alike", func(t *testing.T) {
		wrong, _, _ := login(t, "alice", "not-her-password")
		unknown, _, _ := login(t, "nobody", "whatever")
		disabled, _, _ := login(t, "carol", "carol-pass")
		for _, p := range []*page{wrong, unknown, disabled} {
			if p.Status != http.StatusOK || !strings.Contains(p.Body, "Incorrect username or password.") {
				t.Errorf("refusal page: status %d, want 200 with the wrong-password message", p.Status)
			}
		}
	})

	t.Run("a directory entry with a local account's address is refused", func(t *testing.T) {
		if _, err := srv.App.Identity.Accounts.CreateUser(ctx, identity.CreateInput{
			Username: "robert", Email: "bob@example.org", Password: testUserPassword, EmailVerified: true,
		}); err != nil {
			t.Fatal(err)
		}
		p, _, _ := login(t, "bob", "bob-pass")
		if p.URL.Path != "/login" || !strings.Contains(p.Body, "already exists here") {
			t.Errorf("first directory login with a local account's address led to %s:\n%s", p.URL, p.Body)
		}
		_, resp, _ := login(t, "robert", testUserPassword)
		callbackQuery(t, resp)
	})

	t.Run("forgotten password of a directory user", func(t *testing.T) {
		b := newBrowser(t, rpCallback)
		p, _ := b.get(t, srv.URL+"/forgot-password")
		dirUser, _ := b.submit(t, p, "forgot-submit", map[string]string{"login": "alice"})
		m := mb.next(t, "alice@example.org")
		if !strings.Contains(m.Text, "Example directory") || strings.Contains(m.Text, "/reset-password") {
			t.Errorf("mail to the directory user:\n%s\nwant where to change the password and no reset link", m.Text)
		}
		p, _ = b.get(t, srv.URL+"/forgot-password")
		local, _ := b.submit(t, p, "forgot-submit", map[string]string{"login": "kate"})
		if dirUser.Status != local.Status || stripCSRF(dirUser.Body) != stripCSRF(local.Body) {
			t.Error("the forgot-password answer tells a directory user from a local one")
		}
	})

	t.Run("directory down", func(t *testing.T) {
		dir.Stop()
		start := time.Now()
		p, _, _ := login(t, "alice", "alice-pass")
		if p.Status != http.StatusServiceUnavailable || !strings.Contains(p.Body, "try again") {
			t.Errorf("with the directory down: status %d; want 503 asking to try again", p.Status)
		}
		if d := time.Since(start); d > 4*time.Second {
			t.Errorf("the answer took %v, beyond the 2s timeout", d)
		}
		_, resp, _ := login(t, "kate", testUserPassword)
		callbackQuery(t, resp)
	})
}

// stripCSRF drops the hidden CSRF token, which differs per page.
func stripCSRF(body string) string {
	var out []string
	for _, line := range strings.Split(body, "\n") {
		if !strings.Contains(line, "csrf") {
			out = append(out, line)
		}
	}
	return strings.Join(out, "\n")
}
