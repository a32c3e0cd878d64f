package main

import (
	"context"
	"fmt"
	"net/url"
	"testing"
	"time"

	"golang.org/x/oauth2"

	"gatehouse/migrations/dbtest"
	"gatehouse/oidc/adminapi"
)

// TestUsageReportCountsRealSignIns signs users in through the hosted
// pages of two clients, fails one sign-in and redeems the codes, runs
// the usage worker once, and reads the figures through the admin API:
// they are the counts of what happened, the small ones suppressed.
func TestUsageReportCountsRealSignIns(t *testing.T) {
	t.Parallel()
	for _, dialect := range dbtest.Dialects {
		t.Run(dialect, func(t *testing.T) { testUsageReportCountsRealSignIns(t, dialect) })
	}
}

func testUsageReportCountsRealSignIns(t *testing.T, dialect string) {
	ctx := context.Background()
	srv := startServer(t, dialect, nil)
	shop, shopSecret := srv.createClient(t, "--name", "Shop", "--redirect-uri", rpCallback, "--first-party")
	blog, blogSecret := srv.createClient(t, "--name", "Blog", "--redirect-uri", rpCallback, "--first-party")
	signInThrough := func(clientID, secret, name string) {
		t.Helper()
		rp := newRelyingParty(t, srv.URL, clientID, secret)
		verifier := oauth2.GenerateVerifier()
		q := signIn(t, newBrowser(t, rpCallback), rp.OAuth.AuthCodeURL("state-0123456789", oauth2.S256ChallengeOption(verifier)), name, false)
		if _, err := rp.OAuth.Exchange(ctx, q.Get("code"), oauth2.VerifierOption(verifier)); err != nil {
			t.Fatalf("Exchange for %s: %v", name, err)
		}
	}
	for i := range 6 {
		name := fmt.Sprintf("shopper%d", i)
		srv.createUser(t, name, testUserPassword)
		signInThrough(shop, shopSecret, name)
	}
	srv.createUser(t, "reader", testUserPassword)
	signInThrough(blog, blogSecret, "reader")
	// One wrong password on the shop's login page.
	rp := newRelyingParty(t, srv.URL, shop, shopSecret)
	b := newBrowser(t, rpCallback)
	p, _ := b.get(t, rp.OAuth.AuthCodeURL("state-0123456789", oauth2.S256ChallengeOption(oauth2.GenerateVerifier())))
	b.submit(t, p, "login-submit", map[string]string{"login": "shopper0", "password": "not the password"})

	// The worker runs every few seconds; the test runs it at once (the
	// server's own may run meanwhile: nothing is counted twice).
	srv.App.Usage.Worker.Step(ctx)
	// The user counts are taken hourly; the server took them at start.
	if err := srv.App.Usage.Worker.Store.Snapshot(ctx, time.Now()); err != nil {
		t.Fatal(err)
	}

	api := adminAPI{base: srv.URL, token: srv.serviceToken(t, "usage:read")}
	today := time.Now().UTC().Format(time.DateOnly)
	var all adminapi.UsageReport
	api.call(t, "GET", "/usage?from="+today+"&to="+today, nil).decode(t, 200, &all)
	shown := func(n int64) adminapi.UsageCount { return adminapi.UsageCount{Value: n} }
	hidden := adminapi.UsageCount{Suppressed: true}
	for _, c := range []struct {
		name      string
		got, want adminapi.UsageCount
	}{
		{"sign-ins", all.Totals["sign_ins"], shown(7)},
		{"daily active users", all.Daily["daily_active_users"][0].Count, shown(7)},
		{"failed sign-ins", all.Totals["sign_ins_failed"], hidden},
		{"users", all.UsersTotal, shown(7)},
		{"users with MFA", all.UsersWithMfa, shown(0)},
	} {
		if c.got != c.want {
			t.Errorf("%s = %+v, want %+v", c.name, c.got, c.want)
		}
	}
	if len(all.SignInsByClient) != 2 || all.SignInsByClient[0] != (adminapi.UsageShare{Key: shop, Label: "Shop", Count: hidden}) ||
		all.SignInsByClient[1] != (adminapi.UsageShare{Key: blog, Label: "Blog", Count: hidden}) {
		// Blog's 1 is suppressed, and Shop's 6 with it: 7 less 6 would
		// give Blog's away.
		t.Errorf("sign-ins by client = %+v, want Shop then Blog, both suppressed", all.SignInsByClient)
	}

	var one adminapi.UsageReport
	api.call(t, "GET", "/usage?from="+today+"&to="+today+"&client_id="+url.QueryEscape(shop), nil).decode(t, 200, &one)
	if one.Totals["sign_ins"] != shown(6) || one.Totals["tokens_issued"] != shown(6) || one.ActiveUsers != shown(6) ||
		len(one.SignInsByMethod) != 1 || one.SignInsByMethod[0] != (adminapi.UsageShare{Key: "password", Label: "password", Count: shown(6)}) ||
		len(one.TokensByGrant) != 1 || one.TokensByGrant[0].Key != "authorization_code" {
		t.Errorf("Shop's report: sign-ins %+v, tokens %+v, active %+v, methods %+v, grants %+v",
			one.Totals["sign_ins"], one.Totals["tokens_issued"], one.ActiveUsers, one.SignInsByMethod, one.TokensByGrant)
	}

	// Running the worker again counts nothing twice.
	srv.App.Usage.Worker.Step(ctx)
	var again adminapi.UsageReport
	api.call(t, "GET", "/usage?from="+today+"&to="+today, nil).decode(t, 200, &again)
	if again.Totals["sign_ins"] != shown(7) {
		t.Errorf("sign-ins after a second run = %+v, want 7", again.Totals["sign_ins"])
	}

	for _, c := range []struct {
		query string
		want  string
	}{
		{"from=2026-03-10&to=2026-03-01", "to"},
		{"from=2024-01-01&to=2026-01-01", "to"},
		{"from=yesterday", "from"},
		{"to=2026-13-01", "to"},
		{"client_id=", "client_id"},
	} {
		p := api.call(t, "GET", "/usage?"+c.query, nil).problem(t, 400)
		if f := p.fields(); len(f) != 1 || f[0] != c.want {
			t.Errorf("GET /usage?%s: bad fields %v, want [%s]", c.query, f, c.want)
		}
	}
}
