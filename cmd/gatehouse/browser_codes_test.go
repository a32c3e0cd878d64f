package main

import (
	"slices"
	"testing"

	"gatehouse/config"
	"gatehouse/identity/mfa"
	"gatehouse/migrations/dbtest"
	"gatehouse/oidc/authflow"
)

// TestBrowserSignInCode: in headless Chromium, a user with sign-in codes
// by e-mail meets the challenge's send button, then the code form, both
// pages meeting the accessibility contract (labels, autocomplete,
// accessible names), and signs in with the code from the real e-mail.
func TestBrowserSignInCode(t *testing.T) {
	t.Parallel()
	for _, dialect := range dbtest.Dialects {
		t.Run(dialect, func(t *testing.T) {
			t.Parallel()
			mb := startMailbox(t)
			srv := startServer(t, dialect, func(cfg *config.Config) {
				withDelivery(mb, nil, false)(cfg)
				onLocalhost(t, cfg)
			})
			cb := startCallback(t)
			clientID, secret := srv.createClient(t, "--name", "Browser App", "--redirect-uri", cb.URL, "--first-party")
			rp := newRelyingParty(t, srv.URL, clientID, secret)
			rp.OAuth.RedirectURL = cb.URL
			ada := srv.createUser(t, "ada", testUserPassword)
			if _, err := srv.App.MFA.EnableCodes(t.Context(), ada.ID, mfa.KindEmail); err != nil {
				t.Fatal(err)
			}

			tb := newTab(t)
			req := newAuthRequest(rp)
			tb.navigate(t, req.URL)
			tb.arrive(t, "/login")
			tb.fill(t, map[string]string{"login-username": "ada", "login-password": testUserPassword})
			tb.click(t, "login-submit")
			tb.arrive(t, authflow.PathMFA)
			tb.checkAccessible(t)
			tb.click(t, "mfa-send")
			// The page posts back to its own path: wait for the code field
			// that only the answer has.
			tb.arrive(t, authflow.PathMFA)
			tb.await(t, "mfa-code")
			tb.checkAccessible(t)
			tb.fill(t, map[string]string{"mfa-code": mb.next(t, "ada@example.com").code(t)})
			tb.click(t, "mfa-submit")
			claims := req.finish(t, rp, cb, srv.URL)
			if claims.Subject != ada.ID || !slices.Equal(claims.AMR, []string{"pwd", "email", "mfa"}) {
				t.Errorf("ID token claims = %+v, want ada's with amr pwd email mfa", claims)
			}
			tb.noProblems(t)
		})
	}
}
