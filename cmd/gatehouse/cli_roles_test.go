package main

import (
	"testing"

	"github.com/google/go-cmp/cmp"

	"gatehouse/identity"
	"gatehouse/identity/audit"
)

// testCLIRoles: roles list, create and delete, and users set-roles, on
// the server's database, with the refusals an operator can meet (a
// built-in name, an unknown permission or role, a role in use, the last
// admin) as usage errors that say what to do.
func testCLIRoles(t *testing.T, srv *testServer) {
	ctx := t.Context()
	freya := srv.createUser(t, "freya", testUserPassword)
	root := srv.createUser(t, "root", testUserPassword)
	rolesOf := func(t testing.TB, id string) []string {
		t.Helper()
		u, err := srv.App.Identity.Accounts.GetUser(ctx, id)
		if err != nil {
			t.Fatal(err)
		}
		return u.Roles
	}
	steps := []cliCase{
		{name: "list built-in", args: []string{"roles", "list"}, code: 0,
			want: []string{`(?m)^NAME\s+KIND\s+PERMISSIONS`, `(?m)^user\s+built-in\s+-`, `(?m)^manager\s+built-in\s+usage:read\s`,
				`(?m)^admin\s+built-in\s+users:read,users:write,users:admin,clients:read,clients:write,audit:read,usage:read\s`}},
		{name: "create", args: []string{"roles", "create", "support", "--permission", "audit:read", "--permission", "users:read",
			"--description", "Help desk"}, code: 0, want: []string{`Created role support \(users:read,audit:read\)`}},
		{name: "create again", args: []string{"roles", "create", "support", "--permission", "users:read"}, code: 2, want: []string{`already exists`}},
		{name: "create built-in", args: []string{"roles", "create", "admin", "--permission", "usage:read"}, code: 2, want: []string{`built-in role "admin"`}},
		{name: "create bad name", args: []string{"roles", "create", "Help Desk"}, code: 2, want: []string{`invalid role name`}},
		{name: "create unknown permission", args: []string{"roles", "create", "ops", "--permission", "users:everything"}, code: 2,
			want: []string{`unknown permission "users:everything"`}},
		{name: "list custom", args: []string{"roles", "list"}, code: 0, want: []string{`(?m)^support\s+custom\s+users:read,audit:read\s+Help desk$`}},
		{name: "set-roles", args: []string{"users", "set-roles", "freya", "support", "manager"}, code: 0,
			want: []string{`Roles of freya: support manager \(were: none\)`},
			check: func(t testing.TB, _ string) {
				if got := rolesOf(t, freya.ID); !cmp.Equal(got, []string{"support", "manager"}) {
					t.Errorf("stored roles = %v", got)
				}
			}},
		{name: "set-roles unknown role", args: []string{"users", "set-roles", "freya@example.com", "ghost"}, code: 2, want: []string{`unknown role "ghost"`}},
		{name: "set-roles unknown user", args: []string{"users", "set-roles", "nobody", "user"}, code: 2, want: []string{`no user nobody`}},
		{name: "delete in use", args: []string{"roles", "delete", "support"}, code: 2, want: []string{`held by 1 user`}},
		{name: "delete built-in", args: []string{"roles", "delete", "user"}, code: 2, want: []string{`built-in role "user" cannot be deleted`}},
		{name: "clear roles", args: []string{"users", "set-roles", "freya"}, code: 0, want: []string{`Roles of freya: none \(were: support manager\)`}},
		{name: "delete", args: []string{"roles", "delete", "support"}, code: 0, want: []string{`Deleted role support`}},
		{name: "delete again", args: []string{"roles", "delete", "support"}, code: 2, want: []string{`not found`}},
		{name: "users create with an unknown role", stdin: testUserPassword + "\n",
			args: []string{"users", "create", "--username", "fay", "--role", "admn"}, code: 2, want: []string{`unknown role "admn"`},
			check: func(t testing.TB, _ string) {
				if _, _, err := srv.App.Identity.Accounts.Users.FindUserByLogin(ctx, "fay"); err == nil {
					t.Error("the user was created with an unknown role")
				}
			}},
		{name: "make root admin", args: []string{"users", "set-roles", "root", "admin"}, code: 0, want: []string{`Roles of root: admin`}},
	}
	for _, tc := range steps {
		out, code := srv.cli(t, tc.stdin, tc.args...)
		t.Run(tc.name, func(t *testing.T) { checkCLI(t, tc, out, code) })
	}

	// Leave root the only active admin, then try to demote root.
	list, lerr := srv.App.Identity.Roles.Users.LockActiveRoleHolders(ctx, []string{"admin"})
	if lerr != nil {
		t.Fatal(lerr)
	}
	for _, id := range list {
		if id != root.ID {
			if _, err := srv.App.Identity.Roles.SetRoles(ctx, identity.OperatorActor, id, nil); err != nil {
				t.Fatal(err)
			}
		}
	}
	out, code := srv.cli(t, "", "users", "set-roles", "root", "manager")
	checkCLI(t, cliCase{args: []string{"users", "set-roles", "root", "manager"}, code: 2,
		want: []string{`last active user holding users:admin`}}, out, code)
	if got := rolesOf(t, root.ID); !cmp.Equal(got, []string{"admin"}) {
		t.Errorf("root's roles after the refusal = %v, want [admin]", got)
	}

	entries, err := srv.App.Audit.List(ctx, audit.Filter{UserID: freya.ID, Action: audit.ActionRolesChanged})
	if err != nil || len(entries) != 2 || entries[0].ActorID != "cli" || entries[0].Details["old_roles"] != "support,manager" {
		t.Errorf("roles.changed entries of freya = %+v, %v; want two by cli, the latest from support,manager", entries, err)
	}
}
