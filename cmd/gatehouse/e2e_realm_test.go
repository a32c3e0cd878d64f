package main

import (
	"strings"
	"testing"

	"golang.org/x/oauth2"

	"gatehouse/config"
	"gatehouse/oidc"
)

// TestHomeRealmRouting: an address of the upstream connector's domain
// typed on the login page, an idp_hint naming the connector, or a
// login_hint of its domain sends the browser straight to the upstream;
// everything else keeps the local login page, and prompt=none never
// leaves for the upstream.
func TestHomeRealmRouting(t *testing.T) {
	t.Parallel()
	fp := startFederationPairWith(t, "sqlite", func(c *config.Connector) { c.Domains = []string{"corp.example"} })
	down := fp.down
	down.createUser(t, "dan", testUserPassword) // dan@example.com: no realm
	id, secret := down.createClient(t, "--name", "App", "--redirect-uri", rpCallback, "--first-party")
	rp := newRelyingParty(t, down.URL, id, secret)
	authorize := func(params ...string) string {
		var opts []oauth2.AuthCodeOption
		for i := 0; i+1 < len(params); i += 2 {
			opts = append(opts, oauth2.SetAuthURLParam(params[i], params[i+1]))
		}
		return rp.OAuth.AuthCodeURL("state-0123456789", opts...)
	}
	// atUpstream checks that p is the upstream's login page, its login
	// field filled with hint.
	atUpstream := func(t *testing.T, p *page, hint string) {
		t.Helper()
		if !strings.HasPrefix(p.URL.String(), fp.up.URL+oidc.PathLogin) {
			t.Fatalf("landed at %s, want the upstream's login page", p.URL)
		}
		mustContain(t, p.Body, `name="login" type="text" value="`+hint+`"`, "upstream login page")
	}

	t.Run("typed address of the mapped domain", func(t *testing.T) {
		b := newBrowser(t, rpCallback)
		p, _ := b.get(t, authorize())
		if p.URL.Host != mustParse(t, down.URL).Host || p.URL.Path != oidc.PathLogin {
			t.Fatalf("authorize led to %s, want the local login page", p.URL)
		}
		// The form may go without a password: some addresses sign in elsewhere.
		mustContain(t, p.Body, `<input id="login-password" name="password" type="password" autocomplete="current-password">`, "login page")
		p, _ = b.submit(t, p, "login-submit", map[string]string{"login": "Eve@Corp.Example"})
		atUpstream(t, p, "Eve@Corp.Example")
	})

	t.Run("typed address on the page without a client", func(t *testing.T) {
		b := newBrowser(t, rpCallback)
		p, _ := b.get(t, down.URL+oidc.PathLogin)
		p, _ = b.submit(t, p, "login-submit", map[string]string{"login": "eve@corp.example"})
		atUpstream(t, p, "eve@corp.example")
	})

	t.Run("idp_hint", func(t *testing.T) {
		b := newBrowser(t, rpCallback)
		p, _ := b.get(t, authorize("idp_hint", upstreamConnectorID))
		atUpstream(t, p, "")
	})

	t.Run("login_hint of the mapped domain", func(t *testing.T) {
		b := newBrowser(t, rpCallback)
		p, _ := b.get(t, authorize("login_hint", "eve@corp.example"))
		atUpstream(t, p, "eve@corp.example")
	})

	t.Run("unknown idp_hint", func(t *testing.T) {
		b := newBrowser(t, rpCallback)
		p, _ := b.get(t, authorize("idp_hint", "nowhere"))
		if p.Status != 200 || p.URL.Host != mustParse(t, down.URL).Host || p.URL.Path != oidc.PathLogin {
			t.Fatalf("unknown idp_hint led to %d %s, want the local login page", p.Status, p.URL)
		}
	})

	t.Run("unmapped domain signs in with the password", func(t *testing.T) {
		b := newBrowser(t, rpCallback)
		p, _ := b.get(t, authorize("login_hint", "dan@example.com"))
		if p.URL.Host != mustParse(t, down.URL).Host || p.URL.Path != oidc.PathLogin {
			t.Fatalf("login_hint of an unmapped domain led to %s, want the local login page", p.URL)
		}
		_, resp := b.submit(t, p, "login-submit", map[string]string{"login": "dan@example.com", "password": testUserPassword})
		if q := callbackQuery(t, resp); q.Get("code") == "" {
			t.Errorf("local sign-in: %v, want a code", q)
		}
	})

	t.Run("prompt=none never goes upstream", func(t *testing.T) {
		for _, hint := range [][]string{{"idp_hint", upstreamConnectorID}, {"login_hint", "eve@corp.example"}} {
			b := newBrowser(t, rpCallback)
			_, resp := b.get(t, authorize(append(hint, "prompt", "none")...))
			if q := callbackQuery(t, resp); q.Get("error") != "login_required" {
				t.Errorf("prompt=none with %s: %v, want login_required", hint[0], q)
			}
		}
	})
}
