package main

import (
	"context"
	"net/http"
	"slices"
	"strings"
	"testing"

	"golang.org/x/oauth2"

	"gatehouse/identity"
	"gatehouse/migrations/dbtest"
	"gatehouse/oidc/console"
)

// TestAdminAPIUserLifecycle runs a user's life over the admin API as a
// service would: an invitation that reaches the person through the real
// SMTP server, a change guarded by If-Match, refusals that change nothing,
// roles with the last-admin rule, deactivation that ends the user's
// tokens, deletion; each change is in the audit trail under the client.
func TestAdminAPIUserLifecycle(t *testing.T) {
	t.Parallel()
	for _, dialect := range dbtest.Dialects {
		t.Run(dialect, func(t *testing.T) { testAdminAPIUserLifecycle(t, dialect) })
	}
}

func testAdminAPIUserLifecycle(t *testing.T, dialect string) {
	ctx := context.Background()
	mb := startMailbox(t)
	srv := startServer(t, dialect, withDelivery(mb, nil, false))
	id, secret := srv.createClient(t, "--name", "Provisioning", "--grant-type", "client_credentials",
		"--scope", "users:read users:write users:admin audit:read")
	token := srv.serviceTokenOf(t, id, secret, "users:read users:write users:admin audit:read")
	api := adminAPI{base: srv.URL, token: token}

	// Invite: 201, Location, ETag; the mail's link sets the password.
	var created struct {
		ID     string   `json:"id"`
		Roles  []string `json:"roles"`
		Status string   `json:"status"`
	}
	got := api.call(t, "POST", "/users", map[string]any{
		"username": "maria", "email": "maria@example.com", "given_name": "Maria", "invite": true, "roles": []string{"manager"},
	})
	got.decode(t, http.StatusCreated, &created)
	if got.Header.Get("Location") != "/admin/api/v1/users/"+created.ID || got.Header.Get("ETag") == "" {
		t.Errorf("Location %q, ETag %q", got.Header.Get("Location"), got.Header.Get("ETag"))
	}
	if !slices.Equal(created.Roles, []string{"manager"}) || created.Status != "active" {
		t.Errorf("created %+v", created)
	}
	if err := srv.App.Worker.Drain(ctx); err != nil {
		t.Fatal(err)
	}
	link := mb.next(t, "maria@example.com").link(t, "/set-password")
	b := newBrowser(t, rpCallback)
	p, _ := b.get(t, link)
	const chosen = "maria picked this passphrase"
	p, _ = b.submit(t, p, "reset-submit", map[string]string{"password": chosen})
	mustContain(t, p.Body, "Your password is set", "invitation accepted")
	p, _ = b.get(t, srv.URL+"/login")
	// A manager lands on the usage figures, the console's one page for them.
	if p, _ = b.submit(t, p, "login-submit", map[string]string{"login": "maria", "password": chosen}); p.URL.Path != console.PathUsage {
		t.Fatalf("the invited manager's sign-in led to %s, want %s", p.URL, console.PathUsage)
	}

	// Both a password and an invitation, or neither: the fields are named.
	pr := api.call(t, "POST", "/users", map[string]any{"username": "both", "email": "b@example.com", "password": "a long passphrase 12", "invite": true}).problem(t, http.StatusBadRequest)
	if len(pr.Errors) == 0 {
		t.Errorf("no field named: %+v", pr)
	}
	api.call(t, "POST", "/users", map[string]any{"username": "maria", "password": "a long passphrase 12"}).problem(t, http.StatusConflict)

	// If-Match: the current ETag changes the user; a stale one is 412
	// and changes nothing.
	user := "/users/" + created.ID
	read := api.call(t, "GET", user, nil)
	etag := read.Header.Get("ETag")
	changed := api.call(t, "PATCH", user, map[string]any{"family_name": "Lopez", "phone_number": "+41 44 668 18 00"}, "If-Match", etag)
	var after struct {
		FamilyName  string  `json:"family_name"`
		Phone       string  `json:"phone_number"`
		PhoneOK     bool    `json:"phone_number_verified"`
		GivenName   string  `json:"given_name"`
		LastLoginAt *string `json:"last_login_at"`
	}
	changed.decode(t, http.StatusOK, &after)
	if after.FamilyName != "Lopez" || after.GivenName != "Maria" || after.Phone != "+41446681800" || after.PhoneOK {
		t.Errorf("after PATCH %+v", after)
	}
	if changed.Header.Get("ETag") == etag {
		t.Error("the ETag did not change with the user")
	}
	api.call(t, "PATCH", user, map[string]any{"family_name": "Stale"}, "If-Match", etag).problem(t, http.StatusPreconditionFailed)
	api.call(t, "GET", user, nil).decode(t, http.StatusOK, &after)
	if after.FamilyName != "Lopez" {
		t.Errorf("a stale If-Match changed the user: %+v", after)
	}
	pr = api.call(t, "PATCH", user, map[string]any{"email": "not an address", "birthdate": "yesterday"}).problem(t, http.StatusBadRequest)
	if f := pr.fields(); !slices.Contains(f, "email") || !slices.Contains(f, "birthdate") {
		t.Errorf("bad PATCH names %v, want email and birthdate", f)
	}
	api.call(t, "PATCH", "/users/00000000-0000-4000-8000-000000000000", map[string]any{"nickname": "x"}).problem(t, http.StatusNotFound)

	// Roles: nobody takes users:admin from the last active admin.
	root := srv.createUser(t, "root", testUserPassword)
	if _, err := srv.App.Identity.Roles.SetRoles(ctx, identity.OperatorActor, root.ID, []string{"admin"}); err != nil {
		t.Fatal(err)
	}
	api.call(t, "PUT", "/users/"+root.ID+"/roles", map[string]any{"roles": []string{"user"}}).problem(t, http.StatusConflict)
	api.call(t, "POST", "/users/"+root.ID+"/deactivate", nil).problem(t, http.StatusConflict)
	pr = api.call(t, "PUT", user+"/roles", map[string]any{"roles": []string{"wizard"}}).problem(t, http.StatusBadRequest)
	if !slices.Contains(pr.fields(), "roles") {
		t.Errorf("unknown role names %v", pr.fields())
	}

	// Deactivation ends the user's tokens; reactivation lets them in again.
	rp, rpSecret := srv.createClient(t, "--name", "App", "--redirect-uri", rpCallback, "--first-party")
	relying := newRelyingParty(t, srv.URL, rp, rpSecret)
	verifier := oauth2.GenerateVerifier()
	b = newBrowser(t, rpCallback)
	p, _ = b.get(t, relying.OAuth.AuthCodeURL("state-0123456789", oauth2.S256ChallengeOption(verifier)))
	_, resp := b.submit(t, p, "login-submit", map[string]string{"login": "maria", "password": chosen})
	tok, err := relying.OAuth.Exchange(ctx, callbackQuery(t, resp).Get("code"), oauth2.VerifierOption(verifier))
	if err != nil {
		t.Fatal(err)
	}
	var status struct {
		Status string `json:"status"`
	}
	api.call(t, "POST", user+"/deactivate", nil).decode(t, http.StatusOK, &status)
	if status.Status != "disabled" {
		t.Errorf("after deactivate: %+v", status)
	}
	if in := introspect(t, srv.URL, rp, rpSecret, tok.AccessToken); in["active"] != false {
		t.Errorf("the deactivated user's token introspects %v", in)
	}
	api.call(t, "POST", user+"/reactivate", nil).decode(t, http.StatusOK, &status)
	if status.Status != "active" {
		t.Errorf("after reactivate: %+v", status)
	}

	api.call(t, "DELETE", user, nil).decode(t, http.StatusNoContent, nil)
	api.call(t, "GET", user, nil).problem(t, http.StatusNotFound)

	// The audit trail names the client as the actor of each change.
	var trail struct {
		Entries []struct {
			Action    string `json:"action"`
			ActorType string `json:"actor_type"`
			ActorID   string `json:"actor_id"`
			IP        string `json:"ip"`
		} `json:"entries"`
	}
	api.call(t, "GET", "/audit?actor="+id+"&limit=50", nil).decode(t, http.StatusOK, &trail)
	var actions []string
	for _, e := range trail.Entries {
		actions = append(actions, e.Action)
		if e.ActorType != "client" || e.IP == "" {
			t.Errorf("entry %+v: want the client as actor and the caller's address", e)
		}
	}
	for _, want := range []string{"users.invited", "users.updated", "users.deactivated", "users.reactivated", "users.deleted"} {
		if !slices.Contains(actions, want) {
			t.Errorf("audit by the client has %v, want %s", actions, want)
		}
	}
	if strings.Contains(strings.Join(actions, " "), "roles.changed") {
		t.Errorf("a refused role change was audited: %v", actions)
	}
}
