package main

import (
	"context"
	"encoding/json"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"golang.org/x/oauth2"
	"golang.org/x/oauth2/clientcredentials"

	"gatehouse/migrations/dbtest"
)

// introspectRaw posts token to the introspection endpoint as client id and
// returns the decoded body, whatever it holds.
func introspectRaw(t testing.TB, base, id, secret, token string) map[string]any {
	t.Helper()
	req, _ := http.NewRequest(http.MethodPost, base+"/oauth2/introspect", strings.NewReader(url.Values{"token": {token}}.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.SetBasicAuth(url.QueryEscape(id), url.QueryEscape(secret))
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var out map[string]any
	if err := json.NewDecoder(resp.Body).Decode(&out); err != nil || resp.StatusCode != http.StatusOK {
		t.Fatalf("introspect: %d %v", resp.StatusCode, err)
	}
	return out
}

// TestIntrospectionIsolation: a client introspects its own tokens; a
// resource server introspects access tokens meant for it; anyone else
// learns only {"active": false} (RFC 7662 §4).
func TestIntrospectionIsolation(t *testing.T) {
	t.Parallel()
	for _, dialect := range dbtest.Dialects {
		t.Run(dialect, func(t *testing.T) { testIntrospectionIsolation(t, dialect) })
	}
}

type introspector struct{ id, secret string }

func testIntrospectionIsolation(t *testing.T, dialect string) {
	ctx := context.Background()
	srv := startServer(t, dialect, nil)
	srv.createUser(t, "ines", testUserPassword)
	const api = "https://api.example.com"

	appID, appSecret := srv.createClient(t, "--name", "App A", "--redirect-uri", rpCallback, "--first-party")
	rp := newRelyingParty(t, srv.URL, appID, appSecret)
	verifier := oauth2.GenerateVerifier()
	q := signIn(t, newBrowser(t, rpCallback), rp.OAuth.AuthCodeURL("state-0123456789", oauth2.S256ChallengeOption(verifier)), "ines", false)
	userTok, err := rp.OAuth.Exchange(ctx, q.Get("code"), oauth2.VerifierOption(verifier))
	if err != nil || userTok.RefreshToken == "" {
		t.Fatalf("Exchange: %v (refresh token %t)", err, userTok != nil && userTok.RefreshToken != "")
	}

	mk := func(args ...string) introspector {
		id, secret := srv.createClient(t, append([]string{"--grant-type", "client_credentials", "--scope", "profile"}, args...)...)
		return introspector{id, secret}
	}
	other := mk("--name", "Client B")
	rs := mk("--name", "API", "--resource-server", "--resource-audience", api)
	rsByID := mk("--name", "Billing API", "--resource-server")
	bystander := mk("--name", "Unrelated API", "--resource-server", "--resource-audience", "https://other.example.com")
	caller := mk("--name", "Caller", "--audience", api, "--audience", rsByID.id)
	// An existing client becomes a resource server through the CLI.
	late := mk("--name", "Late API")
	if out, code := srv.cli(t, "", "clients", "resource-server", late.id, "--resource-audience", api); code != 0 {
		t.Fatalf("clients resource-server exited %d: %s", code, out)
	}
	off := mk("--name", "Former API", "--resource-server", "--resource-audience", api)
	if out, code := srv.cli(t, "", "clients", "resource-server", off.id, "--off"); code != 0 {
		t.Fatalf("clients resource-server --off exited %d: %s", code, out)
	}
	if out, _ := srv.cli(t, "", "clients", "show", late.id); !strings.Contains(out, `"resource_server": true`) || !strings.Contains(out, api) {
		t.Errorf("clients show after resource-server:\n%s", out)
	}
	cc := func(c introspector, audience string) string {
		cfg := clientcredentials.Config{ClientID: c.id, ClientSecret: c.secret, TokenURL: srv.URL + "/oauth2/token",
			Scopes: []string{"profile"}, EndpointParams: url.Values{"audience": {audience}}}
		tok, err := cfg.Token(ctx)
		if err != nil {
			t.Fatalf("client_credentials for %s: %v", audience, err)
		}
		return tok.AccessToken
	}
	forAPI, forBilling := cc(caller, api), cc(caller, rsByID.id)

	// Dynamic registration cannot make a resource server, whatever the
	// request says.
	req, _ := http.NewRequest(http.MethodPost, srv.URL+"/oauth2/register", strings.NewReader(
		`{"client_name":"Self-made API","grant_types":["client_credentials"],"response_types":[],"scope":"profile",`+
			`"resource_server":true,"resource_audience":["`+api+`"],"audience":["`+api+`"]}`))
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Authorization", "Bearer "+testInitialAccessToken)
	reg := do(t, req)
	selfMade := introspector{}
	selfMade.id, _ = reg.JSON["client_id"].(string)
	selfMade.secret, _ = reg.JSON["client_secret"].(string)
	if reg.Status != http.StatusCreated || selfMade.secret == "" {
		t.Fatalf("registration: %d %s", reg.Status, reg.Body)
	}

	inactive := map[string]any{"active": false}
	for _, tc := range []struct {
		name   string
		as     introspector
		token  string
		active bool
		aud    []any
	}{
		{"own access token", introspector{appID, appSecret}, userTok.AccessToken, true, []any{srv.URL}},
		{"own refresh token", introspector{appID, appSecret}, userTok.RefreshToken, true, []any{srv.URL}},
		{"another client's access token", other, userTok.AccessToken, false, nil},
		{"another client's refresh token", other, userTok.RefreshToken, false, nil},
		{"resource server, token for its audience", rs, forAPI, true, []any{api}},
		{"resource server, token for its client ID", rsByID, forBilling, true, []any{rsByID.id}},
		{"resource server, token for another audience", rs, forBilling, false, nil},
		{"resource server, user's token for the provider", rs, userTok.AccessToken, false, nil},
		{"resource server, refresh token", rs, userTok.RefreshToken, false, nil},
		{"unrelated resource server", bystander, forAPI, false, nil},
		{"caller's own token", caller, forAPI, true, []any{api}},
		{"resource server made by the CLI", late, forAPI, true, []any{api}},
		{"resource server withdrawn by the CLI", off, forAPI, false, nil},
		{"dynamically registered self-declared resource server", selfMade, forAPI, false, nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got := introspectRaw(t, srv.URL, tc.as.id, tc.as.secret, tc.token)
			if !tc.active {
				if diff := cmp.Diff(inactive, got); diff != "" {
					t.Errorf("introspection mismatch (-want +got):\n%s", diff)
				}
				return
			}
			if got["active"] != true {
				t.Fatalf("introspection = %v, want active", got)
			}
			if diff := cmp.Diff(tc.aud, got["aud"]); diff != "" {
				t.Errorf("aud mismatch (-want +got):\n%s", diff)
			}
		})
	}
}
