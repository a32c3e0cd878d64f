package main

import (
	"context"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	gooidc "github.com/coreos/go-oidc/v3/oidc"

	"gatehouse/identity"
	"gatehouse/migrations/dbtest"
)

// listeningRP is a relying party that registered a back-channel logout
// URI; logout tokens posted to it arrive on tokens.
func listeningRP(t *testing.T, srv *testServer) (id, secret string, tokens chan string) {
	t.Helper()
	tokens = make(chan string, 8)
	rp := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		tokens <- r.PostFormValue("logout_token")
	}))
	t.Cleanup(rp.Close)
	id, secret = srv.createClient(t, "--name", "Listening App", "--redirect-uri", rpCallback, "--first-party",
		"--backchannel-logout-uri", rp.URL+"/backchannel")
	return id, secret, tokens
}

// awaitLogout waits for a logout token for subject and verifies it as the
// relying party would.
func awaitLogout(t *testing.T, srv *testServer, id, secret, subject string, tokens chan string) {
	t.Helper()
	var raw string
	select {
	case raw = <-tokens:
	case <-time.After(15 * time.Second):
		t.Fatal("no logout token reached the client")
	}
	relying := newRelyingParty(t, srv.URL, id, secret)
	lt, err := relying.Provider.Verifier(&gooidc.Config{ClientID: id}).Verify(context.Background(), raw)
	if err != nil {
		t.Fatalf("logout token does not verify: %v", err)
	}
	if lt.Subject != subject {
		t.Errorf("logout token for %q, want %q", lt.Subject, subject)
	}
}

// loginAnswer posts a sign-in on a fresh login page and returns the
// answer with the CSRF token and the login name taken out, so that two
// answers compare whoever they were for.
func loginAnswer(t *testing.T, srv *testServer, login, password string) (int, string) {
	t.Helper()
	b := newBrowser(t, rpCallback)
	p, _ := b.get(t, srv.URL+"/login")
	p, _ = b.submit(t, p, "login-submit", map[string]string{"login": login, "password": password})
	return p.Status, strings.ReplaceAll(csrfValue.ReplaceAllString(p.Body, ""), login, "LOGIN")
}

// TestDeactivateUser: deactivating a user ends their tokens at once (an
// access token introspects inactive, the refresh token is refused) and
// their relying parties get a back-channel logout; the sign-in page says
// the account is deactivated only to whoever gives the right password,
// and answers a wrong one exactly as for an active account.
func TestDeactivateUser(t *testing.T) {
	t.Parallel()
	for _, dialect := range dbtest.Dialects {
		t.Run(dialect, func(t *testing.T) {
			srv := startServer(t, dialect, allowPrivateOutbound)
			lena := srv.createUser(t, "lena", testUserPassword)
			srv.createUser(t, "mark", testUserPassword)
			id, secret, tokens := listeningRP(t, srv)
			tok := grantTokens(t, srv, id, secret, "lena")
			if got := introspect(t, srv.URL, id, secret, tok.AccessToken); got["active"] != true {
				t.Fatalf("access token before: %v", got)
			}

			if out, code := srv.cli(t, "", "users", "deactivate", "lena"); code != 0 {
				t.Fatalf("users deactivate: %d %s", code, out)
			}
			awaitLogout(t, srv, id, secret, lena.ID, tokens)
			if got := introspect(t, srv.URL, id, secret, tok.AccessToken); got["active"] != false {
				t.Errorf("access token after deactivation introspects %v, want inactive", got)
			}
			if r := refresh(t, srv, id, secret, tok.RefreshToken, ""); r.Status != http.StatusBadRequest || r.JSON["error"] != "invalid_grant" {
				t.Errorf("refresh after deactivation: %d %v, want invalid_grant", r.Status, r.JSON)
			}

			// The attacker's view: a wrong password reads the same on the
			// disabled account as on an active one.
			disabledStatus, disabledBody := loginAnswer(t, srv, "lena", "not the password at all")
			activeStatus, activeBody := loginAnswer(t, srv, "mark", "not the password at all")
			if disabledStatus != activeStatus || disabledBody != activeBody {
				t.Errorf("a wrong password answers %d on the disabled account and %d on an active one, or the pages differ", disabledStatus, activeStatus)
			}
			if strings.Contains(disabledBody, "deactivated") {
				t.Error("a wrong password was told the account is deactivated")
			}
			status, body := loginAnswer(t, srv, "lena", testUserPassword)
			mustContain(t, body, "This account has been deactivated. Contact your administrator.", "right password, disabled")
			if status != http.StatusOK {
				t.Errorf("right password, disabled: status %d", status)
			}

			if out, code := srv.cli(t, "", "users", "reactivate", "lena"); code != 0 {
				t.Fatalf("users reactivate: %d %s", code, out)
			}
			tok = grantTokens(t, srv, id, secret, "lena")

			// A refresh token that outlived a change of status made some
			// other way is refused too.
			ctx := context.Background()
			u, err := srv.App.Identity.Accounts.GetUser(ctx, lena.ID)
			if err != nil {
				t.Fatal(err)
			}
			u.Status = identity.StatusDisabled
			if err := srv.App.Identity.UserAdmin.Users.UpdateUser(ctx, u); err != nil {
				t.Fatal(err)
			}
			if r := refresh(t, srv, id, secret, tok.RefreshToken, ""); r.Status != http.StatusBadRequest || r.JSON["error"] != "invalid_grant" {
				t.Errorf("refresh of a disabled user: %d %v, want invalid_grant", r.Status, r.JSON)
			}
		})
	}
}

// TestDeleteUser: deleting a user needs --yes, tells their relying
// parties, and leaves no row behind in any table that names them.
func TestDeleteUser(t *testing.T) {
	t.Parallel()
	for _, dialect := range dbtest.Dialects {
		t.Run(dialect, func(t *testing.T) {
			ctx := context.Background()
			srv := startServer(t, dialect, allowPrivateOutbound)
			olga := srv.createUser(t, "olga", testUserPassword)
			id, secret, tokens := listeningRP(t, srv)
			tok := grantTokens(t, srv, id, secret, "olga")
			if _, err := srv.App.MFA.RegenerateRecoveryCodes(ctx, olga.ID); err != nil {
				t.Fatal(err)
			}
			if err := srv.App.Identity.Recovery.AdminResetPassword(ctx, "olga"); err != nil {
				t.Fatal(err)
			}

			if out, code := srv.cli(t, "", "users", "delete", "olga"); code != 2 || !strings.Contains(out, "--yes") {
				t.Errorf("users delete without --yes: %d %s", code, out)
			}
			if _, err := srv.App.Identity.Accounts.GetUser(ctx, olga.ID); err != nil {
				t.Fatalf("the user is gone without --yes: %v", err)
			}
			if out, code := srv.cli(t, "", "users", "delete", olga.ID, "--yes"); code != 0 {
				t.Fatalf("users delete: %d %s", code, out)
			}
			awaitLogout(t, srv, id, secret, olga.ID, tokens)
			if got := introspect(t, srv.URL, id, secret, tok.AccessToken); got["active"] != false {
				t.Errorf("access token after deletion introspects %v", got)
			}
			db := srv.App.DB.Gorm()
			for table, column := range map[string]string{
				"users": "id", "browser_sessions": "user_id", "consents": "user_id", "oauth_requests": "subject",
				"one_time_tokens": "user_id", "mfa_factors": "user_id", "mfa_recovery_codes": "user_id",
				"mfa_remembered_browsers": "user_id", "mfa_enrolment_grace": "user_id", "webauthn_ceremonies": "user_id",
			} {
				var n int64
				if err := db.Table(table).Where(column+" = ?", olga.ID).Count(&n).Error; err != nil || n != 0 {
					t.Errorf("%s rows of the deleted user: %d, %v", table, n, err)
				}
			}
			if out, code := srv.cli(t, "", "users", "show", olga.ID); code != 2 {
				t.Errorf("users show of the deleted user: %d %s", code, out)
			}
		})
	}
}

// TestInvitation: an invited user gets a mail through the real SMTP
// server, follows its link to "Set your password", chooses one and signs
// in; the link works once, and an invitation left 72 hours is dead.
func TestInvitation(t *testing.T) {
	t.Parallel()
	for _, dialect := range dbtest.Dialects {
		t.Run(dialect, func(t *testing.T) {
			ctx := context.Background()
			mb := startMailbox(t)
			srv := startServer(t, dialect, withDelivery(mb, nil, false))
			clock := &testClock{now: time.Now()}
			srv.App.Identity.Core.Now = clock.Now

			if out, code := srv.cli(t, "", "users", "create", "--username", "ivy", "--email", "ivy@example.com", "--invite"); code != 0 {
				t.Fatalf("users create --invite: %d %s", code, out)
			}
			if err := srv.App.Worker.Drain(ctx); err != nil { // the CLI only queues
				t.Fatal(err)
			}
			m := mb.next(t, "ivy@example.com")
			if !strings.Contains(strings.ToLower(m.Subject), "set your password") || !strings.Contains(m.Text, "72 hours") {
				t.Errorf("invitation subject %q, text %q", m.Subject, m.Text)
			}
			link := m.link(t, "/set-password")
			b := newBrowser(t, rpCallback)
			p, _ := b.get(t, link)
			mustContain(t, p.Body, "Set your password", "invitation page")
			const chosen = "ivy chose this passphrase"
			p, _ = b.submit(t, p, "reset-submit", map[string]string{"password": chosen})
			mustContain(t, p.Body, "Your password is set", "invitation accepted")
			if p, _ := b.get(t, link); !strings.Contains(p.Body, `id="reset-invalid"`) {
				t.Error("the invitation link worked twice")
			}
			p, _ = b.get(t, srv.URL+"/login")
			if good, _ := b.submit(t, p, "login-submit", map[string]string{"login": "ivy", "password": chosen}); good.URL.Path != "/" {
				t.Errorf("sign-in with the chosen password led to %s", good.URL)
			}
			u, _, err := srv.App.Identity.Accounts.Users.FindUserByLogin(ctx, "ivy")
			if err != nil || !u.EmailVerified {
				t.Errorf("invited user after accepting: %+v, %v; want the address verified", u, err)
			}

			// Invited on the server's clock, which then moves 72 hours.
			if _, err := srv.App.Identity.UserAdmin.Create(ctx, identity.OperatorActor,
				identity.AdminCreateInput{Username: "jay", Email: "jay@example.com", Invite: true}); err != nil {
				t.Fatal(err)
			}
			if err := srv.App.Worker.Drain(ctx); err != nil {
				t.Fatal(err)
			}
			late := mb.next(t, "jay@example.com").link(t, "/set-password")
			clock.Advance(72 * time.Hour)
			p, _ = newBrowser(t, rpCallback).get(t, late)
			mustContain(t, p.Body, `id="reset-invalid"`, "invitation after 72 hours")
		})
	}
}
