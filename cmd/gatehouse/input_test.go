package main

import (
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"testing"

	"golang.org/x/oauth2"

	"gatehouse/migrations/dbtest"
)

// badValues are the encodings an attacker sends to make a store choke:
// an escaped NUL, an escaped byte that is not UTF-8, the raw byte itself
// and another C0 control character.
var badValues = []struct{ name, raw string }{
	{"escaped NUL", "%00"},
	{"escaped 0xFF", "%FF"},
	{"raw 0xFF", "\xff"},
	{"escaped newline", "a%0Ab"},
}

// TestBadEncodingRefused sends NUL bytes, invalid UTF-8 and control
// characters in every place an unauthenticated caller can put them. Each
// must be a 400 in the route's format before any store sees it (on
// PostgreSQL they used to reach it and fail with a 500).
func TestBadEncodingRefused(t *testing.T) {
	t.Parallel()
	for _, dialect := range dbtest.Dialects {
		t.Run(dialect, func(t *testing.T) { testBadEncodingRefused(t, dialect) })
	}
}

func testBadEncodingRefused(t *testing.T, dialect string) {
	srv := startServer(t, dialect, nil)
	srv.createUser(t, "ines", testUserPassword)
	clientID, secret := srv.createClient(t, "--name", "Enc", "--redirect-uri", rpCallback)

	// A signed-in browser with its CSRF token, for the form posts.
	b := newBrowser(t, rpCallback)
	p, _ := b.get(t, srv.URL+"/login")
	b.submit(t, p, "login-submit", map[string]string{"login": "ines", "password": testUserPassword})
	p, _ = b.get(t, srv.URL+"/account")
	token := csrfFromPage(t, p)

	authorize := url.Values{"client_id": {clientID}, "redirect_uri": {rpCallback}, "response_type": {"code"},
		"scope": {"openid"}, "state": {"state-0123456789"}, "nonce": {"n-0123456789"},
		"code_challenge": {oauth2.S256ChallengeFromVerifier(oauth2.GenerateVerifier())}, "code_challenge_method": {"S256"},
		"prompt": {"login"}, "max_age": {"60"}, "login_hint": {"ines"}, "id_token_hint": {"x.y.z"},
		"acr_values": {"0"}, "ui_locales": {"en"}, "response_mode": {"query"}, "display": {"page"},
		"flow": {"f"}, "step": {"login"}, "mac": {"m"}}

	for _, bad := range badValues {
		t.Run(bad.name, func(t *testing.T) {
			for param := range authorize {
				q := withRaw(authorize, param, bad.raw)
				wantBadPage(t, b, http.MethodGet, srv.URL+"/oauth2/authorize?"+q, "", "authorize "+param)
			}
			for _, path := range []string{"/login", "/register", "/consent"} {
				wantBadPage(t, b, http.MethodGet, srv.URL+path+"?flow="+bad.raw, "", path+" flow")
			}
			wantBadPage(t, b, http.MethodPost, srv.URL+"/login", "csrf="+token+"&login="+bad.raw+"&password=x", "login field")
			wantBadPage(t, b, http.MethodPost, srv.URL+"/consent", "csrf="+token+"&flow="+bad.raw+"&decision=allow", "consent flow")
			wantBadPage(t, b, http.MethodPost, srv.URL+"/account/sessions/revoke", "csrf="+token+"&session="+bad.raw, "revoke session")

			for _, path := range []string{"/oauth2/token", "/oauth2/introspect", "/oauth2/revoke"} {
				wantBadAPI(t, postForm(t, srv.URL+path, "grant_type=client_credentials&token="+bad.raw, clientID, secret), path+" body")
				wantBadAPI(t, postForm(t, srv.URL+path, "grant_type=client_credentials&client_id="+bad.raw+"&client_secret=x", "", ""), path+" client_id")
				req, _ := http.NewRequest(http.MethodPost, srv.URL+path, strings.NewReader("grant_type=client_credentials&token=x"))
				req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
				req.SetBasicAuth(bad.raw, "x") // form-decoded by the server (RFC 6749 §2.3.1)
				wantBadAPI(t, do(t, req), path+" basic client id")
			}
			wantBadAPI(t, postForm(t, srv.URL+"/oauth2/userinfo", "access_token="+bad.raw, "", ""), "userinfo")
			req, _ := http.NewRequest(http.MethodGet, srv.URL+"/oauth2/register/"+bad.raw, nil)
			req.Header.Set("Authorization", "Bearer x")
			wantBadAPI(t, do(t, req), "register path")
		})
	}

	for name, body := range map[string]string{
		"escaped NUL":  `{"redirect_uris":["https://rp.example/cb"],"client_name":"a\u0000b"}`,
		"raw 0xFF":     "{\"redirect_uris\":[\"https://rp.example/cb\"],\"client_name\":\"a\xffb\"}",
		"nested NUL":   `{"redirect_uris":["https://rp.example/cb\u0000"]}`,
		"key with NUL": `{"redirect_uris":["https://rp.example/cb"],"x\u0000":"y"}`,
	} {
		t.Run("register "+name, func(t *testing.T) {
			req, _ := http.NewRequest(http.MethodPost, srv.URL+"/oauth2/register", strings.NewReader(body))
			req.Header.Set("Content-Type", "application/json")
			req.Header.Set("Authorization", "Bearer "+testInitialAccessToken)
			wantBadAPI(t, do(t, req), "register")
		})
	}
	t.Run("header value", func(t *testing.T) {
		req, _ := http.NewRequest(http.MethodGet, srv.URL+"/login", nil)
		req.Header.Set("User-Agent", "agent \xff")
		if got := do(t, req); got.Status != http.StatusBadRequest {
			t.Errorf("invalid UTF-8 in User-Agent: got %d, want 400", got.Status)
		}
	})
	t.Run("multipart field", func(t *testing.T) {
		body := "--XX\r\nContent-Disposition: form-data; name=\"csrf\"\r\n\r\n" + token +
			"\r\n--XX\r\nContent-Disposition: form-data; name=\"login\"\r\n\r\na\x00b\r\n--XX--\r\n"
		req, _ := http.NewRequest(http.MethodPost, srv.URL+"/login", strings.NewReader(body))
		req.Header.Set("Content-Type", "multipart/form-data; boundary=XX")
		resp, err := b.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		if got := readPage(t, resp); got.Status != http.StatusBadRequest {
			t.Errorf("NUL in a multipart field: got %d, want 400", got.Status)
		}
	})

	// The same routes still work with clean input: the check is not a
	// blanket refusal.
	t.Run("clean input passes", func(t *testing.T) {
		got := postForm(t, srv.URL+"/oauth2/introspect", "token=caf%C3%A9%09tab", clientID, secret)
		if got.Status != http.StatusOK || got.JSON["active"] != false {
			t.Errorf("introspect with UTF-8 and a tab: got %d %s, want 200 inactive", got.Status, got.Body)
		}
		if p, _ := b.get(t, srv.URL+"/oauth2/authorize?"+authorize.Encode()); p.Status == http.StatusBadRequest && strings.Contains(p.Body, "not allowed") {
			t.Errorf("clean authorize request refused as bad input")
		}
		// The street address is the one field whose lines are kept
		// (OpenID Connect Core §5.1.1).
		saved, _ := b.post(t, srv.URL+"/account/profile", url.Values{"csrf": {token}, "username": {"ines"}, "street_address": {"1 Main St\r\nFlat 2"}})
		mustContain(t, saved.Body, "Your profile has been saved.", "profile with a two-line street address")
	})
}

// withRaw encodes v with param's value replaced by raw, which is put in
// the query as it is (escapes stay escapes, raw bytes stay raw).
func withRaw(v url.Values, param, raw string) string {
	rest := url.Values{}
	for k, vs := range v {
		if k != param {
			rest[k] = vs
		}
	}
	return rest.Encode() + "&" + param + "=" + raw
}

// wantBadPage asserts a 400 HTML error page without a redirect.
func wantBadPage(t testing.TB, b *browser, method, u, body, what string) {
	t.Helper()
	req, err := http.NewRequest(method, u, strings.NewReader(body))
	if err != nil {
		t.Fatalf("%s: %v", what, err)
	}
	if body != "" {
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	}
	client := *b.Client
	client.CheckRedirect = func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }
	resp, err := client.Do(req)
	if err != nil {
		t.Fatalf("%s: %v", what, err)
	}
	got := readPage(t, resp)
	if got.Status != http.StatusBadRequest || resp.Header.Get("Location") != "" || !strings.Contains(got.Body, "<!doctype html>") {
		t.Errorf("%s: got %d Location %q, want a 400 page:\n%.300s", what, got.Status, resp.Header.Get("Location"), got.Body)
	}
}

// wantBadAPI asserts a 400 OAuth error response.
func wantBadAPI(t testing.TB, got rawResponse, what string) {
	t.Helper()
	if got.Status != http.StatusBadRequest || got.JSON["error"] != "invalid_request" {
		t.Errorf("%s: got %d %.200s, want 400 invalid_request", what, got.Status, got.Body)
	}
}

var csrfInput = regexp.MustCompile(`name="csrf" value="([^"]+)"`)

// csrfFromPage returns the CSRF token of the first form on p.
func csrfFromPage(t testing.TB, p *page) string {
	t.Helper()
	m := csrfInput.FindStringSubmatch(p.Body)
	if m == nil {
		t.Fatalf("no CSRF token on %s:\n%s", p.URL, p.Body)
	}
	return m[1]
}

// TestLongUserAgent: the user agent kept with a session and in the audit
// trail is shortened on a character boundary; cut inside a character it
// would not be UTF-8, and PostgreSQL would refuse the sign-in.
func TestLongUserAgent(t *testing.T) {
	t.Parallel()
	for _, dialect := range dbtest.Dialects {
		t.Run(dialect, func(t *testing.T) {
			srv := startServer(t, dialect, nil)
			srv.createUser(t, "jon", testUserPassword)
			b := newBrowser(t, rpCallback)
			agent := strings.Repeat("a", 511) + "é"
			b.Transport = userAgent{agent}
			p, _ := b.get(t, srv.URL+"/login")
			got, _ := b.submit(t, p, "login-submit", map[string]string{"login": "jon", "password": testUserPassword})
			if got.Status != http.StatusOK || !strings.Contains(got.Body, "Signed in as") {
				t.Fatalf("sign-in with a %d-byte user agent: got %d on %s", len(agent), got.Status, got.URL)
			}
			for _, line := range srv.Logs.Records("audit record failed") {
				t.Errorf("audit record failed: %v", line)
			}
		})
	}
}

type userAgent struct{ value string }

func (u userAgent) RoundTrip(req *http.Request) (*http.Response, error) {
	req = req.Clone(req.Context())
	req.Header.Set("User-Agent", u.value)
	return http.DefaultTransport.RoundTrip(req)
}
