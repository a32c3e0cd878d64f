package main

import (
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"golang.org/x/oauth2"

	"gatehouse/config"
	"gatehouse/migrations/dbtest"
)

// fuzzRoute is one route the fuzz target feeds: in the query (GET), the
// form or JSON body (POST), or the path after the route's prefix.
type fuzzRoute struct {
	method, path string
	kind         string // "query", "form", "page-form" (sent with the CSRF token), "json", "path"
	basic        bool   // with the client's credentials, to get past client authentication
}

var fuzzRoutes = []fuzzRoute{
	{"GET", "/oauth2/authorize", "query", false},
	{"POST", "/oauth2/authorize", "form", false},
	{"POST", "/oauth2/token", "form", true},
	{"POST", "/oauth2/token", "form", false},
	{"POST", "/oauth2/introspect", "form", true},
	{"POST", "/oauth2/revoke", "form", true},
	{"GET", "/oauth2/userinfo", "query", false},
	{"POST", "/oauth2/userinfo", "form", false},
	{"POST", "/oauth2/register", "json", false},
	{"GET", "/oauth2/register/", "path", false},
	{"GET", "/oauth2/logout", "query", false},
	{"POST", "/oauth2/logout", "form", false},
	{"GET", "/", "query", false},
	{"GET", "/login", "query", false},
	{"POST", "/login", "page-form", false},
	{"GET", "/register", "query", false},
	{"POST", "/register", "page-form", false},
	{"GET", "/consent", "query", false},
	{"POST", "/consent", "page-form", false},
	{"POST", "/logout", "page-form", false},
	{"GET", "/forgot-password", "query", false},
	{"POST", "/forgot-password", "page-form", false},
	{"GET", "/reset-password", "query", false},
	{"POST", "/reset-password", "page-form", false},
	{"GET", "/unlock", "query", false},
	{"GET", "/verify-email", "query", false},
	{"POST", "/verify-email", "page-form", false},
	{"POST", "/verify-email/resend", "page-form", false},
	{"GET", "/account", "query", false},
	{"POST", "/account/profile", "page-form", false},
	{"POST", "/account/preferences", "page-form", false},
	{"POST", "/account/email", "page-form", false},
	{"POST", "/account/email/code", "page-form", false},
	{"POST", "/account/phone", "page-form", false},
	{"POST", "/account/phone/code", "page-form", false},
	{"POST", "/account/sessions/revoke", "page-form", false},
	{"POST", "/account/sessions/revoke-others", "page-form", false},
	{"GET", "/captcha/challenge", "query", false},
}

// fuzzTarget is a running server with a registered client and a
// signed-in browser, so that the input reaches past authentication.
type fuzzTarget struct {
	dialect, url     string
	clientID, secret string
	csrf, cookies    string
	client           *http.Client
}

func newFuzzTarget(f *testing.F, dialect string) *fuzzTarget {
	srv := startServer(f, dialect, func(c *config.Config) {
		// Limits and the CAPTCHA would stop the input before the handlers.
		lots := config.Rate("1000000/1m")
		rl := &c.RateLimits
		for _, r := range []*config.Rate{&rl.LoginPerIP, &rl.LoginPerAccount, &rl.RegistrationPerIP, &rl.PasswordResetPerIP,
			&rl.PasswordResetPerAccount, &rl.VerificationPerIP, &rl.VerificationPerAccount, &rl.TokenPerClient, &rl.TokenPerIP} {
			*r = lots
		}
		c.Captcha.Provider = "off"
	})
	srv.createUser(f, "fuzz", testUserPassword)
	id, secret := srv.createClient(f, "--name", "Fuzz", "--redirect-uri", rpCallback,
		"--grant-type", "authorization_code", "--grant-type", "refresh_token", "--grant-type", "client_credentials", "--post-logout-redirect-uri", rpAfterLogout)
	tg := &fuzzTarget{dialect: dialect, url: srv.URL, clientID: id, secret: secret,
		client: &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}}

	// Sign in through the pages once, keeping the cookies and the token.
	b := newBrowser(f, rpCallback)
	rp := &oauth2.Config{ClientID: id, RedirectURL: rpCallback, Endpoint: oauth2.Endpoint{AuthURL: srv.URL + "/oauth2/authorize"}, Scopes: []string{"openid"}}
	resp, err := b.Get(rp.AuthCodeURL("state-0123456789", oauth2.S256ChallengeOption(oauth2.GenerateVerifier())))
	if err != nil {
		f.Fatal(err)
	}
	resp.Body.Close()
	resp, err = b.Get(srv.URL + "/login")
	if err != nil {
		f.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	m := csrfInput.FindStringSubmatch(string(body))
	if m == nil {
		f.Fatalf("%s: no CSRF token on the login page", dialect)
	}
	resp, err = b.PostForm(srv.URL+"/login", url.Values{"csrf": {m[1]}, "login": {"fuzz"}, "password": {testUserPassword}})
	if err != nil {
		f.Fatal(err)
	}
	resp.Body.Close()
	resp, err = b.Get(srv.URL + "/account")
	if err != nil {
		f.Fatal(err)
	}
	body, _ = io.ReadAll(resp.Body)
	resp.Body.Close()
	if m = csrfInput.FindStringSubmatch(string(body)); m == nil {
		f.Fatalf("%s: not signed in after the login (account page %d)", dialect, resp.StatusCode)
	}
	tg.csrf = m[1]
	u, _ := url.Parse(srv.URL)
	var parts []string
	for _, c := range b.Jar.Cookies(u) {
		parts = append(parts, c.Name+"="+c.Value)
	}
	tg.cookies = strings.Join(parts, "; ")
	return tg
}

// FuzzRoutes throws arbitrary bytes at the query, form, JSON and path
// parsing of every page and protocol route, on SQLite and PostgreSQL, as
// a signed-in browser and as a registered client. No input may get a
// 5xx: bad input is the caller's error. CLIENT in the input stands for
// the registered client's ID and REDIRECT for its redirect URI, so that
// the seeds can reach past the client checks.
func FuzzRoutes(f *testing.F) {
	targets := make([]*fuzzTarget, 0, len(dbtest.Dialects))
	for _, d := range dbtest.Dialects {
		targets = append(targets, newFuzzTarget(f, d))
	}
	for i, r := range fuzzRoutes {
		for _, bad := range []string{"%00", "%FF", "\xff", "%0A", "\x00", "%zz;"} {
			switch r.kind {
			case "json":
				f.Add(uint8(i), `{"redirect_uris":["https://rp.example/cb"],"client_name":"`+bad+`"}`)
			case "path":
				f.Add(uint8(i), bad)
			default:
				f.Add(uint8(i), "flow="+bad+"&login="+bad+"&session="+bad+"&token="+bad+"&client_id=CLIENT")
			}
		}
	}
	f.Fuzz(func(t *testing.T, route uint8, data string) {
		r := fuzzRoutes[int(route)%len(fuzzRoutes)]
		for _, tg := range targets {
			tg.check(t, r, data)
		}
	})
}

func (tg *fuzzTarget) check(t testing.TB, r fuzzRoute, data string) {
	data = strings.NewReplacer("CLIENT", tg.clientID, "REDIRECT", url.QueryEscape(rpCallback)).Replace(data)
	var body io.Reader
	path, query := r.path, ""
	switch r.kind {
	case "query":
		query = wireSafe(data)
	case "path":
		path += wireSafe(strings.NewReplacer("?", "%3F").Replace(data))
	case "page-form":
		body = strings.NewReader("csrf=" + tg.csrf + "&" + data)
	default:
		body = strings.NewReader(data)
	}
	req, err := http.NewRequest(r.method, tg.url+"/", body)
	if err != nil {
		t.Fatal(err)
	}
	req.URL.Path, req.URL.RawPath, req.URL.RawQuery = "", "", query
	req.URL.Opaque = "//" + req.URL.Host + path // sent as it is, escapes and raw bytes alike
	switch r.kind {
	case "json":
		req.Header.Set("Content-Type", "application/json")
		req.Header.Set("Authorization", "Bearer "+testInitialAccessToken)
	case "form", "page-form":
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	}
	if r.basic {
		req.SetBasicAuth(tg.clientID, tg.secret)
	}
	req.Header.Set("Cookie", tg.cookies)
	resp, err := tg.client.Do(req)
	if err != nil {
		t.Fatalf("%s %s%s?%s: %v", r.method, tg.url, path, query, err)
	}
	io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	if resp.StatusCode >= 500 {
		t.Errorf("%s: %s %s (%s) with %q: status %d", tg.dialect, r.method, r.path, r.kind, data, resp.StatusCode)
	}
}

// wireSafe escapes what an HTTP request line cannot carry (controls,
// space, DEL, '#') and leaves everything else as sent: escapes, broken
// escapes and bytes that are not UTF-8.
func wireSafe(s string) string {
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c <= ' ' || c == 0x7f || c == '#' {
			fmt.Fprintf(&b, "%%%02X", c)
			continue
		}
		b.WriteByte(c)
	}
	return b.String()
}
