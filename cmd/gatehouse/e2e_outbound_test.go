package main

import (
	"crypto/rand"
	"crypto/rsa"
	"encoding/json"
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/go-jose/go-jose/v4"
	josejwt "github.com/go-jose/go-jose/v4/jwt"
	"github.com/google/uuid"
	"golang.org/x/oauth2"

	"gatehouse/config"
	"gatehouse/migrations/dbtest"
	"gatehouse/oidc"
)

// allowPrivateOutbound lets the server call the test's relying parties,
// which listen on loopback over http.
func allowPrivateOutbound(cfg *config.Config) { cfg.Outbound.AllowPrivateNetworks = true }

// jwksHost serves a client's JWK Set and counts every connection made to
// it, so that a test can tell the server never even connected.
type jwksHost struct {
	*httptest.Server
	conns atomic.Int32
}

func newJWKSHost(t testing.TB, tls bool, set []byte) *jwksHost {
	t.Helper()
	h := &jwksHost{}
	h.Server = httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		w.Write(set)
	}))
	h.Config.ConnState = func(_ net.Conn, s http.ConnState) {
		if s == http.StateNew {
			h.conns.Add(1)
		}
	}
	if tls {
		h.StartTLS()
	} else {
		h.Start()
	}
	t.Cleanup(h.Close)
	return h
}

// signedAssertion is an RFC 7523 client assertion for clientID.
func signedAssertion(t testing.TB, key *rsa.PrivateKey, clientID, aud string) string {
	t.Helper()
	signer, err := jose.NewSigner(jose.SigningKey{Algorithm: jose.RS256, Key: jose.JSONWebKey{Key: key, KeyID: "k1"}}, nil)
	if err != nil {
		t.Fatal(err)
	}
	now := time.Now()
	raw, err := josejwt.Signed(signer).Claims(josejwt.Claims{
		Issuer: clientID, Subject: clientID, Audience: josejwt.Audience{aud}, ID: oauth2.GenerateVerifier(),
		IssuedAt: josejwt.NewNumericDate(now), Expiry: josejwt.NewNumericDate(now.Add(time.Minute)),
	}).Serialize()
	if err != nil {
		t.Fatal(err)
	}
	return raw
}

func assertionForm(assertion string) string {
	return url.Values{"grant_type": {"client_credentials"}, "scope": {"profile"},
		"client_assertion_type": {"urn:ietf:params:oauth:client-assertion-type:jwt-bearer"}, "client_assertion": {assertion}}.Encode()
}

// TestPrivateKeyJWTInternalJWKSNotFetched: a private_key_jwt client whose
// jwks_uri points at loopback (stored before the outbound rules, or while
// they were relaxed) cannot make the token endpoint connect there: the
// assertion gets invalid_client and the host sees no connection. With
// private networks allowed the same kind of client authenticates.
func TestPrivateKeyJWTInternalJWKSNotFetched(t *testing.T) {
	t.Parallel()
	key, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		t.Fatal(err)
	}
	set, _ := json.Marshal(jose.JSONWebKeySet{Keys: []jose.JSONWebKey{{Key: key.Public(), KeyID: "k1", Algorithm: "RS256", Use: "sig"}}})
	for _, dialect := range dbtest.Dialects {
		t.Run(dialect, func(t *testing.T) {
			plain, secure := newJWKSHost(t, false, set), newJWKSHost(t, true, set)
			srv := startServer(t, dialect, nil)
			for _, jwksURI := range []string{plain.URL + "/jwks", secure.URL + "/jwks",
				strings.Replace(secure.URL, "127.0.0.1", "localhost", 1) + "/jwks"} {
				now := time.Now().UTC()
				c := &oidc.Client{ID: uuid.NewString(), ClientMetadata: oidc.ClientMetadata{ClientName: "Internal keys", ApplicationType: oidc.AppTypeWeb,
					GrantTypes: []string{"client_credentials"}, ResponseTypes: []string{}, Scope: "profile",
					TokenEndpointAuthMethod: oidc.AuthMethodPrivateKeyJWT, TokenEndpointAuthSigningAlg: "RS256",
					JWKSURI: jwksURI, AccessTokenFormat: oidc.TokenFormatOpaque}, CreatedAt: now, UpdatedAt: now}
				if err := srv.App.Store.Clients.CreateClient(t.Context(), c); err != nil {
					t.Fatal(err)
				}
				got := postForm(t, srv.URL+"/oauth2/token", assertionForm(signedAssertion(t, key, c.ID, srv.URL+"/oauth2/token")), "", "")
				if got.Status != http.StatusUnauthorized || got.JSON["error"] != "invalid_client" {
					t.Errorf("jwks_uri %s: token endpoint answered %d %s, want 401 invalid_client", jwksURI, got.Status, got.Body)
				}
			}
			if n, m := plain.conns.Load(), secure.conns.Load(); n != 0 || m != 0 {
				t.Fatalf("the server connected to the loopback JWKS hosts (%d, %d connections)", n, m)
			}

			dev := startServer(t, dialect, allowPrivateOutbound)
			body := `{"client_name":"Local keys","grant_types":["client_credentials"],"response_types":[],"scope":"profile",` +
				`"token_endpoint_auth_method":"private_key_jwt","token_endpoint_auth_signing_alg":"RS256","jwks_uri":"` + plain.URL + `/jwks"}`
			req, _ := http.NewRequest(http.MethodPost, dev.URL+"/oauth2/register", strings.NewReader(body))
			req.Header.Set("Content-Type", "application/json")
			req.Header.Set("Authorization", "Bearer "+testInitialAccessToken)
			reg := do(t, req)
			if reg.Status != http.StatusCreated {
				t.Fatalf("registration with private networks allowed: %d %s", reg.Status, reg.Body)
			}
			id := reg.JSON["client_id"].(string)
			got := postForm(t, dev.URL+"/oauth2/token", assertionForm(signedAssertion(t, key, id, dev.URL+"/oauth2/token")), "", "")
			if got.Status != http.StatusOK || plain.conns.Load() == 0 {
				t.Errorf("with private networks allowed: %d %s, %d connections to the JWKS host", got.Status, got.Body, plain.conns.Load())
			}
		})
	}
}

// TestRegistrationRefusesInternalDestinations: dynamic registration on
// the running server, and the CLI, refuse URIs the server would call into
// its own network.
func TestRegistrationRefusesInternalDestinations(t *testing.T) {
	t.Parallel()
	srv := startServer(t, "sqlite", nil)
	for _, dest := range []string{"http://127.0.0.1:6379/", "http://localhost:6379/", "https://10.0.0.1/",
		"https://169.254.169.254/latest/meta-data", "https://[::1]/", "https://[::ffff:127.0.0.1]/", "https://0.0.0.0/"} {
		for _, field := range []string{"jwks_uri", "backchannel_logout_uri"} {
			body := `{"redirect_uris":["https://app.example.com/cb"],"` + field + `":"` + dest + `"`
			if field == "jwks_uri" {
				body += `,"token_endpoint_auth_method":"private_key_jwt","token_endpoint_auth_signing_alg":"RS256"`
			}
			req, _ := http.NewRequest(http.MethodPost, srv.URL+"/oauth2/register", strings.NewReader(body+"}"))
			req.Header.Set("Content-Type", "application/json")
			req.Header.Set("Authorization", "Bearer "+testInitialAccessToken)
			if got := do(t, req); got.Status != http.StatusBadRequest || got.JSON["error"] != "invalid_client_metadata" {
				t.Errorf("register %s %s: %d %s, want 400 invalid_client_metadata", field, dest, got.Status, got.Body)
			}
		}
		out, code := srv.cli(t, "", "clients", "create", "--name", "Internal", "--redirect-uri", rpCallback, "--backchannel-logout-uri", dest)
		if code != 2 || !strings.Contains(out, "backchannel_logout_uri") {
			t.Errorf("clients create --backchannel-logout-uri %s: exit %d, output %q; want a usage error", dest, code, out)
		}
	}
}
