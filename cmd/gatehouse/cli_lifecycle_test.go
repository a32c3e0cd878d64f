package main

import (
	"encoding/json"
	"strings"
	"testing"

	"gatehouse/identity"
	"gatehouse/identity/audit"
)

// testCLILifecycle: users show, deactivate, reactivate and delete, and
// users create --invite, on the server's database, each audited as the
// cli; the refusals an operator can meet are usage errors.
func testCLILifecycle(t *testing.T, srv *testServer) {
	ctx := t.Context()
	gil := srv.createUser(t, "gil", testUserPassword)
	statusOf := func(t testing.TB) identity.Status {
		t.Helper()
		u, err := srv.App.Identity.Accounts.GetUser(ctx, gil.ID)
		if err != nil {
			t.Fatal(err)
		}
		return u.Status
	}
	steps := []cliCase{
		{name: "show by name", args: []string{"users", "show", "gil"}, code: 0,
			check: func(t testing.TB, out string) {
				var v map[string]any
				if err := json.Unmarshal([]byte(out), &v); err != nil {
					t.Fatalf("users show prints no JSON: %v\n%s", err, out)
				}
				if v["id"] != gil.ID || v["username"] != "gil" || v["email"] != "gil@example.com" || v["status"] != "active" {
					t.Errorf("users show = %v", v)
				}
				if strings.Contains(strings.ToLower(out), "password") || strings.Contains(out, "argon2") {
					t.Errorf("users show prints a secret:\n%s", out)
				}
			}},
		{name: "show by id", args: []string{"users", "show", gil.ID}, code: 0, want: []string{`"username": "gil"`}},
		{name: "show unknown", args: []string{"users", "show", "nobody"}, code: 2, want: []string{`no user nobody`}},
		{name: "deactivate", args: []string{"users", "deactivate", "gil@example.com"}, code: 0, want: []string{`Deactivated gil`},
			check: func(t testing.TB, _ string) {
				if s := statusOf(t); s != identity.StatusDisabled {
					t.Errorf("status = %s", s)
				}
			}},
		{name: "deactivate again", args: []string{"users", "deactivate", "gil"}, code: 0},
		{name: "show disabled", args: []string{"users", "show", "gil"}, code: 0, want: []string{`"status": "disabled"`}},
		{name: "reactivate", args: []string{"users", "reactivate", gil.ID}, code: 0, want: []string{`Reactivated gil`},
			check: func(t testing.TB, _ string) {
				if s := statusOf(t); s != identity.StatusActive {
					t.Errorf("status = %s", s)
				}
			}},
		{name: "invite without e-mail", args: []string{"users", "create", "--username", "hal", "--invite"}, code: 2,
			want: []string{`the user was not created`, `email: `}},
		{name: "invite", args: []string{"users", "create", "--username", "hal", "--email", "hal@example.com", "--invite", "--role", "manager"}, code: 0,
			want: []string{`Created user hal \(\S+\) and queued an invitation to hal@example.com`}},
		{name: "show invited", args: []string{"users", "show", "hal"}, code: 0, want: []string{`"roles": \[\s*"manager"\s*\]`, `"email_verified": false`}},
		{name: "delete without --yes", args: []string{"users", "delete", "gil"}, code: 2, want: []string{`pass --yes`}},
		{name: "delete", args: []string{"users", "delete", "gil", "--yes"}, code: 0, want: []string{`Deleted gil`}},
		{name: "delete again", args: []string{"users", "delete", "gil", "--yes"}, code: 2, want: []string{`no user gil`}},
	}
	for _, tc := range steps {
		out, code := srv.cli(t, tc.stdin, tc.args...)
		t.Run(tc.name, func(t *testing.T) { checkCLI(t, tc, out, code) })
	}
	entries, err := srv.App.Audit.List(ctx, audit.Filter{UserID: gil.ID})
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, e := range entries {
		if e.ActorID == "cli" {
			got = append(got, e.Action)
		}
	}
	want := []string{audit.ActionUsersDeleted, audit.ActionUsersReactivated, audit.ActionUsersDeactivated}
	if strings.Join(got, " ") != strings.Join(want, " ") {
		t.Errorf("audit of gil by the cli = %v, want %v (newest first)", got, want)
	}
}

// testCLILastAdmin: the last active admin can be neither deactivated nor
// deleted from the command line.
func testCLILastAdmin(t *testing.T, srv *testServer) {
	ctx := t.Context()
	holders, err := srv.App.Identity.UserAdmin.Users.LockActiveRoleHolders(ctx, []string{"admin"})
	if err != nil || len(holders) == 0 {
		t.Fatalf("admins: %v, %v", holders, err)
	}
	for _, id := range holders[1:] {
		if _, err := srv.App.Identity.UserAdmin.Deactivate(ctx, identity.OperatorActor, id); err != nil {
			t.Fatal(err)
		}
	}
	last := holders[0]
	for _, args := range [][]string{{"users", "deactivate", last}, {"users", "delete", last, "--yes"}} {
		out, code := srv.cli(t, "", args...)
		checkCLI(t, cliCase{name: args[1], code: 2, want: []string{`last active user holding users:admin`}}, out, code)
	}
	if u, err := srv.App.Identity.Accounts.GetUser(ctx, last); err != nil || u.Status != identity.StatusActive {
		t.Errorf("the last admin after the refusals: %+v, %v", u, err)
	}
}
