package main

import (
	"net/http"
	"strings"
	"testing"

	"golang.org/x/oauth2"

	"gatehouse/config"
)

// TestTwoInstances: two servers on one PostgreSQL behave as one: a browser
// session made on one is honoured by the other, a token issued by one is
// accepted by the other, and a session revoked on one ends on both.
func TestTwoInstances(t *testing.T) {
	t.Parallel()
	a := startServer(t, "postgres", nil)
	b := startServer(t, "postgres", func(cfg *config.Config) {
		cfg.Database.URL = a.Config.Database.URL
		cfg.MasterKey = a.Config.MasterKey
	})
	a.createUser(t, "quinn", testUserPassword)
	id, secret := a.createClient(t, "--name", "Shared", "--redirect-uri", rpCallback, "--first-party")

	// Sign in on A (cookies for 127.0.0.1 reach both ports, as a shared
	// hostname behind a load balancer would).
	br := newBrowser(t, rpCallback)
	p, _ := br.get(t, a.URL+"/login")
	if p, _ = br.submit(t, p, "login-submit", map[string]string{"login": "quinn", "password": testUserPassword}); p.URL.Path != "/" {
		t.Fatalf("login on A led to %s", p.URL)
	}
	home, _ := br.get(t, b.URL+"/")
	mustContain(t, home.Body, "Signed in as quinn", "B honours A's session")

	// SSO through B, tokens from B introspected on A.
	rpB := newRelyingParty(t, b.URL, id, secret)
	verifier := oauth2.GenerateVerifier()
	_, resp := br.get(t, rpB.OAuth.AuthCodeURL("state-0123456789", oauth2.S256ChallengeOption(verifier)))
	tok, err := rpB.OAuth.Exchange(t.Context(), callbackQuery(t, resp).Get("code"), oauth2.VerifierOption(verifier))
	if err != nil {
		t.Fatal(err)
	}
	if got := introspect(t, a.URL, id, secret, tok.AccessToken); got["active"] != true {
		t.Errorf("A does not know B's token: %v", got)
	}

	// Revoke every session on B (as an admin would); A forgets it too.
	if out, code := b.cli(t, "", "users", "revoke-sessions", "quinn"); code != 0 {
		t.Fatalf("users revoke-sessions: %d %s", code, out)
	}
	home, _ = br.get(t, a.URL+"/")
	if strings.Contains(home.Body, "Signed in as") {
		t.Error("A still honours a session revoked through B")
	}
	if got := introspect(t, a.URL, id, secret, tok.AccessToken); got["active"] != false {
		t.Errorf("the revoked user's token is still active on A: %v", got)
	}
	if got := do(t, mustRequest(t, http.MethodGet, b.URL+"/readyz")); got.Status != http.StatusOK {
		t.Errorf("B not ready: %d", got.Status)
	}
}
