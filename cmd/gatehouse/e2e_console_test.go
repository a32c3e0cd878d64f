package main

import (
	"context"
	"net/http"
	"net/url"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"gatehouse/identity"
	"gatehouse/identity/access"
	"gatehouse/identity/audit"
	"gatehouse/migrations/dbtest"
	"gatehouse/oidc/console"
)

// userLinkRE finds the usernames of the search's result rows.
var userLinkRE = regexp.MustCompile(`<td><a href="/admin/users/[0-9a-f-]{36}">([^<]+)</a></td>`)

// consoleUser creates a user holding roles through the identity service.
func consoleUser(t testing.TB, srv *testServer, username string, roles ...string) *identity.User {
	t.Helper()
	u := srv.createUser(t, username, testUserPassword)
	if len(roles) > 0 {
		var err error
		if u, err = srv.App.Identity.Roles.SetRoles(context.Background(), identity.OperatorActor, u.ID, roles); err != nil {
			t.Fatalf("SetRoles(%s, %v): %v", username, roles, err)
		}
	}
	return u
}

// consoleSignIn signs username in on the sign-in page. With follow
// false, the browser stops at every redirect.
func consoleSignIn(t testing.TB, srv *testServer, username string, follow bool) *browser {
	t.Helper()
	stop := ""
	if follow {
		stop = rpCallback
	}
	b := newBrowser(t, stop)
	p, _ := b.get(t, srv.URL+"/login")
	if p, _ = b.submit(t, p, "login-submit", map[string]string{"login": username, "password": testUserPassword}); p.Status != http.StatusSeeOther && p.Status != http.StatusOK {
		t.Fatalf("sign-in of %s answered %d", username, p.Status)
	}
	return b
}

// TestConsoleAccess: every page of the console, asked for by nobody, a
// plain user, a manager and an administrator. Nobody is sent to sign in
// and back; a plain user gets 403; a manager 403 but for the landing
// page, which sends them to the usage figures; an administrator the
// page. Every answer is no-store.
func TestConsoleAccess(t *testing.T) {
	t.Parallel()
	for _, dialect := range dbtest.Dialects {
		t.Run(dialect, func(t *testing.T) {
			t.Parallel()
			srv := startServer(t, dialect, nil)
			consoleUser(t, srv, "ada", access.RoleAdmin)
			consoleUser(t, srv, "mona", access.RoleManager)
			target := consoleUser(t, srv, "pete")
			u := console.PathUsers + "/" + target.ID
			clientID, _ := srv.createClient(t, "--name", "Target", "--grant-type", "client_credentials", "--scope", "openid")
			cl := console.PathClients + "/" + url.PathEscape(clientID)
			routes := []string{console.Path, console.PathUsers, console.PathUsers + "?q=pete&sort=username&direction=desc",
				console.PathUsers + "/new", u, u + "/edit", u + "/roles", u + "/confirm/deactivate", u + "/confirm/end-sessions", u + "/confirm/delete",
				console.PathClients, console.PathClients + "/new", cl, cl + "/edit", cl + "/confirm/rotate", cl + "/confirm/delete",
				console.PathAudit, console.PathAudit + "?action=users.created&verify=1"}
			browsers := map[string]*browser{
				"anonymous": newBrowser(t, ""),
				"user":      consoleSignIn(t, srv, "pete", false),
				"manager":   consoleSignIn(t, srv, "mona", false),
				"admin":     consoleSignIn(t, srv, "ada", false),
			}
			for who, b := range browsers {
				for _, route := range routes {
					p, resp := b.get(t, srv.URL+route)
					if cc := resp.Header.Get("Cache-Control"); cc != "no-store" {
						t.Errorf("%s GET %s: Cache-Control %q, want no-store", who, route, cc)
					}
					loc := resp.Header.Get("Location")
					switch who {
					case "anonymous":
						if want := "/login?next=" + url.QueryEscape(route); p.Status != http.StatusSeeOther || loc != want {
							t.Errorf("anonymous GET %s = %d to %q, want 303 to %q", route, p.Status, loc, want)
						}
					case "user":
						if p.Status != http.StatusForbidden {
							t.Errorf("plain user GET %s = %d, want 403", route, p.Status)
						}
					case "manager":
						if route == console.Path {
							if p.Status != http.StatusSeeOther || loc != console.PathUsage {
								t.Errorf("manager GET %s = %d to %q, want 303 to %s", route, p.Status, loc, console.PathUsage)
							}
						} else if p.Status != http.StatusForbidden {
							t.Errorf("manager GET %s = %d, want 403", route, p.Status)
						}
					case "admin":
						if p.Status != http.StatusOK {
							t.Errorf("admin GET %s = %d, want 200:\n%s", route, p.Status, p.Body)
						}
					}
				}
			}
			// A page that names no user, or a user that is not there.
			admin := browsers["admin"]
			home, _ := admin.get(t, srv.URL+console.Path)
			for _, id := range []string{`id="home-clients"`, `id="home-audit"`, `id="nav-clients"`, `id="nav-audit"`} {
				mustContain(t, home.Body, id, "the landing page's sections")
			}
			for _, route := range []string{console.PathUsers + "/not-a-user", console.PathUsers + "/0190a0b2-7c3d-7000-8000-000000000000"} {
				if p, _ := admin.get(t, srv.URL+route); p.Status != http.StatusNotFound {
					t.Errorf("admin GET %s = %d, want 404", route, p.Status)
				}
			}
			// A bad filter is said next to its field, not answered 500.
			p, _ := admin.get(t, srv.URL+console.PathUsers+"?q=ab&created_after=yesterday&sort=shoe-size")
			for _, id := range []string{`id="q-error"`, `id="created_after-error"`} {
				mustContain(t, p.Body, id, "search with bad filters")
			}
			if p.Status != http.StatusOK {
				t.Errorf("search with bad filters = %d, want 200 with the errors", p.Status)
			}

			// Pages of two, in username order, each linked to the next.
			var seen []string
			next := srv.URL + console.PathUsers + "?sort=username&limit=2"
			for next != "" {
				p, _ := admin.get(t, next)
				for _, m := range userLinkRE.FindAllStringSubmatch(p.Body, -1) {
					seen = append(seen, m[1])
				}
				next = ""
				if strings.Contains(p.Body, `id="users-next"`) {
					next = srv.URL + regexpAttr(t, p.Body, "users-next", "href")
				}
				if len(seen) > 10 {
					t.Fatal("the pages never end")
				}
			}
			if want := []string{"ada", "mona", "pete"}; !slices.Equal(seen, want) {
				t.Errorf("users over the pages %v, want %v", seen, want)
			}
			// The filters select as the admin API's do.
			for query, want := range map[string][]string{
				"role=manager":           {"mona"},
				"email=pe&sort=username": {"pete"},
				"q=ona":                  {"mona"},
				"status=disabled":        nil,
				"status=active&sort=username&direction=desc":                       {"pete", "mona", "ada"},
				"created_after=2000-01-01&created_before=2999-01-01&sort=username": {"ada", "mona", "pete"},
				"last_login_after=2999-01-01":                                      nil,
			} {
				p, _ := admin.get(t, srv.URL+console.PathUsers+"?"+query)
				var got []string
				for _, m := range userLinkRE.FindAllStringSubmatch(p.Body, -1) {
					got = append(got, m[1])
				}
				if !slices.Equal(got, want) {
					t.Errorf("search %s found %v, want %v", query, got, want)
				}
			}
			// A cursor of another search is refused in words.
			p, _ = admin.get(t, srv.URL+console.PathUsers+"?sort=email&cursor=bogus")
			mustContain(t, p.Body, `id="cursor-error"`, "bad cursor")
		})
	}
}

// TestConsoleFreshSignIn: a sign-in older than console.max_auth_age is
// sent through the sign-in again, password asked, and comes back to
// the page it asked for.
func TestConsoleFreshSignIn(t *testing.T) {
	t.Parallel()
	for _, dialect := range dbtest.Dialects {
		t.Run(dialect, func(t *testing.T) {
			t.Parallel()
			srv := startServer(t, dialect, nil)
			clock := &testClock{now: time.Now()}
			srv.App.SignIn.Browser.Now = clock.Now
			srv.App.Console.Now = clock.Now
			consoleUser(t, srv, "ada", access.RoleAdmin)
			b := consoleSignIn(t, srv, "ada", true)
			if p, _ := b.get(t, srv.URL+console.PathUsers); p.Status != http.StatusOK || p.URL.Path != console.PathUsers {
				t.Fatalf("fresh sign-in: %s %d", p.URL, p.Status)
			}
			clock.Advance(srv.Config.Console.MaxAuthAge.Std() + time.Minute)
			p, _ := b.get(t, srv.URL+console.PathUsers+"?q=ada")
			if p.URL.Path != "/login" || p.URL.Query().Get("next") != console.PathUsers+"?q=ada" {
				t.Fatalf("stale sign-in led to %s, want the sign-in page with next", p.URL)
			}
			mustContain(t, p.Body, `id="login-submit"`, "sign-in page over a stale session")
			p, _ = b.submit(t, p, "login-submit", map[string]string{"login": "ada", "password": testUserPassword})
			if p.URL.Path != console.PathUsers || p.URL.Query().Get("q") != "ada" || p.Status != http.StatusOK {
				t.Fatalf("after signing in again: %s %d, want %s?q=ada", p.URL, p.Status, console.PathUsers)
			}
			// The wrong password does not bring the page back.
			clock.Advance(srv.Config.Console.MaxAuthAge.Std() + time.Minute)
			p, _ = b.get(t, srv.URL+console.PathUsers)
			p, _ = b.submit(t, p, "login-submit", map[string]string{"login": "ada", "password": "not the password"})
			if p.URL.Path != "/login" {
				t.Errorf("a wrong password led to %s", p.URL)
			}

			// With a second factor, the sign-in again asks for it too.
			consoleUser(t, srv, "otto", access.RoleAdmin)
			ob := consoleSignIn(t, srv, "otto", true)
			secret, _ := enrolTOTP(t, srv, ob)
			clock.Advance(srv.Config.Console.MaxAuthAge.Std() + time.Minute)
			p, _ = ob.get(t, srv.URL+console.PathUsers)
			p, _ = ob.submit(t, p, "login-submit", map[string]string{"login": "otto", "password": testUserPassword})
			if p.URL.Path == console.PathUsers {
				t.Fatal("the password alone brought back the console of a user with a second factor")
			}
			mustContain(t, p.Body, `id="mfa-submit"`, "second factor asked again")
			p, _ = ob.submit(t, p, "mfa-submit", map[string]string{"code": totpCode(t, secret, time.Now().Add(30*time.Second))})
			if p.URL.Path != console.PathUsers || p.Status != http.StatusOK {
				t.Errorf("after password and code: %s %d, want %s", p.URL, p.Status, console.PathUsers)
			}
		})
	}
}

// TestConsoleInviteManager: an administrator creates a manager with an
// invitation through the console; the mail goes out through SMTP, the
// manager chooses a password, signs in, lands on the usage figures and
// is refused the users.
func TestConsoleInviteManager(t *testing.T) {
	t.Parallel()
	for _, dialect := range dbtest.Dialects {
		t.Run(dialect, func(t *testing.T) {
			t.Parallel()
			ctx := context.Background()
			mb := startMailbox(t)
			srv := startServer(t, dialect, withDelivery(mb, nil, false))
			admin := consoleUser(t, srv, "ada", access.RoleAdmin)
			b := consoleSignIn(t, srv, "ada", true)
			p, _ := b.get(t, srv.URL+console.PathUsers+"/new")
			mustContain(t, p.Body, `id="user-invite" name="invite" type="checkbox" autocomplete="off" value="on" checked`, "invitation ticked by default")
			// A refusal of the service comes back next to its field.
			bad, _ := b.submit(t, p, "user-save", map[string]string{"username": "mia", "email": "not an address", "roles": access.RoleManager})
			if bad.Status != http.StatusUnprocessableEntity || !strings.Contains(bad.Body, `id="email-error"`) {
				t.Fatalf("bad address: %d, want 422 with the error by the field:\n%s", bad.Status, bad.Body)
			}
			p, _ = b.submit(t, bad, "user-save", map[string]string{"username": "mia", "email": "mia@example.com", "roles": access.RoleManager})
			if !strings.HasPrefix(p.URL.Path, console.PathUsers+"/") || p.Status != http.StatusOK {
				t.Fatalf("create: %s %d\n%s", p.URL, p.Status, p.Body)
			}
			mustContain(t, p.Body, "an invitation to choose a password is on its way", "notice after creating")
			if err := srv.App.Worker.Drain(ctx); err != nil {
				t.Fatal(err)
			}
			link := mb.next(t, "mia@example.com").link(t, "/set-password")
			mia := newBrowser(t, rpCallback)
			p, _ = mia.get(t, link)
			const chosen = "mia chose this passphrase"
			p, _ = mia.submit(t, p, "reset-submit", map[string]string{"password": chosen})
			mustContain(t, p.Body, "Your password is set", "invitation accepted")
			p, _ = mia.get(t, srv.URL+"/login")
			if p, _ = mia.submit(t, p, "login-submit", map[string]string{"login": "mia", "password": chosen}); p.URL.Path != console.PathUsage {
				t.Errorf("the manager's sign-in landed on %s, want %s", p.URL, console.PathUsage)
			}
			if p, _ = mia.get(t, srv.URL+console.PathUsers); p.Status != http.StatusForbidden {
				t.Errorf("manager GET %s = %d, want 403", console.PathUsers, p.Status)
			}
			mia2, _, err := srv.App.Identity.Accounts.Users.FindUserByLogin(ctx, "mia")
			if err != nil {
				t.Fatal(err)
			}
			if !mia2.HasRole(access.RoleManager) {
				t.Errorf("mia's roles %v, want manager", mia2.Roles)
			}
			mustAudited(t, srv, mia2.ID, admin.ID, audit.ActionUsersInvited)
		})
	}
}

// TestConsoleSignInLanding: without a destination, a plain user and an
// administrator land on the home page as before.
func TestConsoleSignInLanding(t *testing.T) {
	t.Parallel()
	srv := startServer(t, "sqlite", nil)
	consoleUser(t, srv, "pete")
	consoleUser(t, srv, "ada", access.RoleAdmin)
	for _, who := range []string{"pete", "ada"} {
		b := newBrowser(t, rpCallback)
		p, _ := b.get(t, srv.URL+"/login")
		if p, _ = b.submit(t, p, "login-submit", map[string]string{"login": who, "password": testUserPassword}); p.URL.Path != "/" {
			t.Errorf("%s landed on %s, want /", who, p.URL)
		}
	}
}

// mustAudited fails unless the audit trail holds action about subject by
// the administrator actor.
func mustAudited(t testing.TB, srv *testServer, subject, actor, action string) {
	t.Helper()
	entries, err := srv.App.Audit.List(context.Background(), audit.Filter{UserID: subject, Action: action})
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range entries {
		if e.ActorType == audit.ActorAdmin && e.ActorID == actor && e.Subject == subject {
			return
		}
	}
	t.Errorf("no %s entry about %s by admin %s in %+v", action, subject, actor, entries)
}
