package main

import (
	"net/http"
	"net/url"
	"strings"
	"testing"

	"golang.org/x/oauth2"
)

// TestAuthorizeEndpointErrors: a bad client or redirect URI gets an error
// page and never a redirect; other errors go back to the client with
// state and iss.
func TestAuthorizeEndpointErrors(t *testing.T) {
	t.Parallel()
	srv := startServer(t, "sqlite", nil)
	webID, _ := srv.createClient(t, "--name", "Web", "--redirect-uri", rpCallback)
	pubID, _ := srv.createClient(t, "--name", "SPA", "--public", "--redirect-uri", rpCallback)
	authorize := srv.URL + "/oauth2/authorize?"
	base := func(client string, extra url.Values) string {
		v := url.Values{"client_id": {client}, "redirect_uri": {rpCallback}, "response_type": {"code"},
			"scope": {"openid"}, "state": {"state-0123456789"}}
		for k, vs := range extra {
			v[k] = vs
		}
		return authorize + v.Encode()
	}
	challenge := oauth2.S256ChallengeFromVerifier(oauth2.GenerateVerifier())
	pkce := url.Values{"code_challenge": {challenge}, "code_challenge_method": {"S256"}}

	pages := []struct{ name, url string }{
		{"unknown client", base("no-such-client", nil)},
		{"missing client_id", authorize + "response_type=code&redirect_uri=" + url.QueryEscape(rpCallback)},
		{"unregistered redirect_uri", strings.Replace(base(webID, nil), url.QueryEscape(rpCallback), url.QueryEscape("https://evil.example/cb"), 1)},
		{"loopback port change for a web client", strings.Replace(base(webID, nil), url.QueryEscape("127.0.0.1:9"), url.QueryEscape("127.0.0.1:10"), 1)},
		{"repeated redirect_uri", base(webID, nil) + "&redirect_uri=" + url.QueryEscape(rpCallback)},
	}
	for _, tc := range pages {
		t.Run(tc.name, func(t *testing.T) {
			got := do(t, mustRequest(t, http.MethodGet, tc.url))
			if got.Status != http.StatusBadRequest || got.Header.Get("Location") != "" {
				t.Fatalf("got %d Location %q, want 400 error page without redirect", got.Status, got.Header.Get("Location"))
			}
			mustContain(t, got.Body, "<!doctype html>", "error page")
			mustContain(t, got.Body, "Invalid sign-in request", "error page")
		})
	}

	redirects := []struct {
		name, url, wantError string
	}{
		{"public client without PKCE", base(pubID, nil), "invalid_request"},
		{"plain PKCE", base(pubID, url.Values{"code_challenge": {challenge}, "code_challenge_method": {"plain"}}), "invalid_request"},
		{"repeated scope", base(webID, nil) + "&scope=openid", "invalid_request"},
		{"request_uri", base(webID, url.Values{"request_uri": {"https://evil.example/request.jwt"}}), "request_uri_not_supported"},
		{"request object", base(webID, url.Values{"request": {"eyJhbGciOiJub25lIn0.e30."}}), "request_not_supported"},
		{"token response type", strings.Replace(base(webID, nil), "response_type=code", "response_type=token", 1), "unsupported_response_type"},
		{"unknown scope", base(webID, url.Values{"scope": {"openid admin"}}), "invalid_scope"},
		{"prompt=none without a session", base(webID, url.Values{"prompt": {"none"}}), "login_required"},
		{"unknown prompt", base(webID, url.Values{"prompt": {"sideways"}}), "invalid_request"},
		{"PKCE with prompt=none on public client", base(pubID, mergeValues(pkce, url.Values{"prompt": {"none"}})), "login_required"},
	}
	for _, tc := range redirects {
		t.Run(tc.name, func(t *testing.T) {
			got := do(t, mustRequest(t, http.MethodGet, tc.url))
			loc, err := url.Parse(got.Header.Get("Location"))
			if got.Status != http.StatusSeeOther || err != nil || !strings.HasPrefix(loc.String(), rpCallback) {
				t.Fatalf("got %d Location %q, want a redirect to the client", got.Status, got.Header.Get("Location"))
			}
			q := loc.Query()
			if q.Get("error") != tc.wantError || q.Get("state") != "state-0123456789" || q.Get("iss") != srv.URL {
				t.Errorf("redirect query = %v, want error=%s with state and iss", q, tc.wantError)
			}
		})
	}
}

func mergeValues(a, b url.Values) url.Values {
	out := url.Values{}
	for _, v := range []url.Values{a, b} {
		for k, vs := range v {
			out[k] = vs
		}
	}
	return out
}

func TestBearerEndpointErrors(t *testing.T) {
	t.Parallel()
	srv := startServer(t, "postgres", nil)
	svcID, svcSecret := srv.createClient(t, "--name", "Svc", "--grant-type", "client_credentials", "--scope", "profile")
	pubID, _ := srv.createClient(t, "--name", "SPA", "--public", "--redirect-uri", rpCallback)
	ccTok := postForm(t, srv.URL+"/oauth2/token", "grant_type=client_credentials&scope=profile", svcID, svcSecret).JSON["access_token"].(string)

	bearer := func(method, path, token string) rawResponse {
		req := mustRequest(t, method, srv.URL+path)
		if token != "" {
			req.Header.Set("Authorization", "Bearer "+token)
		}
		return do(t, req)
	}
	t.Run("userinfo without a token", func(t *testing.T) {
		got := bearer(http.MethodGet, "/oauth2/userinfo", "")
		if got.Status != 401 || !strings.HasPrefix(got.Header.Get("WWW-Authenticate"), "Bearer") || strings.Contains(got.Header.Get("WWW-Authenticate"), "error=") {
			t.Errorf("got %d %q, want 401 with a bare Bearer challenge (RFC 6750 §3.1)", got.Status, got.Header.Get("WWW-Authenticate"))
		}
	})
	t.Run("userinfo with a bad token", func(t *testing.T) {
		got := bearer(http.MethodGet, "/oauth2/userinfo", "gate_at_bogus.bogus")
		if got.Status != 401 || !strings.Contains(got.Header.Get("WWW-Authenticate"), `error="invalid_token"`) {
			t.Errorf("got %d %q, want 401 invalid_token", got.Status, got.Header.Get("WWW-Authenticate"))
		}
	})
	t.Run("userinfo by POST form body", func(t *testing.T) {
		got := postForm(t, srv.URL+"/oauth2/userinfo", "access_token=gate_at_bogus.bogus", "", "")
		if got.Status != 401 || !strings.Contains(got.Header.Get("WWW-Authenticate"), `error="invalid_token"`) {
			t.Errorf("got %d %q, want 401 invalid_token", got.Status, got.Header.Get("WWW-Authenticate"))
		}
	})
	t.Run("userinfo with a token lacking openid", func(t *testing.T) {
		got := bearer(http.MethodGet, "/oauth2/userinfo", ccTok)
		if got.Status != 403 || !strings.Contains(got.Header.Get("WWW-Authenticate"), `error="insufficient_scope"`) {
			t.Errorf("got %d %q, want 403 insufficient_scope", got.Status, got.Header.Get("WWW-Authenticate"))
		}
	})

	intro := []struct {
		name, body, id, secret string
		wantStatus             int
		wantError              string
	}{
		{"no client authentication", "token=" + ccTok, "", "", 401, "invalid_client"},
		{"wrong secret", "token=" + ccTok, svcID, "wrong", 401, "invalid_client"},
		{"public client", "token=" + ccTok + "&client_id=" + pubID, "", "", 401, "invalid_client"},
		{"missing token", "token_type_hint=access_token", svcID, svcSecret, 400, "invalid_request"},
		{"repeated token", "token=a&token=b", svcID, svcSecret, 400, "invalid_request"},
	}
	for _, tc := range intro {
		t.Run("introspect "+tc.name, func(t *testing.T) {
			got := postForm(t, srv.URL+"/oauth2/introspect", tc.body, tc.id, tc.secret)
			if got.Status != tc.wantStatus || got.JSON["error"] != tc.wantError {
				t.Errorf("got %d %s, want %d %s", got.Status, got.Body, tc.wantStatus, tc.wantError)
			}
		})
	}
	t.Run("introspect unknown token", func(t *testing.T) {
		got := postForm(t, srv.URL+"/oauth2/introspect", "token=gate_at_x.y", svcID, svcSecret)
		if got.Status != 200 || got.Body != `{"active":false}`+"\n" {
			t.Errorf("got %d %q, want 200 {\"active\":false}", got.Status, got.Body)
		}
	})
	t.Run("revoke with wrong secret", func(t *testing.T) {
		got := postForm(t, srv.URL+"/oauth2/revoke", "token="+ccTok, svcID, "wrong")
		if got.Status != 401 || got.JSON["error"] != "invalid_client" {
			t.Errorf("got %d %s, want 401 invalid_client", got.Status, got.Body)
		}
	})
	t.Run("revoke unknown token", func(t *testing.T) {
		if got := postForm(t, srv.URL+"/oauth2/revoke", "token=gate_at_x.y", svcID, svcSecret); got.Status != 200 {
			t.Errorf("got %d %s, want 200 (RFC 7009 §2.2)", got.Status, got.Body)
		}
	})
	t.Run("revoke missing token", func(t *testing.T) {
		if got := postForm(t, srv.URL+"/oauth2/revoke", "token_type_hint=access_token", svcID, svcSecret); got.Status != 400 || got.JSON["error"] != "invalid_request" {
			t.Errorf("got %d %s, want 400 invalid_request", got.Status, got.Body)
		}
	})
}
