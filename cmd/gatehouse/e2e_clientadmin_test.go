package main

import (
	"context"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"gatehouse/identity"
	"gatehouse/identity/access"
	"gatehouse/identity/audit"
	"gatehouse/migrations/dbtest"
)

// TestClientSecretRotationAndDeletion: after a rotation, through the CLI
// or the service the admin API calls, only the new secret gets a token at
// the token endpoint; a client without a secret has none to rotate; and
// deleting a client revokes the tokens issued to it.
func TestClientSecretRotationAndDeletion(t *testing.T) {
	t.Parallel()
	for _, dialect := range dbtest.Dialects {
		t.Run(dialect, func(t *testing.T) { testClientSecretRotationAndDeletion(t, dialect) })
	}
}

func testClientSecretRotationAndDeletion(t *testing.T, dialect string) {
	ctx := context.Background()
	srv := startServer(t, dialect, nil)
	rs := introspector{}
	rs.id, rs.secret = srv.createClient(t, "--name", "API", "--grant-type", "client_credentials", "--scope", "profile", "--resource-server")
	id, secret := srv.createClient(t, "--name", "Worker", "--grant-type", "client_credentials", "--scope", "profile", "--audience", rs.id)
	token := func(secret string) rawResponse {
		return postForm(t, srv.URL+"/oauth2/token", "grant_type=client_credentials&scope=profile&audience="+url.QueryEscape(rs.id), id, secret)
	}
	mustRefuse := func(step, secret string) {
		t.Helper()
		if got := token(secret); got.Status != http.StatusUnauthorized || got.JSON["error"] != "invalid_client" {
			t.Errorf("%s: token with the old secret = %d %s, want 401 invalid_client", step, got.Status, got.Body)
		}
	}
	mustIssue := func(step, secret string) string {
		t.Helper()
		got := token(secret)
		at, _ := got.JSON["access_token"].(string)
		if got.Status != http.StatusOK || at == "" {
			t.Fatalf("%s: token with the new secret = %d %s", step, got.Status, got.Body)
		}
		return at
	}

	// The CLI, in a process of its own: the server has not cached the
	// client yet.
	out, code := srv.cli(t, "", "clients", "rotate-secret", id)
	m := clientSecretLine.FindStringSubmatch(out)
	if code != 0 || m == nil || m[1] == secret {
		t.Fatalf("clients rotate-secret exited %d: %s", code, out)
	}
	secret2 := m[1]
	mustRefuse("CLI", secret)
	mustIssue("CLI", secret2)

	// The service inside the server, as the admin API calls it: the
	// server's client cache, which now holds the client, forgets it.
	admin := identity.Actor{UserID: "u-admin", Permissions: access.Set{access.ClientsRead: true, access.ClientsWrite: true}}
	secret3, err := srv.App.Clients.RotateSecret(ctx, admin, id)
	if err != nil {
		t.Fatalf("RotateSecret: %v", err)
	}
	mustRefuse("service", secret2)
	at := mustIssue("service", secret3)

	// A reader cannot rotate: the secret stays.
	if _, err := srv.App.Clients.RotateSecret(ctx, identity.Actor{UserID: "u-reader", Permissions: access.Set{access.ClientsRead: true}}, id); err == nil {
		t.Error("RotateSecret with clients:read only succeeded")
	}
	mustIssue("after a refused rotation", secret3)

	pub, _ := srv.createClient(t, "--name", "SPA", "--public", "--redirect-uri", rpCallback)
	if out, code := srv.cli(t, "", "clients", "rotate-secret", pub); code != 2 || !strings.Contains(out, "without a client secret") {
		t.Errorf("clients rotate-secret of a public client exited %d: %s", code, out)
	}

	rotations, err := srv.App.Audit.List(ctx, audit.Filter{Action: audit.ActionClientSecretRotated})
	if err != nil {
		t.Fatal(err)
	}
	var actors []string
	for _, e := range rotations {
		actors = append(actors, e.ActorID)
		if e.Subject != id {
			t.Errorf("rotation audited for subject %q, want %q", e.Subject, id)
		}
		for k, v := range e.Details {
			for _, s := range []string{secret, secret2, secret3} {
				if strings.Contains(v, s) {
					t.Errorf("the audit entry holds a secret under %q", k)
				}
			}
		}
	}
	if strings.Join(actors, ",") != "u-admin,cli" { // newest first
		t.Errorf("rotations audited by %v, want u-admin then cli", actors)
	}

	if got := introspectRaw(t, srv.URL, rs.id, rs.secret, at); got["active"] != true {
		t.Fatalf("before deletion the resource server sees the token as %v", got)
	}
	if n := clientTokenRows(t, srv, id); n == 0 {
		t.Fatal("no stored token for the client before deletion")
	}
	if err := srv.App.Clients.Delete(ctx, admin, id); err != nil {
		t.Fatalf("Delete: %v", err)
	}
	if got := introspectRaw(t, srv.URL, rs.id, rs.secret, at); got["active"] != false {
		t.Errorf("after deletion the resource server sees the token as %v, want inactive", got)
	}
	if n := clientTokenRows(t, srv, id); n != 0 {
		t.Errorf("%d stored tokens of the deleted client remain", n)
	}
	mustRefuse("deleted", secret3)
}

// clientTokenRows counts the codes and tokens stored for a client.
func clientTokenRows(t testing.TB, srv *testServer, clientID string) int64 {
	t.Helper()
	var n int64
	if err := srv.App.DB.Gorm().Raw(`SELECT COUNT(*) FROM oauth_requests WHERE client_id = ?`, clientID).Scan(&n).Error; err != nil {
		t.Fatal(err)
	}
	return n
}
