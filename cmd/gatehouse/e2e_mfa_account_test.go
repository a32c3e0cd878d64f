package main

import (
	"context"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/google/uuid"
	"golang.org/x/oauth2"

	"gatehouse/identity/audit"
	"gatehouse/migrations/dbtest"
	"gatehouse/oidc/mfapages"
)

// TestMFAAccountList: the security section lists the user's
// authenticator app and the recovery codes left, and a user without a
// factor sees no such list.
func TestMFAAccountList(t *testing.T) {
	t.Parallel()
	for _, dialect := range dbtest.Dialects {
		t.Run(dialect, func(t *testing.T) {
			t.Parallel()
			srv := startServer(t, dialect, nil)
			m := newMFAClient(t, srv)
			srv.createUser(t, "ada", testUserPassword)
			b := newBrowser(t, rpCallback)
			signIn(t, b, m.authURL(oauth2.GenerateVerifier()), "ada", false)

			p, _ := b.get(t, srv.URL+"/account?section=security")
			if p.Status != http.StatusOK {
				t.Fatalf("security section answered %d", p.Status)
			}
			if strings.Contains(p.Body, `id="mfa-factors"`) {
				t.Errorf("a user without a factor sees a factor list:\n%s", p.Body)
			}

			enrolTOTP(t, srv, b)
			p, _ = b.get(t, srv.URL+"/account?section=security")
			mustContain(t, p.Body, `id="mfa-factors"`, "factor list")
			mustContain(t, p.Body, "<td>Authenticator app</td>", "factor type")
			mustContain(t, p.Body, "Recovery codes left: 10", "recovery code count")
		})
	}
}

// reauthWithCode signs in again on the login page p (where a refused
// change sent b) with the password and the app's code at the step after
// at, and returns the security section it leads back to.
func reauthWithCode(t testing.TB, b *browser, p *page, username, secret string, at time.Time) *page {
	t.Helper()
	if p.URL.Path != "/login" {
		t.Fatalf("a change without a fresh second factor led to %s (status %d), want the sign-in page:\n%s", p.URL, p.Status, p.Body)
	}
	p, _ = b.submit(t, p, "login-submit", map[string]string{"login": username, "password": testUserPassword})
	mustChallenge(t, p)
	p, _ = b.submit(t, p, "mfa-submit", map[string]string{"code": totpCode(t, secret, at.Add(30*time.Second))})
	if p.URL.Path != mfapages.PathConfirm || p.Status != http.StatusOK {
		t.Fatalf("signing in again led to %s (status %d), want the confirmation of the change:\n%s", p.URL, p.Status, p.Body)
	}
	return p
}

// TestMFAAccountRegenerateAndRemove: making new recovery codes and
// removing a factor need a sign-in with the second factor in the last
// five minutes (enrolling in this session does not count): without one
// the user is sent to sign in again, and comes back. New codes void the
// old; a removed factor is no longer asked for. Both are audited and
// mailed.
func TestMFAAccountRegenerateAndRemove(t *testing.T) {
	t.Parallel()
	for _, dialect := range dbtest.Dialects {
		t.Run(dialect, func(t *testing.T) {
			t.Parallel()
			ctx := context.Background()
			mb := startMailbox(t)
			srv := startServer(t, dialect, withDelivery(mb, nil, false))
			m := newMFAClient(t, srv)
			user := srv.createUser(t, "ada", testUserPassword)
			b := newBrowser(t, rpCallback)
			signIn(t, b, m.authURL(oauth2.GenerateVerifier()), "ada", false)
			enrolled := time.Now()
			secret, oldCodes := enrolTOTP(t, srv, b)
			mb.next(t, "ada@example.com") // the enrolment notice

			// Enrolled in this session, signed in with the password only.
			p, _ := b.get(t, srv.URL+"/account?section=security")
			p, _ = b.submit(t, p, "recovery-codes-regenerate", nil)
			if n, err := srv.App.MFA.RemainingRecoveryCodes(ctx, user.ID); err != nil || n != 10 {
				t.Fatalf("recovery codes after a refused regeneration = %d, %v; want the 10 old ones", n, err)
			}
			p = reauthWithCode(t, b, p, "ada", secret, enrolled)
			mustContain(t, p.Body, "Make new recovery codes?", "the confirmation after signing in again")

			p, resp := b.submit(t, p, "confirm-submit", nil)
			if cc := resp.Header.Get("Cache-Control"); cc != "no-store" {
				t.Errorf("new recovery codes page Cache-Control = %q, want no-store", cc)
			}
			var newCodes []string
			for _, m := range recoveryCodeRE.FindAllStringSubmatch(p.Body, -1) {
				newCodes = append(newCodes, m[1])
			}
			if len(newCodes) != 10 {
				t.Fatalf("%d new recovery codes shown, want 10:\n%s", len(newCodes), p.Body)
			}
			mustContain(t, p.Body, "The old ones no longer work", "regeneration notice")
			entries, err := srv.App.Audit.List(ctx, audit.Filter{UserID: user.ID, Action: audit.ActionMFARecoveryCodesRegenerated})
			if err != nil || len(entries) != 1 {
				t.Errorf("regeneration audit entries = %+v, %v; want one", entries, err)
			}
			if got := mb.next(t, "ada@example.com"); !strings.Contains(got.Subject, "new recovery codes") {
				t.Errorf("regeneration notice subject = %q", got.Subject)
			}

			// An old code no longer signs in; a new one does.
			rb := newBrowser(t, rpCallback)
			p, _ = m.password(t, rb, "ada", oauth2.GenerateVerifier())
			p, _ = rb.get(t, findLink(t, p, "mfa-use-recovery"))
			p, resp = rb.submit(t, p, "mfa-submit", map[string]string{"recovery_code": oldCodes[0]})
			noCode(t, resp, "old recovery code")
			if p.Status != http.StatusUnprocessableEntity {
				t.Errorf("an old recovery code answered %d, want 422", p.Status)
			}
			_, resp = rb.submit(t, p, "mfa-submit", map[string]string{"recovery_code": newCodes[0]})
			if callbackQuery(t, resp).Get("code") == "" {
				t.Error("a new recovery code did not sign in")
			}
			// The owner hears of it, with the codes left, and so does the
			// audit trail.
			if got := mb.next(t, "ada@example.com"); !strings.Contains(got.Subject, "a recovery code was used") ||
				!strings.Contains(got.Text, "You have 9 recovery codes left.") || strings.Contains(got.Text, newCodes[0]) {
				t.Errorf("recovery code notice: %q\n%s", got.Subject, got.Text)
			}
			entries, err = srv.App.Audit.List(ctx, audit.Filter{UserID: user.ID, Action: audit.ActionMFARecoveryCodeUsed})
			if err != nil || len(entries) != 1 || entries[0].Details["codes_left"] != "9" {
				t.Errorf("mfa.recovery_code_used audit entries = %+v, %v; want one with 9 left", entries, err)
			}

			// Remove the app, in the session signed in with it.
			fs, err := srv.App.MFA.ListFactors(ctx, user.ID)
			if err != nil || len(fs) != 1 {
				t.Fatalf("factors = %v, %v; want one", fs, err)
			}
			p, _ = b.get(t, srv.URL+"/account?section=security")
			p, _ = b.submit(t, p, "factor-remove-"+fs[0].ID, nil)
			if p.URL.Path != "/account" {
				t.Fatalf("Remove led to %s (status %d)", p.URL, p.Status)
			}
			if fs, err := srv.App.MFA.ListFactors(ctx, user.ID); err != nil || len(fs) != 0 {
				t.Fatalf("factors after Remove = %v, %v; want none", fs, err)
			}
			entries, err = srv.App.Audit.List(ctx, audit.Filter{UserID: user.ID, Action: audit.ActionMFADisabled})
			if err != nil || len(entries) != 1 || entries[0].Details["factor"] != "totp" {
				t.Errorf("mfa.disabled audit entries = %+v, %v; want one for totp", entries, err)
			}
			if got := mb.next(t, "ada@example.com"); !strings.Contains(got.Subject, "second factor was removed") {
				t.Errorf("removal notice subject = %q", got.Subject)
			}

			// The next sign-in asks for no code.
			nb := newBrowser(t, rpCallback)
			_, resp = m.password(t, nb, "ada", oauth2.GenerateVerifier())
			if callbackQuery(t, resp).Get("code") == "" {
				t.Error("after removing the only factor, sign-in did not end with a code")
			}
		})
	}
}

// TestMFAAccountRemoveResumes: a Remove without a fresh second factor
// leads through signing in again to a confirmation naming the factor,
// whose button removes it; the sign-in itself removes nothing, and a
// confirmation of another user's factor is not shown.
func TestMFAAccountRemoveResumes(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	srv := startServer(t, dbtest.Dialects[0], nil)
	m := newMFAClient(t, srv)
	ada := srv.createUser(t, "ada", testUserPassword)
	b := newBrowser(t, rpCallback)
	signIn(t, b, m.authURL(oauth2.GenerateVerifier()), "ada", false)
	enrolled := time.Now()
	secret, _ := enrolTOTP(t, srv, b)
	fs, err := srv.App.MFA.ListFactors(ctx, ada.ID)
	if err != nil || len(fs) != 1 {
		t.Fatalf("factors = %v, %v; want one", fs, err)
	}

	p, _ := b.get(t, srv.URL+"/account?section=security")
	p, _ = b.submit(t, p, "factor-remove-"+fs[0].ID, nil)
	p = reauthWithCode(t, b, p, "ada", secret, enrolled)
	if n, err := srv.App.MFA.ListFactors(ctx, ada.ID); err != nil || len(n) != 1 {
		t.Fatalf("factors after signing in again = %v, %v; want the app still there", n, err)
	}
	mustContain(t, p.Body, "Remove Authenticator app?", "the confirmation names the factor")
	if got := findLink(t, p, "confirm-cancel"); got != srv.URL+"/account?section=security" {
		t.Errorf("Cancel leads to %q", got)
	}
	// A confirmation asked for a factor that is not Ada's shows nothing.
	other, _ := b.get(t, srv.URL+mfapages.PathConfirm+"?action=remove&factor="+uuid.NewString())
	if other.URL.Path != "/account" {
		t.Errorf("a confirmation of an unknown factor showed %s", other.URL)
	}
	p, _ = b.submit(t, p, "confirm-submit", nil)
	if p.URL.Path != "/account" {
		t.Fatalf("the confirmed Remove led to %s (status %d)", p.URL, p.Status)
	}
	if n, err := srv.App.MFA.ListFactors(ctx, ada.ID); err != nil || len(n) != 0 {
		t.Errorf("factors after the confirmed Remove = %v, %v; want none", n, err)
	}
}

// TestMFAAccountRemoveRefused: a Remove posted without the CSRF token,
// from a browser with no session, or from another user's freshly
// verified session does not remove the factor.
func TestMFAAccountRemoveRefused(t *testing.T) {
	t.Parallel()
	for _, dialect := range dbtest.Dialects {
		t.Run(dialect, func(t *testing.T) {
			t.Parallel()
			ctx := context.Background()
			srv := startServer(t, dialect, nil)
			m := newMFAClient(t, srv)
			ada := srv.createUser(t, "ada", testUserPassword)
			b := newBrowser(t, rpCallback)
			signIn(t, b, m.authURL(oauth2.GenerateVerifier()), "ada", false)
			enrolled := time.Now()
			secret, _ := enrolTOTP(t, srv, b)
			p, _ := b.get(t, srv.URL+"/account?section=security")
			p, _ = b.submit(t, p, "recovery-codes-regenerate", nil)
			reauthWithCode(t, b, p, "ada", secret, enrolled)
			fs, err := srv.App.MFA.ListFactors(ctx, ada.ID)
			if err != nil || len(fs) != 1 {
				t.Fatalf("factors = %v, %v; want one", fs, err)
			}
			form := url.Values{"factor": {fs[0].ID}}

			// Ada's own fresh session, but no CSRF token.
			if p, _ := b.post(t, srv.URL+mfapages.PathFactorRemove, form); p.Status != http.StatusForbidden {
				t.Errorf("Remove without a CSRF token answered %d, want 403", p.Status)
			}
			// A browser with no session.
			stranger := newBrowser(t, rpCallback)
			if p, _ := stranger.post(t, srv.URL+mfapages.PathFactorRemove, form); p.Status == http.StatusOK && p.URL.Path == "/account" {
				t.Errorf("Remove without a session reached the account page")
			}
			// Eve, freshly signed in with her own second factor, posts
			// Ada's factor with her own token.
			srv.createUser(t, "eve", testUserPassword)
			eb := newBrowser(t, rpCallback)
			signIn(t, eb, m.authURL(oauth2.GenerateVerifier()), "eve", false)
			eveEnrolled := time.Now()
			eveSecret, _ := enrolTOTP(t, srv, eb)
			p, _ = eb.get(t, srv.URL+"/account?section=security")
			p, _ = eb.submit(t, p, "recovery-codes-regenerate", nil)
			p = reauthWithCode(t, eb, p, "eve", eveSecret, eveEnrolled)
			_, values, _ := findForm(t, p, "confirm-submit")
			form.Set("csrf", values.Get("csrf"))
			// Her token is good (the post is answered, not refused as
			// forged), so only the factor's owner check stops it.
			if p, _ := eb.post(t, srv.URL+mfapages.PathFactorRemove, form); p.Status != http.StatusOK || p.URL.Path != "/account" {
				t.Errorf("Eve's post answered %d at %s, want the security section", p.Status, p.URL)
			}

			if fs, err := srv.App.MFA.ListFactors(ctx, ada.ID); err != nil || len(fs) != 1 {
				t.Errorf("Ada's factors after the refused posts = %v, %v; want hers intact", fs, err)
			}
			entries, err := srv.App.Audit.List(ctx, audit.Filter{Action: audit.ActionMFADisabled})
			if err != nil || len(entries) != 0 {
				t.Errorf("mfa.disabled audit entries = %+v, %v; want none", entries, err)
			}
		})
	}
}

// TestMFAResetCLI: `users reset-mfa` removes every factor and recovery
// code of a user, who then signs in with the password alone; the change
// is audited as the CLI's and mailed to the user. An unknown user is a
// usage error.
func TestMFAResetCLI(t *testing.T) {
	t.Parallel()
	for _, dialect := range dbtest.Dialects {
		t.Run(dialect, func(t *testing.T) {
			t.Parallel()
			ctx := context.Background()
			mb := startMailbox(t)
			srv := startServer(t, dialect, withDelivery(mb, nil, false))
			m := newMFAClient(t, srv)
			user := srv.createUser(t, "ada", testUserPassword)
			b := newBrowser(t, rpCallback)
			signIn(t, b, m.authURL(oauth2.GenerateVerifier()), "ada", false)
			enrolTOTP(t, srv, b)
			mb.next(t, "ada@example.com") // the enrolment notice

			out, code := srv.cli(t, "", "users", "reset-mfa", "ada@example.com")
			if code != 0 {
				t.Fatalf("users reset-mfa: %d %s", code, out)
			}
			mustContain(t, out, "Removed 1 second factor", "CLI output")
			if fs, err := srv.App.MFA.ListFactors(ctx, user.ID); err != nil || len(fs) != 0 {
				t.Errorf("factors after reset-mfa = %v, %v; want none", fs, err)
			}
			if n, err := srv.App.MFA.RemainingRecoveryCodes(ctx, user.ID); err != nil || n != 0 {
				t.Errorf("recovery codes after reset-mfa = %d, %v; want none", n, err)
			}
			entries, err := srv.App.Audit.List(ctx, audit.Filter{UserID: user.ID, Action: audit.ActionMFADisabled})
			if err != nil || len(entries) != 1 || entries[0].ActorType != audit.ActorAdmin || entries[0].ActorID != "cli" {
				t.Errorf("mfa.disabled audit entries = %+v, %v; want one by the CLI", entries, err)
			}
			if err := srv.App.Worker.Drain(ctx); err != nil {
				t.Fatal(err)
			}
			if got := mb.next(t, "ada@example.com"); !strings.Contains(got.Subject, "second factor was removed") {
				t.Errorf("reset notice subject = %q", got.Subject)
			}

			nb := newBrowser(t, rpCallback)
			_, resp := m.password(t, nb, "ada", oauth2.GenerateVerifier())
			if callbackQuery(t, resp).Get("code") == "" {
				t.Error("after reset-mfa, sign-in with the password did not end with a code")
			}
			if out, code := srv.cli(t, "", "users", "reset-mfa", "nobody"); code != 2 {
				t.Errorf("reset-mfa for an unknown user exited %d: %s", code, out)
			}
		})
	}
}
