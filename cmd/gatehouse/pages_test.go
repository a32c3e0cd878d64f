package main

import (
	"net/http"
	"net/url"
	"strings"
	"testing"

	gooidc "github.com/coreos/go-oidc/v3/oidc"
	"golang.org/x/oauth2"
)

// TestHostedPages drives the pages as a person would: registration via
// prompt=create, consent denial and memory, prompt=login, the login
// failure message, CSRF and the logout confirmation.
func TestHostedPages(t *testing.T) {
	t.Parallel()
	srv := startServer(t, "sqlite", nil)
	id, secret := srv.createClient(t, "--name", "Pages App", "--redirect-uri", rpCallback, "--post-logout-redirect-uri", rpAfterLogout)
	rp := newRelyingParty(t, srv.URL, id, secret)
	authURL := func(extra ...oauth2.AuthCodeOption) string {
		return rp.OAuth.AuthCodeURL("state-0123456789", append(extra, oauth2.S256ChallengeOption(oauth2.GenerateVerifier()))...)
	}

	t.Run("registration via prompt=create", func(t *testing.T) {
		b := newBrowser(t, rpCallback)
		p, _ := b.get(t, authURL(oauth2.SetAuthURLParam("prompt", "create")))
		if p.URL.Path != "/register" {
			t.Fatalf("prompt=create led to %s", p.URL)
		}
		for _, ac := range []string{`autocomplete="username"`, `autocomplete="email"`, `autocomplete="new-password"`, `autocomplete="given-name"`} {
			mustContain(t, p.Body, ac, "registration form")
		}
		// Every problem at once, next to its field; nothing is created.
		p, _ = b.submit(t, p, "register-submit", map[string]string{"username": "x", "email": "not-an-email", "password": "password"})
		if p.Status != http.StatusUnprocessableEntity {
			t.Fatalf("invalid registration answered %d", p.Status)
		}
		for _, field := range []string{"username-error", "email-error", "password-error"} {
			mustContain(t, p.Body, `id="`+field+`"`, "registration errors")
		}
		mustContain(t, p.Body, `aria-invalid="true"`, "registration errors")
		p, resp := b.submit(t, p, "register-submit", map[string]string{
			"username": "erin", "email": "Erin@Example.COM", "password": testUserPassword, "given_name": "Erin", "family_name": "Doe",
		})
		if p.URL.Path != "/consent" {
			t.Fatalf("registration led to %s (%d)", p.URL, resp.StatusCode)
		}
		_, resp = b.submit(t, p, "consent-allow", nil)
		code := callbackQuery(t, resp).Get("code")
		if code == "" {
			t.Fatal("no code after registration")
		}
		u, _, err := srv.App.Identity.Accounts.Users.FindUserByLogin(t.Context(), "erin@example.com")
		if err != nil || u.Email != "Erin@example.com" || u.GivenName != "Erin" {
			t.Errorf("registered user = %+v, %v (email domain lower-cased, local part kept)", u, err)
		}
		// The same person re-registering with the same name is told so.
		b2 := newBrowser(t, rpCallback)
		p, _ = b2.get(t, srv.URL+"/register")
		p, _ = b2.submit(t, p, "register-submit", map[string]string{"username": "ERIN", "email": "other@example.com", "password": testUserPassword})
		mustContain(t, p.Body, `id="username-error"`, "duplicate username")
	})

	srv.createUser(t, "frank", testUserPassword)

	t.Run("login failure says the same for unknown users and wrong passwords", func(t *testing.T) {
		b := newBrowser(t, rpCallback)
		p, _ := b.get(t, srv.URL+"/login")
		unknown, _ := b.submit(t, p, "login-submit", map[string]string{"login": "nobody", "password": testUserPassword})
		wrong, _ := b.submit(t, p, "login-submit", map[string]string{"login": "frank", "password": "wrong password here"})
		if unknown.Status != wrong.Status || !strings.Contains(unknown.Body, "Incorrect username or password.") || !strings.Contains(wrong.Body, "Incorrect username or password.") {
			t.Errorf("unknown user: %d, wrong password: %d; both must show the same message", unknown.Status, wrong.Status)
		}
		if strings.Contains(wrong.Body, "wrong password here") {
			t.Error("the password was echoed back")
		}
	})

	t.Run("missing CSRF token is refused", func(t *testing.T) {
		b := newBrowser(t, rpCallback)
		b.get(t, srv.URL+"/login")
		p, _ := b.post(t, srv.URL+"/login", url.Values{"login": {"frank"}, "password": {testUserPassword}})
		if p.Status != http.StatusForbidden {
			t.Errorf("login without CSRF token answered %d, want 403", p.Status)
		}
	})

	t.Run("consent denied, then remembered, then prompt=consent asks again", func(t *testing.T) {
		b := newBrowser(t, rpCallback)
		p, _ := b.get(t, authURL())
		p, _ = b.submit(t, p, "login-submit", map[string]string{"login": "frank", "password": testUserPassword})
		_, resp := b.submit(t, p, "consent-deny", nil)
		if q := callbackQuery(t, resp); q.Get("error") != "access_denied" {
			t.Fatalf("deny gave %v", q)
		}
		p, _ = b.get(t, authURL())
		_, resp = b.submit(t, p, "consent-allow", nil)
		if callbackQuery(t, resp).Get("code") == "" {
			t.Fatal("allow gave no code")
		}
		_, resp = b.get(t, authURL())
		if callbackQuery(t, resp).Get("code") == "" {
			t.Fatal("remembered consent was asked again")
		}
		p, _ = b.get(t, authURL(oauth2.SetAuthURLParam("prompt", "consent")))
		if p.URL.Path != "/consent" {
			t.Errorf("prompt=consent led to %s", p.URL)
		}
		// prompt=login asks for the password again despite the session,
		// and the ID token's auth_time moves on.
		p, _ = b.get(t, authURL(oauth2.SetAuthURLParam("prompt", "login")))
		if p.URL.Path != "/login" {
			t.Fatalf("prompt=login led to %s", p.URL)
		}
		// A login hint pre-fills the form.
		p, _ = b.get(t, authURL(oauth2.SetAuthURLParam("prompt", "login"), oauth2.SetAuthURLParam("login_hint", "frank")))
		mustContain(t, p.Body, `value="frank"`, "login_hint")
		// prompt=create shows the registration page even to a signed-in
		// browser: the user asked for a new account.
		p, _ = b.get(t, authURL(oauth2.SetAuthURLParam("prompt", "create")))
		if p.URL.Path != "/register" {
			t.Errorf("prompt=create with a session led to %s", p.URL)
		}
		// max_age=0 also forces a login.
		p, _ = b.get(t, authURL(oauth2.SetAuthURLParam("max_age", "0")))
		if p.URL.Path != "/login" {
			t.Errorf("max_age=0 led to %s", p.URL)
		}
	})

	t.Run("logout without a hint asks first", func(t *testing.T) {
		b := newBrowser(t, "http://127.0.0.1:9/")
		p, _ := b.get(t, authURL(gooidc.Nonce("nonce-0123456789")))
		b.submit(t, p, "login-submit", map[string]string{"login": "frank", "password": testUserPassword})
		p, _ = b.get(t, srv.URL+"/oauth2/logout?client_id="+id+"&post_logout_redirect_uri="+url.QueryEscape(rpAfterLogout)+"&state=s1")
		mustContain(t, p.Body, `id="logout-submit"`, "logout confirmation")
		_, resp := b.submit(t, p, "logout-submit", nil)
		if loc := resp.Header.Get("Location"); loc != rpAfterLogout+"?state=s1" {
			t.Errorf("after confirming: Location %q", loc)
		}
		home, _ := b.get(t, srv.URL+"/")
		mustContain(t, home.Body, `id="home-login"`, "home after logout")
		// An unregistered post-logout URI is refused with a page.
		got := do(t, mustRequest(t, http.MethodGet, srv.URL+"/oauth2/logout?client_id="+id+"&post_logout_redirect_uri="+url.QueryEscape("https://evil.example/")))
		if got.Status != http.StatusBadRequest || got.Header.Get("Location") != "" {
			t.Errorf("unregistered post_logout_redirect_uri: %d %q", got.Status, got.Header.Get("Location"))
		}
	})

	t.Run("security headers", func(t *testing.T) {
		got := do(t, mustRequest(t, http.MethodGet, srv.URL+"/login"))
		want := map[string]string{
			"X-Content-Type-Options": "nosniff",
			"X-Frame-Options":        "DENY",
			"Referrer-Policy":        "no-referrer",
		}
		for k, v := range want {
			if got.Header.Get(k) != v {
				t.Errorf("%s = %q, want %q", k, got.Header.Get(k), v)
			}
		}
		if csp := got.Header.Get("Content-Security-Policy"); !strings.Contains(csp, "frame-ancestors 'none'") || !strings.Contains(csp, "default-src 'none'") {
			t.Errorf("CSP = %q", csp)
		}
		for _, c := range got.Header.Values("Set-Cookie") {
			if !strings.Contains(c, "HttpOnly") || !strings.Contains(c, "SameSite=Lax") {
				t.Errorf("cookie without HttpOnly/SameSite: %s", c)
			}
		}
		// Browser apps (SPAs) call discovery and the token endpoint
		// cross-origin; the hosted pages are not shared that way.
		req := mustRequest(t, http.MethodGet, srv.URL+"/.well-known/openid-configuration")
		req.Header.Set("Origin", "https://spa.example")
		if got := do(t, req); got.Header.Get("Access-Control-Allow-Origin") != "*" || got.Header.Get("X-Content-Type-Options") != "nosniff" {
			t.Errorf("discovery CORS/nosniff headers: %v", got.Header)
		}
		req = mustRequest(t, http.MethodGet, srv.URL+"/login")
		req.Header.Set("Origin", "https://spa.example")
		if got := do(t, req); got.Header.Get("Access-Control-Allow-Origin") != "" {
			t.Errorf("the login page allows cross-origin reads: %v", got.Header)
		}
		if got := do(t, mustRequest(t, http.MethodGet, srv.URL+"/no/such/page")); got.Status != 404 || !strings.Contains(got.Body, "Page not found") {
			t.Errorf("unknown page: %d", got.Status)
		}
	})

	t.Run("form_post response mode", func(t *testing.T) {
		b := newBrowser(t, rpCallback)
		p, _ := b.get(t, authURL(oauth2.SetAuthURLParam("response_mode", "form_post")))
		p, _ = b.submit(t, p, "login-submit", map[string]string{"login": "frank", "password": testUserPassword})
		mustContain(t, p.Body, `action="`+rpCallback+`"`, "form_post page")
		mustContain(t, p.Body, `name="code"`, "form_post page")
		mustContain(t, p.Body, `name="iss"`, "form_post page")
	})
}
