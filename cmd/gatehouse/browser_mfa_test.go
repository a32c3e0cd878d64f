package main

import (
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
	"golang.org/x/oauth2"

	"gatehouse/config"
	"gatehouse/identity/mfa"
	"gatehouse/migrations/dbtest"
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
	mb := startMailbox(t)
	srv := startServer(t, dialect, func(cfg *config.Config) {
		withDelivery(mb, nil, true)(cfg)
		onLocalhost(t, cfg)
	})
	cb := startCallback(t)
	clientID, secret := srv.createClient(t, "--name", "Browser App", "--redirect-uri", cb.URL)
	rp := newRelyingParty(t, srv.URL, clientID, secret)
	rp.OAuth.RedirectURL = cb.URL
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

		tb.arrive(t, "/account/security/totp")
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
