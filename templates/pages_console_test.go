package templates

import (
	"bytes"
	"strings"
	"testing"
)

// TestConsolePagesRender renders each console page with data in every
// part, as the sample render at New does not.
func TestConsolePagesRender(t *testing.T) {
	r, err := New(Theme{PrimaryColor: "#2563eb"})
	if err != nil {
		t.Fatal(err)
	}
	nav := ConsoleNav{Links: []ConsoleLink{{ID: "nav-users", Href: "/admin/users", Label: "Users"}}, Current: "/admin/users", UserName: "ada", LogoutURL: "/logout"}
	user := ConsoleUserPage{Nav: nav, CSRF: "tok", Notice: "Saved.", Alert: "Refused.",
		User:     ConsoleUser{ID: "id-1", Username: "pete", Name: "Pete P", Email: "p@example.com", EmailVerified: true, Roles: []string{"user", "manager"}, Active: true, Locked: "Locked"},
		Sessions: []ConsoleSession{{Device: "Firefox", IP: "127.0.0.1", SignedInWith: "pwd"}},
		Factors:  []ConsoleFactor{{Kind: "Passkey", Name: "key", Added: "today", LastUsed: "now"}},
		Audit:    []ConsoleAuditEntry{{Time: "now", Action: "users.created", Actor: "admin x", Outcome: "success"}},
		Actions: ConsoleUserActions{EditURL: "/e", RolesURL: "/r", ConfirmDeactivateURL: "/d", ConfirmEndSessionsURL: "/s", ConfirmDeleteURL: "/x",
			ReactivateAction: "/ra", SendResetAction: "/sr", UnlockAction: "/u"}}
	form := ConsoleUserFormPage{Nav: nav, CSRF: "tok", Title: "Create", Action: "/a", Create: true, Values: ConsoleUserValues{Username: "mia", Invite: true},
		Roles: []ConsoleRoleOption{{Name: "manager", Description: "Sees usage", Checked: true}}, Errors: map[string]string{"email": "Bad address.", "invite": "Other."}, Alert: "No."}
	tests := []struct {
		name   string
		render func(*bytes.Buffer) error
		want   []string
	}{
		{"home", func(b *bytes.Buffer) error {
			return r.ConsoleHome(b, ConsoleHomePage{Nav: nav, Sections: []ConsoleSection{{ConsoleLink: nav.Links[0], Description: "Find users."}}})
		}, []string{`id="home-nav-users"`, `aria-current="page"`, `class="card card-wide"`}},
		{"users", func(b *bytes.Buffer) error {
			return r.ConsoleUsers(b, ConsoleUsersPage{Nav: nav, Query: ConsoleUserQuery{Q: "pe", Role: "admin"}, Roles: []string{"admin"},
				Errors: map[string]string{"q": "Longer."}, Users: []ConsoleUserRow{{URL: "/admin/users/1", Username: "pete"}}, NextURL: "/next", NewUserURL: "/new"})
		}, []string{`id="q-error"`, `id="users-next"`, `<option value="admin" selected>`, `href="/admin/users/1"`}},
		{"user", func(b *bytes.Buffer) error { return r.ConsoleUser(b, user) },
			[]string{`id="user-reactivate"`, `id="console-alert"`, `user, manager`, `users.created`, `id="notice"`}},
		{"confirm", func(b *bytes.Buffer) error {
			return r.ConsoleConfirm(b, ConsoleConfirmPage{Nav: nav, CSRF: "tok", Title: "Delete?", Action: "/x", Button: "Delete", ButtonID: "confirm-delete", CancelURL: "/c"})
		}, []string{`id="confirm-delete"`, `name="csrf" value="tok"`}},
		{"form", func(b *bytes.Buffer) error { return r.ConsoleUserForm(b, form) },
			[]string{`id="email-error"`, `Other.`, `id="role-manager" name="roles" type="checkbox" autocomplete="off" value="manager" checked`, `autocomplete="new-password"`}},
		{"roles", func(b *bytes.Buffer) error {
			return r.ConsoleRoles(b, ConsoleRolesPage{Nav: nav, CSRF: "tok", Action: "/r", UserName: "pete", ETag: `"abc"`, Roles: form.Roles})
		}, []string{`name="etag" value="&#34;abc&#34;"`, `id="roles-save"`}},
		{"clients", func(b *bytes.Buffer) error {
			return r.ConsoleClients(b, ConsoleClientsPage{Nav: nav, NewClientURL: "/new", Notice: "Deleted.",
				Clients: []ConsoleClientRow{{URL: "/admin/clients/c1", ID: "c1", Name: "Wiki", Grants: "client_credentials", FirstParty: true}}})
		}, []string{`id="clients-new"`, `href="/admin/clients/c1"`, `id="notice"`}},
		{"client", func(b *bytes.Buffer) error {
			return r.ConsoleClient(b, ConsoleClientPage{Nav: nav, Secret: "s3cret", EditURL: "/e", ConfirmRotateURL: "/r", ConfirmDeleteURL: "/d",
				Client: ConsoleClient{ID: "c1", Grants: []string{"a", "b"}, RedirectURIs: []string{"https://x/cb"}}})
		}, []string{`value="s3cret"`, `Copy the client secret now`, `id="client-rotate"`, `a, b`}},
		{"client form", func(b *bytes.Buffer) error {
			return r.ConsoleClientForm(b, ConsoleClientFormPage{Nav: nav, CSRF: "tok", Title: "Edit", Action: "/e",
				Values: ConsoleClientValues{RedirectURIs: "bad", Grants: []ConsoleOption{{Value: "client_credentials", Label: "CC", Checked: true}}},
				Errors: map[string]string{"redirect_uris": "Not a URI.", "jwks": "No keys."}})
		}, []string{`id="redirect_uris-error"`, `No keys.`, `value="client_credentials" checked`, `name="csrf" value="tok"`}},
		{"audit", func(b *bytes.Buffer) error {
			return r.ConsoleAudit(b, ConsoleAuditPage{Nav: nav, Query: ConsoleAuditQuery{Action: "users.created"}, NextURL: "/older",
				Errors: map[string]string{"since": "A date."}, Entries: []ConsoleAuditRow{{Seq: "7", Action: "users.created"}},
				Chain: &ConsoleChainStatus{Seq: 7, Problem: "gap"}})
		}, []string{`id="since-error"`, `id="audit-older"`, `broken at entry 7: gap`, `value="users.created"`}},
	}
	for _, tc := range tests {
		var b bytes.Buffer
		if err := tc.render(&b); err != nil {
			t.Errorf("%s: %v", tc.name, err)
			continue
		}
		for _, w := range tc.want {
			if !strings.Contains(b.String(), w) {
				t.Errorf("%s: %q missing from\n%s", tc.name, w, b.String())
			}
		}
	}
}
