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
	"gatehouse/oidc/console"
)

// TestConsoleUserActions: each button of a user's page, pressed by an
// administrator, changes the user through the identity service and is
// audited with the administrator as actor; the ones that cannot be
// taken back go through their confirmation page.
func TestConsoleUserActions(t *testing.T) {
	t.Parallel()
	for _, dialect := range dbtest.Dialects {
		t.Run(dialect, func(t *testing.T) {
			t.Parallel()
			ctx := context.Background()
			mb := startMailbox(t)
			srv := startServer(t, dialect, withDelivery(mb, nil, false))
			admin := consoleUser(t, srv, "ada", access.RoleAdmin)
			pete := consoleUser(t, srv, "pete")
			b := consoleSignIn(t, srv, "ada", true)
			peteURL := srv.URL + console.PathUsers + "/" + pete.ID
			getUser := func() *identity.User {
				t.Helper()
				u, err := srv.App.Identity.Accounts.GetUser(ctx, pete.ID)
				if err != nil {
					t.Fatal(err)
				}
				return u
			}
			// press follows the user page's button, through the
			// confirmation page when the button is a link to one.
			press := func(button, confirm, notice string) *page {
				t.Helper()
				p, _ := b.get(t, peteURL)
				if confirm != "" {
					link := regexpAttr(t, p.Body, button, "href")
					p, _ = b.get(t, srv.URL+link)
					button = confirm
				}
				p, _ = b.submit(t, p, button, nil)
				if p.Status != http.StatusOK {
					t.Fatalf("%s: %s %d\n%s", button, p.URL, p.Status, p.Body)
				}
				mustContain(t, p.Body, notice, button)
				return p
			}

			// The lockout of repeated wrong passwords, then the unlock.
			for range srv.Config.Lockout.MaxFailures {
				srv.App.Identity.Auth.Authenticate(ctx, "pete", "wrong password")
			}
			if !getUser().LockedAt(srv.App.Identity.Core.Now()) {
				t.Fatal("pete is not locked")
			}
			mb.next(t, "pete@example.com") // the lockout's mail
			p, _ := b.get(t, peteURL)
			mustContain(t, p.Body, "after failed sign-ins", "lock state on the page")
			press("user-unlock", "", "has been unlocked")
			if getUser().LockedAt(srv.App.Identity.Core.Now()) {
				t.Error("pete is still locked")
			}
			mustAudited(t, srv, pete.ID, admin.ID, audit.ActionUsersUnlocked)

			press("user-send-reset", "", "reset link is on its way")
			if err := srv.App.Worker.Drain(ctx); err != nil {
				t.Fatal(err)
			}
			mb.next(t, "pete@example.com").link(t, "/reset-password")
			mustAudited(t, srv, pete.ID, admin.ID, audit.ActionUsersResetSent)

			peteBrowser := consoleSignIn(t, srv, "pete", true)
			p = press("user-end-sessions", "confirm-end-sessions", "Every session of the user has been ended")
			mustContain(t, p.Body, `id="user-no-sessions"`, "sessions after ending them")
			if p, _ := peteBrowser.get(t, srv.URL+"/account"); p.URL.Path != "/login" {
				t.Errorf("pete's browser after his sessions ended: %s", p.URL)
			}
			mustAudited(t, srv, pete.ID, admin.ID, audit.ActionUsersSessionsEnded)

			p = press("user-deactivate", "confirm-deactivate", "has been deactivated")
			mustContain(t, p.Body, `id="user-reactivate"`, "reactivate offered")
			if getUser().Status != identity.StatusDisabled {
				t.Error("pete is not deactivated")
			}
			mustAudited(t, srv, pete.ID, admin.ID, audit.ActionUsersDeactivated)
			press("user-reactivate", "", "has been reactivated")
			if getUser().Status != identity.StatusActive {
				t.Error("pete is not active again")
			}
			mustAudited(t, srv, pete.ID, admin.ID, audit.ActionUsersReactivated)

			// Roles: pete becomes a manager.
			p, _ = b.get(t, peteURL+"/roles")
			p, _ = b.submit(t, p, "roles-save", map[string]string{"roles": access.RoleManager})
			mustContain(t, p.Body, "The roles have been saved", "roles saved")
			if got := getUser().Roles; len(got) != 1 || got[0] != access.RoleManager {
				t.Errorf("pete's roles %v, want [manager]", got)
			}
			mustAudited(t, srv, pete.ID, admin.ID, audit.ActionRolesChanged)

			// Profile and contact details.
			p, _ = b.get(t, peteURL+"/edit")
			p, _ = b.submit(t, p, "user-save", map[string]string{"given_name": "Peter", "email": "peter@example.com"})
			mustContain(t, p.Body, "The changes have been saved", "profile saved")
			mustContain(t, p.Body, "peter@example.com", "new address shown")
			mustAudited(t, srv, pete.ID, admin.ID, audit.ActionUsersUpdated)
			p, _ = b.get(t, peteURL+"/edit")
			p, _ = b.submit(t, p, "user-save", map[string]string{"email": "not an address"})
			if p.Status != http.StatusUnprocessableEntity || !strings.Contains(p.Body, `id="email-error"`) {
				t.Errorf("bad address: %d, want 422 with the error by the field", p.Status)
			}

			// Recent activity lists what was done, by the administrator.
			p, _ = b.get(t, peteURL)
			mustContain(t, p.Body, audit.ActionUsersDeactivated, "recent activity")
			mustContain(t, p.Body, "admin "+admin.ID, "recent activity's actor")

			press("user-delete", "confirm-delete", "The user has been deleted")
			if _, err := srv.App.Identity.Accounts.GetUser(ctx, pete.ID); err == nil {
				t.Error("pete is still there")
			}
			mustAudited(t, srv, pete.ID, admin.ID, audit.ActionUsersDeleted)
			if p, _ := b.get(t, peteURL); p.Status != http.StatusNotFound {
				t.Errorf("the deleted user's page = %d, want 404", p.Status)
			}
		})
	}
}

// TestConsoleRefusals: what the services refuse is said on the page:
// the last administrator, a change made meanwhile by someone else (the
// ETag the form was made from), a form without its CSRF token.
func TestConsoleRefusals(t *testing.T) {
	t.Parallel()
	for _, dialect := range dbtest.Dialects {
		t.Run(dialect, func(t *testing.T) {
			t.Parallel()
			ctx := context.Background()
			srv := startServer(t, dialect, nil)
			admin := consoleUser(t, srv, "ada", access.RoleAdmin)
			pete := consoleUser(t, srv, "pete")
			b := consoleSignIn(t, srv, "ada", true)
			adaURL := srv.URL + console.PathUsers + "/" + admin.ID
			peteURL := srv.URL + console.PathUsers + "/" + pete.ID

			// The last administrator cannot take away their own role, nor
			// be deactivated.
			p, _ := b.get(t, adaURL+"/roles")
			p, _ = b.submit(t, p, "roles-save", map[string]string{"roles": access.RoleUser})
			if p.Status != http.StatusConflict || !strings.Contains(p.Body, "last active user who can manage roles") {
				t.Errorf("demoting the last admin: %d\n%s", p.Status, p.Body)
			}
			p, _ = b.get(t, adaURL+"/confirm/deactivate")
			p, _ = b.submit(t, p, "confirm-deactivate", nil)
			if p.Status != http.StatusConflict || !strings.Contains(p.Body, "last active user who can manage roles") {
				t.Errorf("deactivating the last admin: %d\n%s", p.Status, p.Body)
			}
			if u, _ := srv.App.Identity.Accounts.GetUser(ctx, admin.ID); u.Status != identity.StatusActive || !u.HasRole(access.RoleAdmin) {
				t.Errorf("the last admin after the refusals: %+v", u)
			}

			// Someone else changes pete between the form and its post.
			edit, _ := b.get(t, peteURL+"/edit")
			roles, _ := b.get(t, peteURL+"/roles")
			nick := "Meanwhile"
			if _, err := srv.App.Identity.UserAdmin.Update(ctx, identity.OperatorActor, pete.ID, identity.UserPatch{Nickname: &nick}, "*"); err != nil {
				t.Fatal(err)
			}
			p, _ = b.submit(t, edit, "user-save", map[string]string{"given_name": "Overwritten"})
			if p.Status != http.StatusConflict || !strings.Contains(p.Body, "Someone changed this user meanwhile") {
				t.Errorf("edit on a stale form: %d\n%s", p.Status, p.Body)
			}
			p, _ = b.submit(t, roles, "roles-save", map[string]string{"roles": access.RoleAdmin})
			if p.Status != http.StatusConflict || !strings.Contains(p.Body, "Someone changed this user meanwhile") {
				t.Errorf("roles on a stale form: %d\n%s", p.Status, p.Body)
			}
			if u, _ := srv.App.Identity.Accounts.GetUser(ctx, pete.ID); u.GivenName == "Overwritten" || u.HasRole(access.RoleAdmin) {
				t.Errorf("a stale form changed pete: %+v", u)
			}
			// The form shown again carries the new ETag: posting it works.
			p, _ = b.submit(t, p, "roles-save", map[string]string{"roles": access.RoleManager})
			mustContain(t, p.Body, "The roles have been saved", "roles after reviewing")

			// A form posted without its CSRF token, as from another site,
			// changes nothing.
			for _, action := range []string{"deactivate", "end-sessions", "delete", "send-reset", "edit", "roles"} {
				resp, err := b.PostForm(peteURL+"/"+action, url.Values{"roles": {access.RoleAdmin}, "given_name": {"Forged"}})
				if err != nil {
					t.Fatal(err)
				}
				resp.Body.Close()
				if resp.StatusCode != http.StatusForbidden {
					t.Errorf("POST %s without the CSRF token = %d, want 403", action, resp.StatusCode)
				}
			}
			resp, err := b.PostForm(srv.URL+console.PathUsers+"/new", url.Values{"username": {"eve"}, "email": {"eve@example.com"}, "invite": {"on"}})
			if err != nil {
				t.Fatal(err)
			}
			resp.Body.Close()
			if resp.StatusCode != http.StatusForbidden {
				t.Errorf("create without the CSRF token = %d, want 403", resp.StatusCode)
			}
			if u, err := srv.App.Identity.Accounts.GetUser(ctx, pete.ID); err != nil || u.Status != identity.StatusActive || u.GivenName == "Forged" {
				t.Errorf("pete after the forged posts: %+v, %v", u, err)
			}
			if _, _, err := srv.App.Identity.Accounts.Users.FindUserByLogin(ctx, "eve"); err == nil {
				t.Error("a forged post created eve")
			}

			// A plain user's post, with a token, is refused too.
			pb := consoleSignIn(t, srv, "pete", false) // a manager lands on the usage figures
			form, _ := pb.get(t, srv.URL+"/account")
			_, vals, _ := findForm(t, form, "profile-save")
			resp, err = pb.PostForm(adaURL+"/deactivate", url.Values{"csrf": {vals.Get("csrf")}})
			if err != nil {
				t.Fatal(err)
			}
			resp.Body.Close()
			if resp.StatusCode != http.StatusForbidden {
				t.Errorf("a manager's deactivate with a token = %d, want 403", resp.StatusCode)
			}
		})
	}
}

// regexpAttr returns attribute name of the element with id in body.
func regexpAttr(t testing.TB, body, id, name string) string {
	t.Helper()
	i := strings.Index(body, `id="`+id+`"`)
	if i < 0 {
		t.Fatalf("no #%s in\n%s", id, body)
	}
	start := strings.LastIndex(body[:i], "<")
	end := i + strings.Index(body[i:], ">")
	tag := body[start:end]
	j := strings.Index(tag, name+`="`)
	if j < 0 {
		t.Fatalf("#%s has no %s: %s", id, name, tag)
	}
	v := tag[j+len(name)+2:]
	return strings.ReplaceAll(v[:strings.Index(v, `"`)], "&amp;", "&")
}
