package main

import (
	"context"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"testing"
	"time"

	"golang.org/x/oauth2"

	"gatehouse/config"
	"gatehouse/identity"
	"gatehouse/identity/audit"
	"gatehouse/identity/mfa"
	"gatehouse/migrations/dbtest"
	"gatehouse/oidc/authflow"
	"gatehouse/oidc/mfapages"
)

// manySignIns lifts the sign-in rate limits for tests that sign one
// user in many times from one address.
func manySignIns(cfg *config.Config) {
	cfg.RateLimits.LoginPerIP, cfg.RateLimits.LoginPerAccount = "1000/1m", "1000/1m"
}

// mustEnrolPage fails unless p is the enrolment page of a flow.
func mustEnrolPage(t testing.TB, p *page, what string) {
	t.Helper()
	if p.URL.Path != mfapages.PathTOTP || p.URL.Query().Get("flow") == "" || p.Status != http.StatusOK {
		t.Fatalf("%s: got %s (status %d), want the enrolment page of the flow:\n%s", what, p.URL, p.Status, p.Body)
	}
}

// mustPwdOnly fails unless resp issued a code whose ID token says the
// password alone was used.
func (m *mfaClient) mustPwdOnly(t testing.TB, resp *http.Response, verifier, what string) {
	t.Helper()
	amr, acr := m.claims(t, resp, verifier)
	if !slices.Equal(amr, []string{"pwd"}) || acr != mfa.ACRSingleFactor {
		t.Errorf("%s: amr %v acr %q, want [pwd] %q", what, amr, acr, mfa.ACRSingleFactor)
	}
}

// enrolInFlow adds an authenticator app from the flow's enrolment page p
// and answers the challenge that follows; it returns the final response.
func enrolInFlow(t testing.TB, b *browser, p *page) *http.Response {
	t.Helper()
	p, _ = b.submit(t, p, "totp-setup", nil)
	key := totpSecretRE.FindStringSubmatch(p.Body)
	if key == nil {
		t.Fatalf("no key on the enrolment page:\n%s", p.Body)
	}
	p, _ = b.submit(t, p, "totp-submit", map[string]string{"code": totpCode(t, key[1], time.Now())})
	p, _ = b.get(t, findLink(t, p, "recovery-codes-continue"))
	mustChallenge(t, p)
	_, resp := b.submit(t, p, "mfa-submit", map[string]string{"code": totpCode(t, key[1], time.Now().Add(30*time.Second))})
	return resp
}

// TestMFAPolicyEveryone: with mfa.required everyone and no grace period,
// a user without a factor is led to enrol before anything is issued,
// cannot put it off, and ends with a multi-factor ID token.
func TestMFAPolicyEveryone(t *testing.T) {
	t.Parallel()
	for _, dialect := range dbtest.Dialects {
		t.Run(dialect, func(t *testing.T) {
			t.Parallel()
			srv := startServer(t, dialect, func(cfg *config.Config) { cfg.MFA.Required = config.MFARequiredEveryone })
			m := newMFAClient(t, srv)
			srv.createUser(t, "gina", testUserPassword)
			b := newBrowser(t, rpCallback)
			v := oauth2.GenerateVerifier()
			p, resp := m.password(t, b, "gina", v)
			noCode(t, resp, "password alone")
			mustEnrolPage(t, p, "policy everyone")
			if strings.Contains(p.Body, `id="totp-later"`) {
				t.Error("Set up later is offered without a grace period")
			}
			// Putting it off by hand is refused, and issues nothing.
			flow := p.URL.Query().Get("flow")
			_, values, _ := findForm(t, p, "totp-setup")
			lp, resp := b.post(t, srv.URL+authflow.PathMFALater, url.Values{"csrf": {values.Get("csrf")}, "flow": {flow}})
			noCode(t, resp, "later without a grace period")
			if lp.Status != http.StatusBadRequest {
				t.Errorf("Set up later without a grace period answered %d, want 400:\n%s", lp.Status, lp.Body)
			}
			p, _ = b.get(t, srv.URL+authflow.PathMFAContinue+"?flow="+url.QueryEscape(flow))
			mustEnrolPage(t, p, "continue without a factor")

			amr, acr := m.claims(t, enrolInFlow(t, b, p), v)
			if want := []string{"pwd", "otp", "mfa"}; !slices.Equal(amr, want) || acr != mfa.ACRMultiFactor {
				t.Errorf("after the enrolment the policy asked for: amr %v acr %q, want %v %q", amr, acr, want, mfa.ACRMultiFactor)
			}
		})
	}
}

// TestMFAPolicyRolesAndClients: mfa.required_roles asks a second factor
// of users holding a role, mfa.required_clients in sign-ins for a
// client; other users and clients go on with the password.
func TestMFAPolicyRolesAndClients(t *testing.T) {
	t.Parallel()
	for _, dialect := range dbtest.Dialects {
		t.Run(dialect, func(t *testing.T) {
			t.Parallel()
			// The clients are registered first, then a second instance on
			// the same database names one in its policy.
			first := startServer(t, dialect, nil)
			portalID, portalSecret := first.createClient(t, "--name", "Portal", "--redirect-uri", rpCallback, "--first-party")
			payrollID, payrollSecret := first.createClient(t, "--name", "Payroll", "--redirect-uri", rpCallback, "--first-party")
			srv := startServer(t, dialect, func(cfg *config.Config) {
				cfg.Database.URL, cfg.MasterKey = first.Config.Database.URL, first.Config.MasterKey
				cfg.MFA.RequiredRoles = []string{"admin", "no-such-role"}
				cfg.MFA.RequiredClients = []string{payrollID}
			})
			portal := &mfaClient{srv: srv, rp: newRelyingParty(t, srv.URL, portalID, portalSecret)}
			payroll := &mfaClient{srv: srv, rp: newRelyingParty(t, srv.URL, payrollID, payrollSecret)}
			if _, err := srv.App.Identity.Accounts.CreateUser(context.Background(), identity.CreateInput{
				Username: "ivy", Email: "ivy@example.com", Password: testUserPassword, EmailVerified: true, Roles: []string{"admin"},
			}); err != nil {
				t.Fatal(err)
			}
			srv.createUser(t, "jack", testUserPassword)

			p, resp := portal.password(t, newBrowser(t, rpCallback), "ivy", oauth2.GenerateVerifier())
			noCode(t, resp, "admin with the password alone")
			mustEnrolPage(t, p, "admin role")

			v := oauth2.GenerateVerifier()
			_, resp = portal.password(t, newBrowser(t, rpCallback), "jack", v)
			portal.mustPwdOnly(t, resp, v, "no role, another client")

			b := newBrowser(t, rpCallback)
			v = oauth2.GenerateVerifier()
			p, resp = payroll.password(t, b, "jack", v)
			noCode(t, resp, "required client with the password alone")
			mustEnrolPage(t, p, "required client")
			if amr, _ := payroll.claims(t, enrolInFlow(t, b, p), v); !slices.Contains(amr, "mfa") {
				t.Errorf("payroll after enrolment: amr %v, want mfa", amr)
			}
		})
	}
}

// TestMFAPolicyGracePeriod: within the grace period, counted from the
// user's first sign-in under the policy, the enrolment page offers "Set
// up later" with the days left and the flow goes on with the password; a
// relying party's acr_values are never put off; after the period the
// user must enrol to continue.
func TestMFAPolicyGracePeriod(t *testing.T) {
	t.Parallel()
	for _, dialect := range dbtest.Dialects {
		t.Run(dialect, func(t *testing.T) {
			t.Parallel()
			srv := startServer(t, dialect, func(cfg *config.Config) {
				cfg.MFA.Required = config.MFARequiredEveryone
				cfg.MFA.GracePeriod = config.Duration(7 * 24 * time.Hour)
			})
			m := newMFAClient(t, srv)
			kate := srv.createUser(t, "kate", testUserPassword)
			b := newBrowser(t, rpCallback)
			v := oauth2.GenerateVerifier()
			p, _ := m.password(t, b, "kate", v)
			mustEnrolPage(t, p, "first sign-in under the policy")
			mustContain(t, p.Body, "7 more days", "days left")
			_, resp := b.submit(t, p, "totp-later", nil)
			m.mustPwdOnly(t, resp, v, "Set up later")
			entries, err := srv.App.Audit.List(context.Background(), audit.Filter{UserID: kate.ID, Action: audit.ActionMFAEnrolmentPostponed})
			if err != nil || len(entries) != 1 {
				t.Errorf("postponement audit entries = %d, %v; want 1", len(entries), err)
			}

			// The next authorization asks again, still within the period.
			p, _ = b.get(t, m.authURL(oauth2.GenerateVerifier()))
			mustEnrolPage(t, p, "next authorization")
			mustContain(t, p.Body, `id="totp-later"`, "Set up later again")

			// acr_values are the relying party's: no "Set up later".
			ab := newBrowser(t, rpCallback)
			p, _ = m.password(t, ab, "kate", oauth2.GenerateVerifier(), "acr_values", mfa.ACRMultiFactor)
			mustEnrolPage(t, p, "acr_values within the grace period")
			if strings.Contains(p.Body, `id="totp-later"`) {
				t.Error("Set up later is offered when the relying party asked for multi-factor")
			}
			_, values, _ := findForm(t, p, "totp-setup")
			lp, resp := ab.post(t, srv.URL+authflow.PathMFALater, values)
			noCode(t, resp, "later with acr_values")
			if lp.Status != http.StatusBadRequest {
				t.Errorf("Set up later with acr_values answered %d, want 400", lp.Status)
			}

			// Eight days after the first sign-in the period is over.
			if err := srv.App.DB.Gorm().Exec("UPDATE mfa_enrolment_grace SET started_at = ? WHERE user_id = ?",
				time.Now().UTC().Add(-8*24*time.Hour), kate.ID).Error; err != nil {
				t.Fatal(err)
			}
			late := newBrowser(t, rpCallback)
			v = oauth2.GenerateVerifier()
			p, _ = m.password(t, late, "kate", v)
			mustEnrolPage(t, p, "after the grace period")
			if strings.Contains(p.Body, `id="totp-later"`) {
				t.Error("Set up later is offered after the grace period")
			}
			_, values, _ = findForm(t, p, "totp-setup")
			lp, resp = late.post(t, srv.URL+authflow.PathMFALater, values)
			noCode(t, resp, "later after the grace period")
			if lp.Status != http.StatusBadRequest {
				t.Errorf("Set up later after the grace period answered %d, want 400", lp.Status)
			}
			if amr, _ := m.claims(t, enrolInFlow(t, late, p), v); !slices.Contains(amr, "mfa") {
				t.Errorf("after enrolling: amr %v, want mfa", amr)
			}
		})
	}
}
