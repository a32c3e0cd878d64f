package main

import (
	"context"
	"net/http"
	"sync"
	"testing"
	"time"

	"golang.org/x/oauth2"

	"gatehouse/migrations/dbtest"
)

// TestCodeReplayRevokesWinner: when one code is redeemed by many requests
// at once, exactly one gets tokens and, whatever the interleaving, the
// replays revoke them (RFC 6749 §4.1.2, RFC 9700 §4.2.1). The race is run
// many times because a lost revocation shows in only some interleavings.
func TestCodeReplayRevokesWinner(t *testing.T) {
	t.Parallel()
	rounds := map[string]int{"postgres": 200, "sqlite": 30}
	for _, dialect := range dbtest.Dialects {
		t.Run(dialect, func(t *testing.T) { testCodeReplayRevokesWinner(t, dialect, rounds[dialect]) })
	}
}

func testCodeReplayRevokesWinner(t *testing.T, dialect string, rounds int) {
	ctx := context.Background()
	srv := startServer(t, dialect, nil)
	srv.createUser(t, "rita", testUserPassword)
	id, secret := srv.createClient(t, "--name", "Racer", "--redirect-uri", rpCallback, "--first-party")
	rp := newRelyingParty(t, srv.URL, id, secret)
	const n = 20
	hc := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: n}}
	rctx := context.WithValue(ctx, oauth2.HTTPClient, hc)
	b := newBrowser(t, rpCallback)
	verifier := oauth2.GenerateVerifier()
	authURL := rp.OAuth.AuthCodeURL("state-0123456789", oauth2.S256ChallengeOption(verifier))
	code := signIn(t, b, authURL, "rita", false).Get("code")
	start := time.Now()
	for round := range rounds {
		if round > 0 {
			_, resp := b.get(t, authURL) // single sign-on: straight back with a code
			code = callbackQuery(t, resp).Get("code")
		}
		toks := make([]*oauth2.Token, n)
		errs := make([]error, n)
		var wg sync.WaitGroup
		for i := range n {
			wg.Add(1)
			go func() {
				defer wg.Done()
				toks[i], errs[i] = rp.OAuth.Exchange(rctx, code, oauth2.VerifierOption(verifier))
			}()
		}
		wg.Wait()
		var winner *oauth2.Token
		for i, err := range errs {
			switch {
			case err == nil && winner != nil:
				t.Fatalf("round %d: two redemptions of one code succeeded", round)
			case err == nil:
				winner = toks[i]
			case !isOAuthError(err, "invalid_grant"):
				t.Fatalf("round %d: redemption failed with %v, want invalid_grant", round, err)
			}
		}
		if winner == nil {
			t.Fatalf("round %d: no redemption succeeded", round)
		}
		for _, tok := range []string{winner.AccessToken, winner.RefreshToken} {
			if got := introspect(t, srv.URL, id, secret, tok); got["active"] != false {
				t.Fatalf("round %d: the winner's %v stayed active after %d replays", round, got["token_type"], n-1)
			}
		}
	}
	t.Logf("%d rounds of %d concurrent redemptions in %v", rounds, n, time.Since(start).Round(time.Millisecond))
}
