package main

import (
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
	"golang.org/x/oauth2"

	"gatehouse/identity/mfa"
	"gatehouse/migrations/dbtest"
	"gatehouse/oidc"
)

// TestBrowserTOTP drives two-step verification through Chromium on each
// database: a user turns on an authenticator app from the security
// section (the key read off the page, the code computed from it) and saves
// the recovery codes; then a relying party that asks for multi-factor
// gets a sign-in with password and app code, and one with password and a
// recovery code, each ID token saying so in amr and acr.
func TestBrowserTOTP(t *testing.T) {
	t.Parallel()
	for _, dialect := range dbtest.Dialects {
		t.Run(dialect, func(t *testing.T) {
			t.Parallel()
			testBrowserTOTP(t, dialect)
		})
	}
}

func testBrowserTOTP(t *testing.T, dialect string) {
	srv, _, cb, rp := startBrowserServer(t, dialect)
	tess := srv.createUser(t, "tess", testUserPassword)

	var key string
	var recoveryCodes []string
	enrolledAt := time.Now()
	t.Run("enrol", func(t *testing.T) {
		tb := newTab(t)
		tb.navigate(t, srv.URL+"/login?next=%2Faccount%3Fsection%3Dsecurity")
		tb.arrive(t, "/login")
		tb.fill(t, map[string]string{"login-username": "tess", "login-password": testUserPassword})
		tb.click(t, "login-submit")
		tb.arrive(t, "/account")
		tb.click(t, "totp-setup")

		tb.arrive(t, "/account/security/totp")
		tb.checkAccessible(t)
		got, err := chromedp.Run(tb.ctx, chromedp.Evaluate[string](`document.getElementById("totp-secret").textContent`))
		if err != nil || got == "" {
			t.Fatalf("the key on the page: %q, %v", got, err)
		}
		key = got
		enrolledAt = time.Now()
		tb.fill(t, map[string]string{"totp-code": totpCode(t, key, enrolledAt)})
		tb.click(t, "totp-submit")

		// The codes come at the confirmation's own path.
		tb.arrive(t, "/account/security/totp/confirm")
		tb.await(t, "recovery-codes")
		tb.checkAccessible(t)
		recoveryCodes, err = chromedp.Run(tb.ctx, chromedp.Evaluate[[]string](
			`Array.from(document.querySelectorAll("#recovery-codes li")).map(function (li) { return li.textContent.trim(); })`))
		if err != nil || len(recoveryCodes) != 10 {
			t.Fatalf("recovery codes on the page: %q, %v; want 10", recoveryCodes, err)
		}
		tb.click(t, "recovery-codes-continue")
		tb.arrive(t, "/account")
		tb.noProblems(t)
	})
	if t.Failed() {
		return
	}

	multiFactor := oauth2.SetAuthURLParam("acr_values", mfa.ACRMultiFactor)
	t.Run("sign-in with the app", func(t *testing.T) {
		tb := newTab(t)
		req := newAuthRequest(rp, multiFactor)
		tb.navigate(t, req.URL)
		tb.arrive(t, "/login")
		tb.fill(t, map[string]string{"login-username": "tess", "login-password": testUserPassword})
		tb.click(t, "login-submit")

		tb.arrive(t, "/login/mfa")
		tb.checkAccessible(t)
		// The code of the next time step: the enrolment used this one,
		// and an accepted code is never accepted again.
		tb.fill(t, map[string]string{"mfa-code": totpCode(t, key, enrolledAt.Add(30*time.Second))})
		tb.click(t, "mfa-submit")
		tb.arrive(t, "/consent")
		tb.click(t, "consent-allow")
		claims := req.finish(t, rp, cb, srv.URL)
		if claims.Subject != tess.ID || !sameSet(claims.AMR, []string{"pwd", "otp", "mfa"}) || claims.ACR != mfa.ACRMultiFactor {
			t.Errorf("ID token sub %q amr %v acr %q, want %s, [pwd otp mfa], %s", claims.Subject, claims.AMR, claims.ACR, tess.ID, mfa.ACRMultiFactor)
		}
		tb.noProblems(t)
	})

	t.Run("sign-in with a recovery code", func(t *testing.T) {
		tb := newTab(t)
		req := newAuthRequest(rp, multiFactor)
		tb.navigate(t, req.URL)
		tb.arrive(t, "/login")
		tb.fill(t, map[string]string{"login-username": "tess", "login-password": testUserPassword})
		tb.click(t, "login-submit")
		tb.arrive(t, "/login/mfa")
		tb.click(t, "mfa-use-recovery")

		tb.arrive(t, "/login/mfa")
		tb.await(t, "mfa-recovery-code")
		tb.checkAccessible(t)
		tb.fill(t, map[string]string{"mfa-recovery-code": recoveryCodes[3]})
		tb.click(t, "mfa-submit")
		// Consent was remembered by the sign-in above.
		claims := req.finish(t, rp, cb, srv.URL)
		if claims.Subject != tess.ID || !sameSet(claims.AMR, []string{"pwd", "mfa"}) || claims.ACR != mfa.ACRMultiFactor {
			t.Errorf("ID token sub %q amr %v acr %q, want %s, [pwd mfa], %s", claims.Subject, claims.AMR, claims.ACR, tess.ID, mfa.ACRMultiFactor)
		}
		tb.noProblems(t)
	})
}

// sameSet reports whether a and b hold the same strings, in any order.
func sameSet(a, b []string) bool {
	a, b = slices.Clone(a), slices.Clone(b)
	slices.Sort(a)
	slices.Sort(b)
	return strings.Join(a, " ") == strings.Join(b, " ")
}

// TestBrowserMFAJourney is a user's whole way in Chromium, on each
// database: they sign up, turn on an authenticator app and then a
// passkey from the security section, sign out, sign in for a relying
// party that asks for multi-factor with the password and an app code
// (passing over the passkey the page offers first), sign out again and
// sign in with the passkey alone for one that asks for phr. Each ID token
// says how in amr and acr.
func TestBrowserMFAJourney(t *testing.T) {
	t.Parallel()
	for _, dialect := range dbtest.Dialects {
		t.Run(dialect, func(t *testing.T) {
			t.Parallel()
			testBrowserMFAJourney(t, dialect)
		})
	}
}

func testBrowserMFAJourney(t *testing.T, dialect string) {
	srv, mb, cb, rp := startBrowserServer(t, dialect, "--first-party")

	tb := newTab(t)
	tb.virtualAuthenticator(t)
	// The virtual authenticator would answer the sign-in page's autofill
	// request at once; the steps with a password need it quiet.
	noAutofill := tb.onNewDocument(t, `PublicKeyCredential.isConditionalMediationAvailable = function () { return Promise.resolve(false); };`)
	defer tb.removeOnNewDocument(t, noAutofill)

	req := newAuthRequest(rp, oauth2.SetAuthURLParam("prompt", "create"))
	tb.navigate(t, req.URL)
	tb.arrive(t, "/register")
	tb.fill(t, map[string]string{"register-username": "joan", "register-email": "joan@example.com", "register-password": testUserPassword})
	tb.do(t, chromedp.Poll[chromedp.Void](`document.querySelector('input[name="altcha"]').value !== ""`,
		chromedp.WithPollingInterval(20*time.Millisecond)))
	tb.click(t, "register-submit")
	tb.arrive(t, "/verify-email")
	tb.fill(t, map[string]string{"verify-code": mb.next(t, "joan@example.com").code(t)})
	tb.click(t, "verify-submit")
	jo := req.finish(t, rp, cb, srv.URL).Subject

	// The authenticator app, then a passkey.
	tb.navigate(t, srv.URL+"/account?section=security")
	tb.arrive(t, "/account")
	tb.click(t, "totp-setup")
	tb.arrive(t, "/account/security/totp")
	key, err := chromedp.Run(tb.ctx, chromedp.Evaluate[string](`document.getElementById("totp-secret").textContent`))
	if err != nil || key == "" {
		t.Fatalf("the key on the page: %q, %v", key, err)
	}
	enrolledAt := time.Now()
	tb.fill(t, map[string]string{"totp-code": totpCode(t, key, enrolledAt)})
	tb.click(t, "totp-submit")
	tb.await(t, "recovery-codes")
	tb.click(t, "recovery-codes-continue")
	tb.arrive(t, "/account")
	tb.visible(t, "passkey-add")
	tb.fill(t, map[string]string{"passkey-name": "Laptop"})
	tb.click(t, "passkey-add")
	// The script posts the new credential and the section comes back
	// (the recovery codes came with the app): wait for the passkey's row.
	var factors []mfa.Factor
	for deadline := time.Now().Add(tabTimeout); len(factors) < 2 && time.Now().Before(deadline); time.Sleep(50 * time.Millisecond) {
		if factors, err = srv.App.MFA.ListFactors(t.Context(), jo); err != nil {
			t.Fatal(err)
		}
	}
	if len(factors) != 2 || factors[1].Kind != mfa.KindWebAuthn || factors[1].Name != "Laptop" {
		t.Fatalf("factors after the security section: %+v; want the app and the passkey", factors)
	}
	tb.arrive(t, "/account")
	tb.await(t, "mfa-factor-"+factors[1].ID)
	signOut := func() {
		tb.navigate(t, srv.URL+oidc.PathEndSession)
		tb.arrive(t, oidc.PathEndSession)
		tb.click(t, "logout-submit")
		tb.arrive(t, "/logout")
	}

	signOut()
	req = newAuthRequest(rp, oauth2.SetAuthURLParam("acr_values", mfa.ACRMultiFactor))
	tb.navigate(t, req.URL)
	tb.arrive(t, "/login")
	tb.fill(t, map[string]string{"login-username": "joan", "login-password": testUserPassword})
	tb.click(t, "login-submit")
	tb.arrive(t, "/login/mfa")
	tb.visible(t, "mfa-passkey") // the strongest factor first
	tb.checkAccessible(t)
	tb.click(t, "mfa-use-totp")
	tb.await(t, "mfa-code")
	tb.fill(t, map[string]string{"mfa-code": totpCode(t, key, enrolledAt.Add(30*time.Second))})
	tb.click(t, "mfa-submit")
	claims := req.finish(t, rp, cb, srv.URL)
	if claims.Subject != jo || !sameSet(claims.AMR, []string{"pwd", "otp", "mfa"}) || claims.ACR != mfa.ACRMultiFactor {
		t.Errorf("password + app code: sub %q amr %v acr %q", claims.Subject, claims.AMR, claims.ACR)
	}

	signOut()
	req = newAuthRequest(rp, oauth2.SetAuthURLParam("acr_values", mfa.ACRPhishingResistant))
	tb.navigate(t, req.URL)
	tb.arrive(t, "/login")
	tb.visible(t, "login-passkey")
	tb.click(t, "login-passkey")
	claims = req.finish(t, rp, cb, srv.URL)
	if claims.Subject != jo || !sameSet(claims.AMR, []string{"swk", "user", "mfa"}) || claims.ACR != mfa.ACRPhishingResistant {
		t.Errorf("passkey alone: sub %q amr %v acr %q", claims.Subject, claims.AMR, claims.ACR)
	}
	tb.noProblems(t)
}
