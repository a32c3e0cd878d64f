package main

import (
	"net/http"
	"net/url"
	"strings"
	"testing"

	"golang.org/x/oauth2"
)

// TestPKCEFormat: a code_verifier outside RFC 7636 §4.1 (43 to 128 of
// [A-Za-z0-9-._~]) is invalid_request at the token endpoint, and a
// code_challenge that is not a base64url SHA-256 (43 characters, §4.2) is
// refused at the authorization endpoint with an error redirect.
func TestPKCEFormat(t *testing.T) {
	t.Parallel()
	srv := startServer(t, "sqlite", nil)
	srv.createUser(t, "pia", testUserPassword)
	id, secret := srv.createClient(t, "--name", "PKCE", "--redirect-uri", rpCallback, "--first-party")
	rp := newRelyingParty(t, srv.URL, id, secret)

	valid := oauth2.S256ChallengeFromVerifier(oauth2.GenerateVerifier())
	for _, tc := range []struct{ name, challenge string }{
		{"42 characters", valid[:42]},
		{"44 characters", valid + "A"},
		{"verifier-length", strings.Repeat("a", 128)},
		{"padding", valid[:42] + "="},
		{"standard base64", "+" + valid[1:]},
		{"space", " " + valid[1:]},
	} {
		t.Run("challenge "+tc.name, func(t *testing.T) {
			u := srv.URL + "/oauth2/authorize?" + url.Values{"client_id": {id}, "redirect_uri": {rpCallback}, "response_type": {"code"},
				"scope": {"openid"}, "state": {"state-0123456789"}, "code_challenge": {tc.challenge}, "code_challenge_method": {"S256"}}.Encode()
			got := do(t, mustRequest(t, http.MethodGet, u))
			loc, err := url.Parse(got.Header.Get("Location"))
			if got.Status != http.StatusSeeOther || err != nil || !strings.HasPrefix(loc.String(), rpCallback) {
				t.Fatalf("got %d Location %q, want an error redirect to the client", got.Status, got.Header.Get("Location"))
			}
			if q := loc.Query(); q.Get("error") != "invalid_request" || q.Get("state") != "state-0123456789" {
				t.Errorf("redirect query = %v, want error=invalid_request with state", q)
			}
		})
	}

	b := newBrowser(t, rpCallback)
	verifier := oauth2.GenerateVerifier()
	authURL := rp.OAuth.AuthCodeURL("state-0123456789", oauth2.S256ChallengeOption(verifier))
	code := signIn(t, b, authURL, "pia", false).Get("code")
	form := func(v string) string {
		return url.Values{"grant_type": {"authorization_code"}, "code": {code}, "code_verifier": {v}, "redirect_uri": {rpCallback}}.Encode()
	}
	for _, tc := range []struct{ name, verifier string }{
		{"42 characters", verifier[:42]},
		{"129 characters", strings.Repeat("a", 129)},
		{"a character outside the set", verifier[:42] + "+"},
		{"a space", verifier[:42] + " "},
		{"non-ASCII", verifier[:41] + "é"},
	} {
		t.Run("verifier "+tc.name, func(t *testing.T) {
			got := postForm(t, srv.URL+"/oauth2/token", form(tc.verifier), id, secret)
			if got.Status != http.StatusBadRequest || got.JSON["error"] != "invalid_request" {
				t.Errorf("got %d %s, want 400 invalid_request", got.Status, got.Body)
			}
		})
	}
	// The checks refuse only malformed values: the right verifier works.
	if got := postForm(t, srv.URL+"/oauth2/token", form(verifier), id, secret); got.Status != http.StatusOK {
		t.Errorf("valid verifier: %d %s", got.Status, got.Body)
	}
}
