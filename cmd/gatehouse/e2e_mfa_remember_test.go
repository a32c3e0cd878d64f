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
	"gatehouse/identity/audit"
	"gatehouse/migrations/dbtest"
)

// rememberCookieName is the remembered-browser cookie on an http issuer.
const rememberCookieName = "gatehouse_mfa_browser"

func rememberServer(t testing.TB, dialect string) (*testServer, *mfaClient) {
	t.Helper()
	srv := startServer(t, dialect, func(cfg *config.Config) {
		manySignIns(cfg)
		cfg.MFA.RememberBrowser = config.Duration(30 * 24 * time.Hour)
	})
	return srv, newMFAClient(t, srv)
}

// signInRemembering signs username in on a new browser with the password
// and answer (a code, or a recovery code when recovery is true), ticking
// "Don't ask for a second factor on this browser". It returns the
// browser and the answer to the challenge, before any redirect is
// followed.
func (m *mfaClient) signInRemembering(t testing.TB, username, answer string, recovery bool) (*browser, *http.Response) {
	t.Helper()
	b := newBrowser(t, rpCallback)
	v := oauth2.GenerateVerifier()
	p, _ := m.password(t, b, username, v)
	mustChallenge(t, p)
	fields := map[string]string{"code": answer, "remember": "1"}
	if recovery {
		p, _ = b.get(t, findLink(t, p, "mfa-use-recovery"))
		fields = map[string]string{"recovery_code": answer, "remember": "1"}
	}
	mustContain(t, p.Body, "Don't ask for a second factor on this browser for 30 days", "remember checkbox")
	action, values, _ := findForm(t, p, "mfa-submit")
	for k, val := range fields {
		values.Set(k, val)
	}
	target, err := p.URL.Parse(action)
	if err != nil {
		t.Fatal(err)
	}
	once := &http.Client{Jar: b.Jar, CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	resp, err := once.PostForm(target.String(), values)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusSeeOther {
		t.Fatalf("the challenge answered %d, want 303", resp.StatusCode)
	}
	_, final := b.get(t, target.ResolveReference(mustParse(t, resp.Header.Get("Location"))).String())
	m.claims(t, final, v)
	return b, resp
}

func mustParse(t testing.TB, s string) *url.URL {
	t.Helper()
	u, err := url.Parse(s)
	if err != nil {
		t.Fatal(err)
	}
	return u
}

// carrying returns a new browser that holds only the remembered-browser
// cookie value, as if it had been copied from another one.
func carrying(t testing.TB, srv *testServer, value string) *browser {
	t.Helper()
	b := newBrowser(t, rpCallback)
	b.Jar.SetCookies(mustParse(t, srv.URL), []*http.Cookie{{Name: rememberCookieName, Value: value, Path: "/"}})
	return b
}

// rememberCookie returns the value of b's remembered-browser cookie.
func rememberCookie(t testing.TB, srv *testServer, b *browser) string {
	t.Helper()
	for _, c := range b.Jar.Cookies(mustParse(t, srv.URL)) {
		if c.Name == rememberCookieName {
			return c.Value
		}
	}
	t.Fatalf("no %s cookie", rememberCookieName)
	return ""
}

// mustSkip signs username in on b with the password alone.
func (m *mfaClient) mustSkip(t testing.TB, b *browser, username, what string) {
	t.Helper()
	v := oauth2.GenerateVerifier()
	p, resp := m.password(t, b, username, v)
	if resp.StatusCode != http.StatusSeeOther {
		t.Fatalf("%s: the password led to %s (status %d), want the callback", what, p.URL, p.Status)
	}
	m.mustPwdOnly(t, resp, v, what)
}

// mustAsk fails unless the password sign-in of username on b is
// challenged.
func (m *mfaClient) mustAsk(t testing.TB, b *browser, username, what string, params ...string) {
	t.Helper()
	p, resp := m.password(t, b, username, oauth2.GenerateVerifier(), params...)
	noCode(t, resp, what)
	if p.URL.Path != "/login/mfa" {
		t.Fatalf("%s: the password led to %s (status %d), want the second-factor page", what, p.URL, p.Status)
	}
}

// TestMFARememberBrowser: a challenge answered with "Don't ask again"
// sets an HttpOnly, SameSite=Lax cookie; the browser then signs in with
// the password alone, and the ID token's amr is ["pwd"]. It never
// stands in for acr_values, prompt=login or max_age. Forgetting it in
// the security section brings the challenge back, and the janitor
// purges expired ones.
func TestMFARememberBrowser(t *testing.T) {
	t.Parallel()
	for _, dialect := range dbtest.Dialects {
		t.Run(dialect, func(t *testing.T) {
			t.Parallel()
			srv, m := rememberServer(t, dialect)
			adaID, secret, recovery := m.enrolledUser(t, "ada")
			b, resp := m.signInRemembering(t, "ada", totpCode(t, secret, time.Now().Add(30*time.Second)), false)
			var set string
			for _, c := range resp.Header.Values("Set-Cookie") {
				if strings.HasPrefix(c, rememberCookieName+"=") {
					set = c
				}
			}
			for _, attr := range []string{"HttpOnly", "SameSite=Lax", "Path=/", "Max-Age=2592000"} {
				if !strings.Contains(set, attr) {
					t.Errorf("remembered-browser cookie %q lacks %s", set, attr)
				}
			}
			cookie := rememberCookie(t, srv, b)

			m.mustSkip(t, carrying(t, srv, cookie), "ada", "remembered browser")
			entries, err := srv.App.Audit.List(context.Background(), audit.Filter{UserID: adaID, Action: audit.ActionMFABrowserRecognised})
			if err != nil || len(entries) != 1 {
				t.Errorf("audit entries of the skip = %d, %v; want 1", len(entries), err)
			}
			// A re-authentication asks for the factor itself.
			again := carrying(t, srv, cookie)
			m.mustSkip(t, again, "ada", "remembered browser")
			m.mustAsk(t, again, "ada", "prompt=login", "prompt", "login")
			// The security section's sign-in again (to remove a factor)
			// asks for the factor too, or it would go round in a circle.
			p, _ := again.get(t, srv.URL+"/login?next="+url.QueryEscape("/account?section=security"))
			p, _ = again.submit(t, p, "login-submit", map[string]string{"login": "ada", "password": testUserPassword})
			mustChallenge(t, p)
			m.mustAsk(t, carrying(t, srv, cookie), "ada", "max_age", "max_age", "600")
			m.mustAsk(t, carrying(t, srv, cookie), "ada", "acr_values", "acr_values", "http://schemas.openid.net/pape/policies/2007/06/multi-factor")

			// The security section lists it; forgetting it brings the
			// challenge back.
			p, _ = b.get(t, srv.URL+"/account?section=security")
			mustContain(t, p.Body, `id="mfa-browsers"`, "remembered browsers")
			mustContain(t, p.Body, "Browser remembered for two-step verification", "security activity")
			list, err := srv.App.MFA.ListBrowsers(context.Background(), adaID)
			if err != nil || len(list) != 1 {
				t.Fatalf("ListBrowsers = %d, %v; want 1", len(list), err)
			}
			p, _ = b.submit(t, p, "browser-forget-"+list[0].ID, nil)
			if strings.Contains(p.Body, `id="mfa-browsers"`) {
				t.Error("the forgotten browser is still listed")
			}
			mustContain(t, p.Body, "Remembered browsers forgotten", "security activity")
			m.mustAsk(t, carrying(t, srv, cookie), "ada", "forgotten browser")

			// An expired one is asked again, and the janitor purges it.
			other, _ := m.signInRemembering(t, "ada", recovery[0], true)
			expired := rememberCookie(t, srv, other)
			m.mustSkip(t, carrying(t, srv, expired), "ada", "second remembered browser")
			if err := srv.App.DB.Gorm().Exec("UPDATE mfa_remembered_browsers SET expires_at = ?", time.Now().UTC().Add(-time.Minute)).Error; err != nil {
				t.Fatal(err)
			}
			m.mustAsk(t, carrying(t, srv, expired), "ada", "expired browser")
			if _, err := srv.App.purge(context.Background(), time.Now()); err != nil {
				t.Fatal(err)
			}
			if n := countRows(t, srv.App, "mfa_remembered_browsers"); n != 0 {
				t.Errorf("%d remembered browsers after the purge, want 0", n)
			}
		})
	}
}

// TestMFARememberBrowserAttacker is written from the attacker's side: a
// remembered-browser cookie of another user, and a forged one, get the
// challenge.
func TestMFARememberBrowserAttacker(t *testing.T) {
	t.Parallel()
	for _, dialect := range dbtest.Dialects {
		t.Run(dialect, func(t *testing.T) {
			t.Parallel()
			srv, m := rememberServer(t, dialect)
			_, secret, _ := m.enrolledUser(t, "ada")
			_, mallorySecret, _ := m.enrolledUser(t, "mallory")
			mb, _ := m.signInRemembering(t, "mallory", totpCode(t, mallorySecret, time.Now().Add(30*time.Second)), false)
			mallorys := rememberCookie(t, srv, mb)
			m.mustSkip(t, carrying(t, srv, mallorys), "mallory", "mallory's own browser")
			// Mallory knows ada's password, not her second factor.
			m.mustAsk(t, carrying(t, srv, mallorys), "ada", "another user's remembered browser")
			m.mustAsk(t, carrying(t, srv, "forged-"+mallorys[:20]), "ada", "forged cookie")
			m.mustAsk(t, carrying(t, srv, "MTcwMDAwMDAwMHxhYmN8ZGVm"), "ada", "guessed cookie")
			// Ada's own remembered browser is hers alone.
			ab, _ := m.signInRemembering(t, "ada", totpCode(t, secret, time.Now().Add(30*time.Second)), false)
			m.mustAsk(t, carrying(t, srv, rememberCookie(t, srv, ab)), "mallory", "ada's browser for mallory")
		})
	}
}

// TestMFARememberBrowserForgotten: "Forget all browsers", a password
// change and `gatehouse users reset-mfa` forget every remembered browser.
func TestMFARememberBrowserForgotten(t *testing.T) {
	t.Parallel()
	for _, dialect := range dbtest.Dialects {
		t.Run(dialect, func(t *testing.T) {
			t.Parallel()
			srv, m := rememberServer(t, dialect)
			adaID, secret, recovery := m.enrolledUser(t, "ada")
			b, _ := m.signInRemembering(t, "ada", totpCode(t, secret, time.Now().Add(30*time.Second)), false)
			first := rememberCookie(t, srv, b)
			second, _ := m.signInRemembering(t, "ada", recovery[0], true)
			p, _ := b.get(t, srv.URL+"/account?section=security")
			b.submit(t, p, "browsers-forget-all", nil)
			m.mustAsk(t, carrying(t, srv, first), "ada", "first browser after Forget all")
			m.mustAsk(t, carrying(t, srv, rememberCookie(t, srv, second)), "ada", "second browser after Forget all")

			third, _ := m.signInRemembering(t, "ada", recovery[1], true)
			cookie := rememberCookie(t, srv, third)
			m.mustSkip(t, carrying(t, srv, cookie), "ada", "before the password change")
			const newPassword = "a-new-password-for-ada-42"
			if err := srv.App.Identity.Profiles.ChangePassword(context.Background(), adaID, testUserPassword, newPassword, ""); err != nil {
				t.Fatal(err)
			}
			if err := srv.App.Identity.Profiles.ChangePassword(context.Background(), adaID, newPassword, testUserPassword, ""); err != nil {
				t.Fatal(err)
			}
			m.mustAsk(t, carrying(t, srv, cookie), "ada", "after a password change")

			m.signInRemembering(t, "ada", recovery[2], true)
			if n := countRows(t, srv.App, "mfa_remembered_browsers"); n != 1 {
				t.Fatalf("%d remembered browsers, want 1", n)
			}
			if out, code := srv.cli(t, "", "users", "reset-mfa", "ada"); code != 0 {
				t.Fatalf("users reset-mfa: %d %s", code, out)
			}
			if n := countRows(t, srv.App, "mfa_remembered_browsers"); n != 0 {
				t.Errorf("%d remembered browsers after reset-mfa, want 0", n)
			}
			entries, err := srv.App.Audit.List(context.Background(), audit.Filter{UserID: adaID, Action: audit.ActionMFABrowserForgotten})
			if err != nil || !slices.ContainsFunc(entries, func(e audit.Entry) bool { return e.Details["scope"] == "all" }) {
				t.Errorf("audit entries of Forget all = %v, %v", entries, err)
			}
		})
	}
}

// TestMFARememberCookieHTTPS: on an https issuer the remembered-browser
// cookie is __Host-, Secure, HttpOnly, SameSite=Lax and Path=/.
func TestMFARememberCookieHTTPS(t *testing.T) {
	t.Parallel()
	srv := startServer(t, "sqlite", func(c *config.Config) {
		c.Issuer = "https://" + c.Listen
		c.MFA.RememberBrowser = config.Duration(24 * time.Hour)
	})
	srv.createUser(t, "hana", testUserPassword)
	id, _ := srv.createClient(t, "--name", "Cookies", "--redirect-uri", rpCallback, "--first-party")
	rp := &oauth2.Config{ClientID: id, RedirectURL: rpCallback, Endpoint: oauth2.Endpoint{AuthURL: srv.URL + "/oauth2/authorize"}, Scopes: []string{"openid"}}
	authURL := func() string {
		return rp.AuthCodeURL("state-0123456789", oauth2.S256ChallengeOption(oauth2.GenerateVerifier()))
	}
	enrol := newTLSBrowser(t, rpCallback)
	signIn(t, enrol, authURL(), "hana", false)
	secret, _ := enrolTOTP(t, srv, enrol)

	b := newTLSBrowser(t, rpCallback)
	rec := &cookieRecorder{next: b.Transport}
	b.Transport = rec
	p, _ := b.get(t, authURL())
	p, _ = b.submit(t, p, "login-submit", map[string]string{"login": "hana", "password": testUserPassword})
	mustChallenge(t, p)
	mustContain(t, p.Body, "on this browser for 1 day", "remember checkbox")
	b.submit(t, p, "mfa-submit", map[string]string{"code": totpCode(t, secret, time.Now().Add(30*time.Second)), "remember": "1"})
	var found bool
	for _, c := range rec.set {
		if c.Name != "__Host-"+rememberCookieName {
			continue
		}
		found = true
		if !c.Secure || !c.HttpOnly || c.SameSite != http.SameSiteLaxMode || c.Path != "/" || c.Domain != "" || c.MaxAge != 86400 {
			t.Errorf("remembered-browser cookie: Secure=%v HttpOnly=%v SameSite=%v Path=%q Domain=%q MaxAge=%d",
				c.Secure, c.HttpOnly, c.SameSite, c.Path, c.Domain, c.MaxAge)
		}
	}
	if !found {
		t.Errorf("no __Host-%s cookie set", rememberCookieName)
	}
}
