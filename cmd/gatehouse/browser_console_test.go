package main

import (
	"context"
	"net/url"
	"testing"

	"gatehouse/identity/access"
	"gatehouse/oidc/console"
)

// TestBrowserConsole: the admin console in Chromium. Asked for before
// signing in, the user search sends the administrator to sign in and
// back; the search, a user's page, the user form, the clients pages and
// the audit trail hold to the pages' accessibility contract, with no
// console error or CSP violation.
func TestBrowserConsole(t *testing.T) {
	t.Parallel()
	srv, _, _, _ := startBrowserServer(t, "sqlite")
	consoleUser(t, srv, "ada", access.RoleAdmin)
	pete := consoleUser(t, srv, "pete")
	clientID, _ := srv.createClient(t, "--name", "Reports", "--grant-type", "client_credentials", "--scope", "openid")
	clientPage := console.PathClients + "/" + url.PathEscape(clientID)

	tb := newTab(t)
	tb.navigate(t, srv.URL+console.PathUsers+"?q=pet")
	if u := tb.arrive(t, "/login"); u.Query().Get("next") != console.PathUsers+"?q=pet" {
		t.Errorf("sign-in page %s, want next back to the search", u)
	}
	tb.fill(t, map[string]string{"login-username": "ada", "login-password": testUserPassword})
	tb.click(t, "login-submit")
	if u := tb.arrive(t, console.PathUsers); u.Query().Get("q") != "pet" {
		t.Errorf("back at %s, want the search for pet", u)
	}
	tb.await(t, "users-table")
	tb.checkAccessible(t)
	tb.shoot(t, "console-users")

	for _, path := range []string{console.PathUsers + "/" + pete.ID, console.PathUsers + "/new",
		console.PathUsers + "/" + pete.ID + "/edit", console.PathUsers + "/" + pete.ID + "/roles",
		console.PathUsers + "/" + pete.ID + "/confirm/deactivate", console.Path,
		console.PathClients, console.PathClients + "/new", clientPage, clientPage + "/edit", clientPage + "/confirm/rotate",
		console.PathAudit, console.PathAudit + "?verify=1&action=users.created"} {
		u, _ := url.Parse(srv.URL + path)
		tb.navigate(t, u.String())
		tb.arrive(t, u.Path)
		tb.checkAccessible(t)
		switch path {
		case console.PathUsers + "/" + pete.ID:
			tb.shoot(t, "console-user")
		case console.PathClients + "/new":
			tb.shoot(t, "console-client-form")
		case console.PathAudit + "?verify=1&action=users.created":
			tb.shoot(t, "console-audit")
		}
	}

	// The usage figures, with enough sign-ins to pass the smallest count
	// shown, once the worker has counted them.
	for _, name := range []string{"una", "ugo", "uli", "ute", "uwe", "ulf"} {
		consoleUser(t, srv, name)
		consoleSignIn(t, srv, name, false)
	}
	for range 5 {
		b := newBrowser(t, "")
		p, _ := b.get(t, srv.URL+"/login")
		b.submit(t, p, "login-submit", map[string]string{"login": "una", "password": "not the password"})
	}
	srv.App.Usage.Worker.Step(context.Background())
	tb.navigate(t, srv.URL+console.PathUsage+"?period=7")
	tb.arrive(t, console.PathUsage)
	tb.checkAccessible(t)
	tb.shoot(t, "usage-dashboard")

	// The page that shows a new client's secret, the one time it does.
	tb.navigate(t, srv.URL+console.PathClients+"/new")
	tb.arrive(t, console.PathClients+"/new")
	tb.fill(t, map[string]string{"client-name": "Wiki", "client-redirect-uris": "https://wiki.example.com/callback"})
	tb.click(t, "client-save")
	tb.await(t, "client-secret")
	tb.checkAccessible(t)
}
