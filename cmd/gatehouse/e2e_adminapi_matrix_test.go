package main

import (
	"context"
	"fmt"
	"strings"
	"testing"

	"golang.org/x/oauth2"

	"gatehouse/identity"
	"gatehouse/identity/access"
	"gatehouse/migrations/dbtest"
	"gatehouse/oidc/adminapi"
)

// matrixCall is one operation of the admin API, made concrete: setup
// makes what the call acts on (a user to delete, a client to rotate) and
// returns the path and body; ok is its status when allowed.
type matrixCall struct {
	method string
	setup  func(t *testing.T) (path string, body any)
	ok     int
}

// TestAdminAPIPermissionMatrix calls every route of the document
// anonymously, with a bad token, as a plain user, as a manager (allowed
// where the manager role grants the permission: usage:read), as an
// admin, and with service tokens with and without the scope it needs.
// Each caller gets exactly the status expected, and a refused call
// changes nothing: the audit trail's head and every user and client are
// as they were.
func TestAdminAPIPermissionMatrix(t *testing.T) {
	t.Parallel()
	for _, dialect := range dbtest.Dialects {
		t.Run(dialect, func(t *testing.T) { testAdminAPIPermissionMatrix(t, dialect) })
	}
}

func testAdminAPIPermissionMatrix(t *testing.T, dialect string) {
	ctx := context.Background()
	srv := startServer(t, dialect, nil)
	console, consoleSecret := srv.createClient(t, "--name", "Console", "--redirect-uri", rpCallback, "--first-party",
		"--scope", "openid users:read users:write users:admin clients:read clients:write audit:read usage:read")
	userToken := func(name string, roles ...string) string {
		u := srv.createUser(t, name, testUserPassword)
		if _, err := srv.App.Identity.Roles.SetRoles(ctx, identity.OperatorActor, u.ID, roles); err != nil {
			t.Fatal(err)
		}
		rp := newRelyingParty(t, srv.URL, console, consoleSecret)
		rp.OAuth.Scopes = []string{"openid", "users:read", "users:write", "users:admin", "clients:read", "clients:write", "audit:read", "usage:read"}
		verifier := oauth2.GenerateVerifier()
		q := signIn(t, newBrowser(t, rpCallback), rp.OAuth.AuthCodeURL("state-0123456789", oauth2.S256ChallengeOption(verifier)), name, false)
		tok, err := rp.OAuth.Exchange(ctx, q.Get("code"), oauth2.VerifierOption(verifier))
		if err != nil {
			t.Fatalf("Exchange for %s: %v", name, err)
		}
		return tok.AccessToken
	}
	plain, manager, admin := userToken("pat", "user"), userToken("meg", "manager"), userToken("ann", "admin")
	// The same admin's token from an ordinary app, which may not ask for
	// admin scopes: it must never open the API (a confused deputy).
	app, appSecret := srv.createClient(t, "--name", "Ordinary app", "--redirect-uri", rpCallback, "--first-party")
	rp := newRelyingParty(t, srv.URL, app, appSecret)
	verifier := oauth2.GenerateVerifier()
	q := signIn(t, newBrowser(t, rpCallback), rp.OAuth.AuthCodeURL("state-0123456789", oauth2.S256ChallengeOption(verifier)), "ann", false)
	appTok, err := rp.OAuth.Exchange(ctx, q.Get("code"), oauth2.VerifierOption(verifier))
	if err != nil {
		t.Fatal(err)
	}
	adminViaApp := appTok.AccessToken
	// A second admin, so that deleting or deactivating users never meets
	// the last-admin rule.
	userToken("abe", "admin")

	n := 0
	victim := func(t *testing.T) string {
		n++
		return srv.createUser(t, fmt.Sprintf("victim%d", n), testUserPassword).ID
	}
	client := func(t *testing.T) string {
		id, _ := srv.createClient(t, "--name", "Target", "--grant-type", "client_credentials", "--scope", "openid")
		return id
	}
	user := func(suffix string, body any) func(t *testing.T) (string, any) {
		return func(t *testing.T) (string, any) { return "/users/" + victim(t) + suffix, body }
	}
	fixed := func(path string, body any) func(t *testing.T) (string, any) {
		return func(t *testing.T) (string, any) { return path, body }
	}
	calls := map[string]matrixCall{
		"searchUsers": {"GET", fixed("/users?limit=5", nil), 200},
		"createUser": {"POST", func(t *testing.T) (string, any) {
			n++
			return "/users", map[string]any{"username": fmt.Sprintf("new%d", n), "password": "a long passphrase 91"}
		}, 201},
		"lookupUsers":       {"POST", fixed("/users/lookup", map[string]any{"emails": []string{"ann@example.com"}}), 200},
		"getUser":           {"GET", user("", nil), 200},
		"updateUser":        {"PATCH", user("", map[string]any{"given_name": "Changed"}), 200},
		"deleteUser":        {"DELETE", user("", nil), 204},
		"setUserRoles":      {"PUT", user("/roles", map[string]any{"roles": []string{"manager"}}), 200},
		"deactivateUser":    {"POST", user("/deactivate", nil), 200},
		"reactivateUser":    {"POST", user("/reactivate", nil), 200},
		"sendPasswordReset": {"POST", user("/password-reset", nil), 204},
		"unlockUser":        {"POST", user("/unlock", nil), 200},
		"endUserSessions":   {"DELETE", user("/sessions", nil), 204},
		"listRoles":         {"GET", fixed("/roles", nil), 200},
		"listClients":       {"GET", fixed("/clients", nil), 200},
		"createClient":      {"POST", fixed("/clients", map[string]any{"client_name": "Made", "grant_types": []string{"client_credentials"}}), 201},
		"getClient":         {"GET", func(t *testing.T) (string, any) { return "/clients/" + client(t), nil }, 200},
		"updateClient": {"PUT", func(t *testing.T) (string, any) {
			return "/clients/" + client(t), map[string]any{"client_name": "Renamed", "grant_types": []string{"client_credentials"}}
		}, 200},
		"deleteClient":       {"DELETE", func(t *testing.T) (string, any) { return "/clients/" + client(t), nil }, 204},
		"rotateClientSecret": {"POST", func(t *testing.T) (string, any) { return "/clients/" + client(t) + "/secret", nil }, 200},
		"listAuditEntries":   {"GET", fixed("/audit?limit=5", nil), 200},
		"getUsageReport":     {"GET", fixed("/usage?from=2026-01-01&to=2026-01-31", nil), 200},
	}

	ops := adminapi.Operations()
	if len(ops) != len(calls) {
		t.Errorf("the document has %d operations, the matrix %d: add the new ones here", len(ops), len(calls))
	}
	allScopes := "users:read users:write users:admin clients:read clients:write audit:read usage:read"
	for _, op := range ops {
		call, ok := calls[op.ID]
		if !ok {
			t.Errorf("operation %s is not in the matrix", op.ID)
			continue
		}
		if call.method != op.Method {
			t.Errorf("%s: matrix says %s, document %s", op.ID, call.method, op.Method)
		}
		need := string(op.Permission)
		others := strings.Join(strings.Fields(strings.ReplaceAll(" "+allScopes+" ", " "+need+" ", " ")), " ")
		t.Run(op.ID, func(t *testing.T) {
			type refusal struct {
				who, token string
				status     int
				wwwAuth    string
			}
			refusals := []refusal{
				{"anonymous", "", 401, `Bearer realm=`},
				{"bad token", "not-a-token", 401, `error="invalid_token"`},
				{"plain user", plain, 403, `error="insufficient_scope"`},
				{"admin through an ordinary app", adminViaApp, 403, `error="insufficient_scope"`},
				{"service without " + need, srv.serviceToken(t, others), 403, `scope="` + need + `"`},
			}
			allowed := []struct{ name, token string }{{"admin", admin}, {"service with " + need, srv.serviceToken(t, need)}}
			// The manager role grants usage:read and nothing else.
			if access.PermissionsOf([]string{"manager"}, nil).Has(op.Permission) {
				allowed = append(allowed, struct{ name, token string }{"manager", manager})
			} else {
				refusals = append(refusals, refusal{"manager", manager, 403, `error="insufficient_scope"`})
			}
			path, body := call.setup(t)
			for _, r := range refusals {
				before := snapshot(t, srv)
				got := adminAPI{base: srv.URL, token: r.token}.call(t, call.method, path, body)
				got.problem(t, r.status)
				if h := got.Header.Get("WWW-Authenticate"); !strings.HasPrefix(h, "Bearer ") || !strings.Contains(h, r.wwwAuth) {
					t.Errorf("%s: WWW-Authenticate %q, want %q in it", r.who, h, r.wwwAuth)
				}
				if r.token == "" && strings.Contains(got.Header.Get("WWW-Authenticate"), "error=") {
					t.Errorf("anonymous: an error code in %q (RFC 6750 §3.1 says none)", got.Header.Get("WWW-Authenticate"))
				}
				if after := snapshot(t, srv); after != before {
					t.Errorf("%s: a refused %s %s changed something:\nbefore %s\nafter  %s", r.who, call.method, path, before, after)
				}
			}
			for _, who := range allowed {
				path, body := call.setup(t)
				got := adminAPI{base: srv.URL, token: who.token}.call(t, call.method, path, body)
				if got.Status != call.ok {
					t.Errorf("%s: %s %s answered %d, want %d: %s", who.name, call.method, path, got.Status, call.ok, got.Body)
				}
			}
		})
	}
}

// snapshot sums up what a refused call must not change: the audit
// trail's length and every user's and client's last change.
func snapshot(t *testing.T, srv *testServer) string {
	t.Helper()
	var s struct {
		Audit, Users, Clients string
	}
	db := srv.App.DB.Gorm()
	for _, q := range []struct {
		sql  string
		into *string
	}{
		{"SELECT COUNT(*) || '/' || COALESCE(MAX(seq), 0) FROM audit_entries", &s.Audit},
		{"SELECT COUNT(*) || '/' || COALESCE(CAST(MAX(updated_at) AS TEXT), '') || '/' || COUNT(DISTINCT status) FROM users", &s.Users},
		{"SELECT COUNT(*) || '/' || COALESCE(CAST(MAX(updated_at) AS TEXT), '') FROM oauth_clients", &s.Clients},
	} {
		if err := db.Raw(q.sql).Scan(q.into).Error; err != nil {
			t.Fatalf("%s: %v", q.sql, err)
		}
	}
	return s.Audit + " " + s.Users + " " + s.Clients
}
