package main

import (
	"context"
	"errors"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"testing"

	"golang.org/x/oauth2/clientcredentials"

	"gatehouse/identity"
	"gatehouse/identity/access"
	"gatehouse/identity/audit"
	"gatehouse/migrations/dbtest"
	"gatehouse/oidc/clientreg"
	"gatehouse/oidc/console"
)

// clientIDRE finds the client ID on a client's page.
var clientIDRE = regexp.MustCompile(`<code id="client-id">([^<]+)</code>`)

// clientTokenErr is the error of a client_credentials token request.
func clientTokenErr(srv *testServer, id, secret string) error {
	cc := clientcredentials.Config{ClientID: id, ClientSecret: secret, TokenURL: srv.URL + "/oauth2/token", Scopes: []string{"openid"}}
	_, err := cc.Token(context.Background())
	return err
}

// TestConsoleClients: an administrator registers a client on the
// console, which shows the secret once; the secret gets a
// client_credentials token at the token endpoint. A bad redirect URI is
// said next to its input and changes nothing; a rotation goes through
// its confirmation page, after which the old secret is refused and the
// new one works; a deletion too. Every change is audited with the
// administrator as actor, and forged posts without the CSRF token
// change nothing.
func TestConsoleClients(t *testing.T) {
	t.Parallel()
	for _, dialect := range dbtest.Dialects {
		t.Run(dialect, func(t *testing.T) {
			t.Parallel()
			ctx := context.Background()
			srv := startServer(t, dialect, nil)
			admin := consoleUser(t, srv, "ada", access.RoleAdmin)
			b := consoleSignIn(t, srv, "ada", true)
			stored := func(id string) *storedClient {
				t.Helper()
				c, err := srv.App.Clients.Get(ctx, identity.OperatorActor, id)
				if errors.Is(err, clientreg.ErrNotFound) {
					return nil
				}
				if err != nil {
					t.Fatal(err)
				}
				return &storedClient{name: c.ClientName, grants: strings.Join(c.GrantTypes, " "), redirects: strings.Join(c.RedirectURIs, " ")}
			}

			// Register: the secret is on the answer's page, once.
			p, _ := b.get(t, srv.URL+console.PathClients)
			mustContain(t, p.Body, `id="clients-none"`, "no client yet")
			p, _ = b.get(t, srv.URL+console.PathClients+"/new")
			p, resp := b.submit(t, p, "client-save", map[string]string{"client_name": "Reports", "grant_types": "client_credentials", "scope": "openid"})
			if p.Status != http.StatusOK {
				t.Fatalf("register: %d\n%s", p.Status, p.Body)
			}
			if cc := resp.Header.Get("Cache-Control"); cc != "no-store" {
				t.Errorf("the page with the secret: Cache-Control %q, want no-store", cc)
			}
			mustContain(t, p.Body, "Copy the client secret now", "secret's warning")
			secret := regexpAttr(t, p.Body, "client-secret", "value")
			m := clientIDRE.FindStringSubmatch(p.Body)
			if m == nil || secret == "" {
				t.Fatalf("no client ID or secret on the page:\n%s", p.Body)
			}
			id := m[1]
			if err := clientTokenErr(srv, id, secret); err != nil {
				t.Fatalf("client_credentials with the secret shown: %v", err)
			}
			mustAudited(t, srv, id, admin.ID, audit.ActionClientCreated)
			clientURL := srv.URL + console.PathClients + "/" + url.PathEscape(id)
			if p, _ = b.get(t, clientURL); strings.Contains(p.Body, secret) || strings.Contains(p.Body, `id="client-secret"`) {
				t.Error("the client's page shows the secret again")
			}
			if p, _ = b.get(t, srv.URL+console.PathClients); !strings.Contains(p.Body, id) || !strings.Contains(p.Body, "Reports") {
				t.Errorf("the list misses the client:\n%s", p.Body)
			}

			// A bad redirect URI: the error by its input, nothing saved.
			before := stored(id)
			p, _ = b.get(t, clientURL+"/edit")
			p, _ = b.submit(t, p, "client-save", map[string]string{"client_name": "Renamed", "grant_types": "authorization_code",
				"redirect_uris": "not a uri"})
			if p.Status != http.StatusUnprocessableEntity || !strings.Contains(p.Body, `id="redirect_uris-error"`) {
				t.Fatalf("bad redirect URI: %d, want 422 with the error by the field:\n%s", p.Status, p.Body)
			}
			mustContain(t, p.Body, `aria-invalid="true">not a uri</textarea>`, "the typed value kept, marked invalid")
			if after := stored(id); *after != *before {
				t.Errorf("a refused edit changed the client: %+v, was %+v", after, before)
			}
			// A good one is saved and audited.
			p, _ = b.submit(t, p, "client-save", map[string]string{"client_name": "Reports v2", "grant_types": "client_credentials",
				"redirect_uris": "", "scope": "openid"})
			if p.Status != http.StatusOK || p.URL.Path != console.PathClients+"/"+id {
				t.Fatalf("save: %s %d\n%s", p.URL, p.Status, p.Body)
			}
			mustContain(t, p.Body, "settings have been saved", "notice after saving")
			if got := stored(id); got.name != "Reports v2" {
				t.Errorf("name after saving %q", got.name)
			}
			mustAudited(t, srv, id, admin.ID, audit.ActionClientUpdated)

			// Forged posts, without the CSRF token, change nothing.
			for _, action := range []string{"/rotate", "/delete", "/edit"} {
				resp, err := b.PostForm(clientURL+action, url.Values{"client_name": {"Forged"}, "grant_types": {"client_credentials"}})
				if err != nil {
					t.Fatal(err)
				}
				resp.Body.Close()
				if resp.StatusCode != http.StatusForbidden {
					t.Errorf("POST %s without the CSRF token = %d, want 403", action, resp.StatusCode)
				}
			}
			resp, err := b.PostForm(srv.URL+console.PathClients+"/new", url.Values{"client_name": {"Forged"}, "grant_types": {"client_credentials"}})
			if err != nil {
				t.Fatal(err)
			}
			resp.Body.Close()
			if resp.StatusCode != http.StatusForbidden {
				t.Errorf("create without the CSRF token = %d, want 403", resp.StatusCode)
			}
			if got := stored(id); got == nil || got.name != "Reports v2" {
				t.Errorf("the client after the forged posts: %+v", got)
			}
			if err := clientTokenErr(srv, id, secret); err != nil {
				t.Errorf("the secret after the forged posts: %v", err)
			}
			list, _ := srv.App.Clients.List(ctx, identity.OperatorActor)
			if len(list) != 1 {
				t.Errorf("%d clients after a forged registration, want 1", len(list))
			}

			// A plain user's posts, with their own CSRF token, are refused.
			consoleUser(t, srv, "pete")
			pb := consoleSignIn(t, srv, "pete", false)
			form, _ := pb.get(t, srv.URL+"/account")
			_, vals, _ := findForm(t, form, "profile-save")
			for _, action := range []string{clientURL + "/rotate", clientURL + "/delete", srv.URL + console.PathClients + "/new"} {
				resp, err := pb.PostForm(action, url.Values{"csrf": {vals.Get("csrf")}, "client_name": {"Forged"}, "grant_types": {"client_credentials"}})
				if err != nil {
					t.Fatal(err)
				}
				resp.Body.Close()
				if resp.StatusCode != http.StatusForbidden {
					t.Errorf("a plain user's POST %s with a token = %d, want 403", action, resp.StatusCode)
				}
			}
			if err := clientTokenErr(srv, id, secret); err != nil {
				t.Errorf("the secret after a plain user's posts: %v", err)
			}

			// Rotate, through the confirmation page.
			p, _ = b.get(t, clientURL)
			p, _ = b.get(t, srv.URL+regexpAttr(t, p.Body, "client-rotate", "href"))
			mustContain(t, p.Body, "stops working now", "rotation's warning")
			p, _ = b.submit(t, p, "confirm-client-rotate", nil)
			if p.Status != http.StatusOK {
				t.Fatalf("rotate: %d\n%s", p.Status, p.Body)
			}
			rotated := regexpAttr(t, p.Body, "client-secret", "value")
			if rotated == "" || rotated == secret {
				t.Fatalf("rotated secret %q", rotated)
			}
			if err := clientTokenErr(srv, id, secret); err == nil {
				t.Error("the old secret still gets a token")
			}
			if err := clientTokenErr(srv, id, rotated); err != nil {
				t.Errorf("the new secret: %v", err)
			}
			mustAudited(t, srv, id, admin.ID, audit.ActionClientSecretRotated)

			// Delete, through the confirmation page.
			p, _ = b.get(t, clientURL)
			p, _ = b.get(t, srv.URL+regexpAttr(t, p.Body, "client-delete", "href"))
			p, _ = b.submit(t, p, "confirm-client-delete", nil)
			if p.URL.Path != console.PathClients || p.Status != http.StatusOK {
				t.Fatalf("delete: %s %d", p.URL, p.Status)
			}
			mustContain(t, p.Body, "The client has been deleted", "notice after deleting")
			if stored(id) != nil {
				t.Error("the client is still there")
			}
			if err := clientTokenErr(srv, id, rotated); err == nil {
				t.Error("a deleted client still gets a token")
			}
			mustAudited(t, srv, id, admin.ID, audit.ActionClientDeleted)
			if p, _ = b.get(t, clientURL); p.Status != http.StatusNotFound {
				t.Errorf("the deleted client's page = %d, want 404", p.Status)
			}
		})
	}
}

// storedClient is what TestConsoleClients compares of a stored client.
type storedClient struct{ name, grants, redirects string }
