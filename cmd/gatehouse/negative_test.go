package main

import (
	"encoding/json"
	"io"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"golang.org/x/oauth2"
	"gorm.io/gorm"

	"gatehouse/migrations/dbtest"
)

// rawResponse is what a negative test inspects.
type rawResponse struct {
	Status int
	Header http.Header
	Body   string
	JSON   map[string]interface{}
}

func do(t testing.TB, req *http.Request) rawResponse {
	t.Helper()
	client := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	resp, err := client.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	r := rawResponse{Status: resp.StatusCode, Header: resp.Header, Body: string(body)}
	_ = json.Unmarshal(body, &r.JSON)
	return r
}

func postForm(t testing.TB, u, body string, basicID, basicSecret string) rawResponse {
	t.Helper()
	req, _ := http.NewRequest(http.MethodPost, u, strings.NewReader(body))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	if basicID != "" {
		req.SetBasicAuth(url.QueryEscape(basicID), url.QueryEscape(basicSecret))
	}
	return do(t, req)
}

func TestTokenEndpointErrors(t *testing.T) {
	t.Parallel()
	for _, dialect := range dbtest.Dialects {
		t.Run(dialect, func(t *testing.T) { testTokenEndpointErrors(t, dialect) })
	}
}

func testTokenEndpointErrors(t *testing.T, dialect string) {
	srv := startServer(t, dialect, nil)
	srv.createUser(t, "dave", testUserPassword)
	id, secret := srv.createClient(t, "--name", "Neg", "--redirect-uri", rpCallback, "--first-party")
	rp := newRelyingParty(t, srv.URL, id, secret)
	tokenURL := srv.URL + "/oauth2/token"

	// newCode signs in (SSO after the first time) and returns a fresh code
	// and its PKCE verifier.
	b := newBrowser(t, rpCallback)
	signedIn := false
	newCode := func() (string, string) {
		verifier := oauth2.GenerateVerifier()
		authURL := rp.OAuth.AuthCodeURL("state-0123456789", oauth2.S256ChallengeOption(verifier))
		if !signedIn {
			signedIn = true
			return signIn(t, b, authURL, "dave", false).Get("code"), verifier
		}
		_, resp := b.get(t, authURL)
		return callbackQuery(t, resp).Get("code"), verifier
	}
	codeForm := func(code, verifier, redirect string) string {
		return url.Values{"grant_type": {"authorization_code"}, "code": {code}, "code_verifier": {verifier}, "redirect_uri": {redirect}}.Encode()
	}

	code1, v1 := newCode()
	code2, v2 := newCode()
	code3, v3 := newCode()
	expireCode(t, srv.App.DB.Gorm(), code3)

	cases := []struct {
		name       string
		body       string
		id, secret string
		wantStatus int
		wantError  string
	}{
		{"missing grant_type", "code=x", id, secret, 400, "invalid_request"},
		{"repeated parameter", "grant_type=client_credentials&grant_type=client_credentials", id, secret, 400, "invalid_request"},
		{"unsupported grant", "grant_type=password&username=dave&password=x", id, secret, 400, "unsupported_grant_type"},
		{"wrong client secret", codeForm(code1, v1, rpCallback), id, "wrong", 401, "invalid_client"},
		{"unknown client", codeForm(code1, v1, rpCallback), "no-such-client", "x", 401, "invalid_client"},
		{"no client authentication", codeForm(code1, v1, rpCallback), "", "", 401, "invalid_client"},
		{"mismatched redirect_uri", codeForm(code1, v1, "http://127.0.0.1:9/other"), id, secret, 400, "invalid_grant"},
		{"wrong PKCE verifier", codeForm(code2, v1+"x", rpCallback), id, secret, 400, "invalid_grant"},
		{"missing PKCE verifier", url.Values{"grant_type": {"authorization_code"}, "code": {code2}, "redirect_uri": {rpCallback}}.Encode(), id, secret, 400, "invalid_grant"},
		{"unknown code", codeForm("gate_ac_nope.nope", v2, rpCallback), id, secret, 400, "invalid_grant"},
		{"expired code", codeForm(code3, v3, rpCallback), id, secret, 400, "invalid_grant"},
		{"bad refresh token", "grant_type=refresh_token&refresh_token=gate_rt_x.y", id, secret, 400, "invalid_grant"},
		{"client_credentials not allowed", "grant_type=client_credentials", id, secret, 400, "unauthorized_client"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			got := postForm(t, tokenURL, tc.body, tc.id, tc.secret)
			if got.Status != tc.wantStatus || got.JSON["error"] != tc.wantError {
				t.Fatalf("got %d %s, want %d %s", got.Status, got.Body, tc.wantStatus, tc.wantError)
			}
			if cc := got.Header.Get("Cache-Control"); cc != "no-store" {
				t.Errorf("Cache-Control = %q, want no-store", cc)
			}
			if tc.wantStatus == 401 && !strings.Contains(got.Header.Get("WWW-Authenticate"), "Basic") {
				t.Errorf("401 without a Basic challenge: %v", got.Header)
			}
		})
	}
	// The checks above are not simply refusing everything: the right
	// request for an untouched code works.
	code4, v4 := newCode()
	if got := postForm(t, tokenURL, codeForm(code4, v4, rpCallback), id, secret); got.Status != 200 || got.JSON["access_token"] == nil {
		t.Fatalf("valid redemption failed: %d %s", got.Status, got.Body)
	}
	if got := do(t, mustRequest(t, http.MethodGet, tokenURL)); got.Status != http.StatusMethodNotAllowed {
		t.Errorf("GET on the token endpoint = %d, want 405", got.Status)
	}
}

// expireCode moves the expiry of one stored authorization code into the
// past, as the clock would after its lifetime. Rows are keyed by the
// token's HMAC signature: the part after the dot.
func expireCode(t testing.TB, db *gorm.DB, code string) {
	t.Helper()
	_, sig, ok := strings.Cut(code, ".")
	if !ok {
		t.Fatalf("malformed code %q", code)
	}
	var stored string
	if err := db.Raw(`SELECT session FROM oauth_requests WHERE kind = 'code' AND signature = ?`, sig).Scan(&stored).Error; err != nil || stored == "" {
		t.Fatalf("code row not found: %v", err)
	}
	var sess map[string]interface{}
	if err := json.Unmarshal([]byte(stored), &sess); err != nil {
		t.Fatal(err)
	}
	sess["expires_at"].(map[string]interface{})["authorize_code"] = "2000-01-01T00:00:00Z"
	body, _ := json.Marshal(sess)
	if err := db.Exec(`UPDATE oauth_requests SET session = ? WHERE kind = 'code' AND signature = ?`, string(body), sig).Error; err != nil {
		t.Fatal(err)
	}
}

func mustRequest(t testing.TB, method, u string) *http.Request {
	t.Helper()
	req, err := http.NewRequest(method, u, nil)
	if err != nil {
		t.Fatal(err)
	}
	return req
}
