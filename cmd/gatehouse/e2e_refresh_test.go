package main

import (
	"context"
	"net/http"
	"net/url"
	"sync"
	"testing"
	"time"

	"golang.org/x/oauth2"

	"gatehouse/config"
	"gatehouse/migrations/dbtest"
)

// testClock is a clock the test moves by hand.
type testClock struct {
	mu  sync.Mutex
	now time.Time
}

func (c *testClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

func (c *testClock) Advance(d time.Duration) {
	c.mu.Lock()
	c.now = c.now.Add(d)
	c.mu.Unlock()
}

// grantTokens signs user in through client id and exchanges the code.
func grantTokens(t testing.TB, srv *testServer, id, secret, user string) *oauth2.Token {
	t.Helper()
	rp := newRelyingParty(t, srv.URL, id, secret)
	verifier := oauth2.GenerateVerifier()
	q := signIn(t, newBrowser(t, rpCallback), rp.OAuth.AuthCodeURL("state-0123456789", oauth2.S256ChallengeOption(verifier)), user, false)
	tok, err := rp.OAuth.Exchange(context.Background(), q.Get("code"), oauth2.VerifierOption(verifier))
	if err != nil || tok.RefreshToken == "" {
		t.Fatalf("Exchange: %v (refresh token %t)", err, tok != nil && tok.RefreshToken != "")
	}
	return tok
}

// refresh posts a refresh_token grant, with scope when not empty.
func refresh(t testing.TB, srv *testServer, id, secret, token, scope string) rawResponse {
	t.Helper()
	form := url.Values{"grant_type": {"refresh_token"}, "refresh_token": {token}}
	if scope != "" {
		form.Set("scope", scope)
	}
	return postForm(t, srv.URL+"/oauth2/token", form.Encode(), id, secret)
}

// TestRefreshAbsoluteLifetime: rotating a refresh token never carries the
// grant past tokens.refresh_token_absolute_lifetime from the authorization.
func TestRefreshAbsoluteLifetime(t *testing.T) {
	t.Parallel()
	for _, dialect := range dbtest.Dialects {
		t.Run(dialect, func(t *testing.T) {
			srv := startServer(t, dialect, func(c *config.Config) {
				c.Tokens.RefreshTokenAbsoluteLifetime = config.Duration(2 * time.Hour)
			})
			clock := &testClock{now: time.Now()}
			srv.App.Handler.Now = clock.Now
			start := clock.Now()
			srv.createUser(t, "rosa", testUserPassword)
			id, secret := srv.createClient(t, "--name", "Long-lived", "--redirect-uri", rpCallback, "--first-party")
			tok := grantTokens(t, srv, id, secret, "rosa")
			end := start.Add(2 * time.Hour)
			checkExp := func(rt string) {
				t.Helper()
				got := introspect(t, srv.URL, id, secret, rt)
				if exp, _ := got["exp"].(float64); got["active"] != true || exp > float64(end.Unix()+1) {
					t.Errorf("refresh token introspects as %v, want active with exp at most %d", got, end.Unix())
				}
			}
			checkExp(tok.RefreshToken)

			clock.Advance(90 * time.Minute)
			got := refresh(t, srv, id, secret, tok.RefreshToken, "")
			rt, _ := got.JSON["refresh_token"].(string)
			if got.Status != http.StatusOK || rt == "" {
				t.Fatalf("refresh within the grant's lifetime: %d %s", got.Status, got.Body)
			}
			checkExp(rt)

			clock.Advance(31 * time.Minute)
			if got := refresh(t, srv, id, secret, rt, ""); got.Status != http.StatusBadRequest || got.JSON["error"] != "invalid_grant" {
				t.Errorf("refresh after the grant's absolute lifetime: %d %s, want 400 invalid_grant", got.Status, got.Body)
			}
		})
	}
}

// TestRefreshScope: a refresh may narrow the scope of the new access
// token but never widen the grant (RFC 6749 §6).
func TestRefreshScope(t *testing.T) {
	t.Parallel()
	for _, dialect := range dbtest.Dialects {
		t.Run(dialect, func(t *testing.T) {
			srv := startServer(t, dialect, nil)
			srv.createUser(t, "sami", testUserPassword)
			// The client may ask for phone, but the user granted less.
			id, secret := srv.createClient(t, "--name", "Scoped", "--redirect-uri", rpCallback, "--first-party")
			tok := grantTokens(t, srv, id, secret, "sami")
			const grant = "openid profile email offline_access"

			for _, broader := range []string{grant + " phone", "openid address"} {
				if got := refresh(t, srv, id, secret, tok.RefreshToken, broader); got.Status != http.StatusBadRequest || got.JSON["error"] != "invalid_scope" {
					t.Errorf("refresh with scope %q: %d %s, want 400 invalid_scope", broader, got.Status, got.Body)
				}
			}

			got := refresh(t, srv, id, secret, tok.RefreshToken, "openid profile")
			rt, _ := got.JSON["refresh_token"].(string)
			at, _ := got.JSON["access_token"].(string)
			if got.Status != http.StatusOK || rt == "" || got.JSON["scope"] != "openid profile" {
				t.Fatalf("narrower refresh: %d %s, want scope \"openid profile\"", got.Status, got.Body)
			}
			if in := introspect(t, srv.URL, id, secret, at); in["scope"] != "openid profile" {
				t.Errorf("narrowed access token has scope %v, want \"openid profile\"", in["scope"])
			}
			if in := introspect(t, srv.URL, id, secret, rt); in["scope"] != grant {
				t.Errorf("refresh token after a narrower refresh has scope %v, want the grant's %q", in["scope"], grant)
			}
			got = refresh(t, srv, id, secret, rt, "")
			if got.Status != http.StatusOK || got.JSON["scope"] != grant {
				t.Errorf("refresh without scope after a narrower one: %d %s, want the grant's scope", got.Status, got.Body)
			}
		})
	}
}
