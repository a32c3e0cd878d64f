package main

import (
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"golang.org/x/oauth2"

	"gatehouse/config"
)

// TestDatabaseOutage: while PostgreSQL is unreachable (a loopback proxy in
// front of it drops every connection), every route that needs it answers
// 503 with Retry-After, an OAuth error object on the protocol endpoints
// and a page elsewhere: never 401 invalid_client once the client cache has
// expired, never an inactive token or a revocation that did not happen,
// never a 500. Discovery and JWKS keep answering. The outage is logged
// once, failed client authentications are not counted, and once the
// database is back the same requests succeed.
func TestDatabaseOutage(t *testing.T) {
	proxy := startDBProxy(t, forward)
	srv := startServer(t, "postgres", func(cfg *config.Config) { cfg.Database.URL = config.Secret(proxy.url(t, cfg.Database.URL.Reveal())) })
	srv.createUser(t, "otto", testUserPassword)
	rpID, rpSecret := srv.createClient(t, "--name", "Shop", "--redirect-uri", rpCallback, "--first-party")
	ccID, ccSecret := srv.createClient(t, "--name", "Batch", "--grant-type", "client_credentials")
	rp := newRelyingParty(t, srv.URL, rpID, rpSecret)
	br := newBrowser(t, rpCallback)
	verifier := oauth2.GenerateVerifier()
	authURL := rp.OAuth.AuthCodeURL("state-0123456789", oauth2.S256ChallengeOption(verifier))
	q := signIn(t, br, authURL, "otto", false)
	tok, err := rp.OAuth.Exchange(t.Context(), q.Get("code"), oauth2.VerifierOption(verifier))
	if err != nil {
		t.Fatal(err)
	}
	other := newBrowser(t, rpCallback)
	loginPage, _ := other.get(t, srv.URL+"/login")
	loginAction, loginForm, _ := findForm(t, loginPage, "login-submit")
	loginForm.Set("login", "otto")
	loginForm.Set("password", testUserPassword)

	clientCredentials := func() rawResponse {
		return postForm(t, srv.URL+"/oauth2/token", "grant_type=client_credentials", ccID, ccSecret)
	}
	refreshGrant := func() rawResponse { return refresh(t, srv, rpID, rpSecret, tok.RefreshToken, "") }
	introspection := func() rawResponse {
		return postForm(t, srv.URL+"/oauth2/introspect", "token="+url.QueryEscape(tok.AccessToken), rpID, rpSecret)
	}
	userinfo := func() rawResponse {
		req := mustRequest(t, http.MethodGet, srv.URL+"/oauth2/userinfo")
		req.Header.Set("Authorization", "Bearer "+tok.AccessToken)
		return do(t, req)
	}
	if got := clientCredentials(); got.Status != http.StatusOK {
		t.Fatalf("client_credentials before the outage: %d %s", got.Status, got.Body)
	}

	proxy.set(refuse)
	want503 := func(name string, got rawResponse, json bool) {
		t.Helper()
		switch {
		case got.Status != http.StatusServiceUnavailable:
			t.Errorf("%s during the outage: %d %s, want 503", name, got.Status, got.Body)
		case got.Header.Get("Retry-After") == "":
			t.Errorf("%s during the outage: no Retry-After", name)
		case json && got.JSON["error"] != "temporarily_unavailable":
			t.Errorf("%s during the outage: %s, want {\"error\":\"temporarily_unavailable\"}", name, got.Body)
		case !json && !strings.HasPrefix(got.Header.Get("Content-Type"), "text/html"):
			t.Errorf("%s during the outage: Content-Type %q, want a page", name, got.Header.Get("Content-Type"))
		}
	}
	want503("client_credentials, client cached", clientCredentials(), true)
	// The 5 s client cache has expired: the client must be looked up.
	srv.App.Provider.Clients.Forget(ccID)
	srv.App.Provider.Clients.Forget(rpID)
	// More attempts than the failed client authentication limit allows.
	limit, _, err := srv.Config.RateLimits.ClientAuthFailuresPerClient.Parse()
	if err != nil {
		t.Fatal(err)
	}
	for range limit + 1 {
		want503("client_credentials", clientCredentials(), true)
	}
	want503("refresh_token", refreshGrant(), true)
	want503("introspection", introspection(), true)
	want503("revocation", postForm(t, srv.URL+"/oauth2/revoke", "token="+url.QueryEscape(tok.RefreshToken), rpID, rpSecret), true)
	want503("userinfo", userinfo(), true)
	regReq := mustRequest(t, http.MethodGet, srv.URL+"/oauth2/register/"+rpID)
	regReq.Header.Set("Authorization", "Bearer not-the-registration-token")
	want503("registration read", do(t, regReq), true)
	for _, path := range []string{"/", "/account", strings.TrimPrefix(authURL, srv.URL)} {
		resp, err := br.Get(srv.URL + path)
		if err != nil {
			t.Fatal(err)
		}
		want503("GET "+path+" signed in", rawFrom(t, resp), false)
	}
	// Signed out, so that the client lookup is what fails.
	resp, err := other.Get(srv.URL + "/oauth2/logout?client_id=" + rpID)
	if err != nil {
		t.Fatal(err)
	}
	want503("RP-initiated logout", rawFrom(t, resp), false)
	target, _ := loginPage.URL.Parse(loginAction)
	resp, err = other.PostForm(target.String(), loginForm)
	if err != nil {
		t.Fatal(err)
	}
	want503("sign-in", rawFrom(t, resp), false)
	ready := do(t, mustRequest(t, http.MethodGet, srv.URL+"/readyz"))
	if ready.Status != http.StatusServiceUnavailable || ready.JSON["status"] != "database unreachable" {
		t.Errorf("/readyz during the outage: %d %s", ready.Status, ready.Body)
	}
	for _, path := range []string{"/.well-known/openid-configuration", "/.well-known/jwks.json", "/healthz"} {
		if got := do(t, mustRequest(t, http.MethodGet, srv.URL+path)); got.Status != http.StatusOK {
			t.Errorf("%s during the outage: %d, want 200 (it needs no database)", path, got.Status)
		}
	}
	if n := len(srv.Logs.Records("database unavailable: answering 503 until it is back")); n != 1 {
		t.Errorf("the outage was logged %d times, want once", n)
	}
	if n := len(srv.Logs.Records("request failed")) + len(srv.Logs.Records("token request failed")); n != 0 {
		t.Errorf("%d requests logged as failed during the outage, want none (the outage is logged once)", n)
	}

	proxy.set(forward)
	back := time.Now()
	if got := clientCredentials(); got.Status != http.StatusOK {
		t.Errorf("client_credentials once the database is back: %d %s", got.Status, got.Body)
	}
	t.Logf("first request after the database came back answered in %s", time.Since(back).Round(time.Millisecond))
	if got := introspection(); got.Status != http.StatusOK || got.JSON["active"] != true {
		t.Errorf("introspection once back: %d %s", got.Status, got.Body)
	}
	if got := userinfo(); got.Status != http.StatusOK {
		t.Errorf("userinfo once back: %d %s", got.Status, got.Body)
	}
	// The revocation answered 503 did not happen: the refresh token works.
	if got := refreshGrant(); got.Status != http.StatusOK {
		t.Errorf("refresh once back: %d %s", got.Status, got.Body)
	}
	home, _ := br.get(t, srv.URL+"/")
	mustContain(t, home.Body, "Signed in as otto", "home page once back")
}

// rawFrom reads resp into a rawResponse.
func rawFrom(t testing.TB, resp *http.Response) rawResponse {
	t.Helper()
	p := readPage(t, resp)
	return rawResponse{Status: p.Status, Header: resp.Header, Body: p.Body}
}

// TestSlowDatabase: a database that stops answering turns into a 503 with
// Retry-After when http.request_timeout passes, not into a request that
// hangs for as long as the database does; the outage is logged once.
func TestSlowDatabase(t *testing.T) {
	proxy := startDBProxy(t, forward)
	srv := startServer(t, "postgres", func(cfg *config.Config) {
		cfg.Database.URL = config.Secret(proxy.url(t, cfg.Database.URL.Reveal()))
		cfg.HTTP.RequestTimeout = config.Duration(time.Second)
	})
	ccID, ccSecret := srv.createClient(t, "--name", "Batch", "--grant-type", "client_credentials")
	clientCredentials := func() rawResponse {
		return postForm(t, srv.URL+"/oauth2/token", "grant_type=client_credentials", ccID, ccSecret)
	}
	if got := clientCredentials(); got.Status != http.StatusOK {
		t.Fatalf("client_credentials: %d %s", got.Status, got.Body)
	}
	proxy.set(stall)
	for _, name := range []string{"client cached", "client looked up"} {
		if name == "client looked up" {
			srv.App.Provider.Clients.Forget(ccID)
		}
		start := time.Now()
		got := clientCredentials()
		t.Logf("%s: %d after %s", name, got.Status, time.Since(start).Round(time.Millisecond))
		if got.Status != http.StatusServiceUnavailable || got.JSON["error"] != "temporarily_unavailable" || got.Header.Get("Retry-After") == "" {
			t.Errorf("%s, database not answering: %d %s, want 503 temporarily_unavailable with Retry-After", name, got.Status, got.Body)
		}
	}
	if n := len(srv.Logs.Records("database unavailable: answering 503 until it is back")); n != 1 {
		t.Errorf("the outage was logged %d times, want once", n)
	}
	proxy.set(forward)
	if got := clientCredentials(); got.Status != http.StatusOK {
		t.Errorf("client_credentials once the database answers again: %d %s", got.Status, got.Body)
	}
}
