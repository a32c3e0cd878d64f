package sqlstore_test

import (
	"crypto/sha256"
	"encoding/base64"
	"errors"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/ory/fosite"
	"gorm.io/gorm"

	"gatehouse/identity/seal"
	"gatehouse/migrations/dbtest"
	"gatehouse/oidc"
	"gatehouse/oidc/sqlstore"
)

const roundTripIssuer = "https://id.example.com"

// newRoundTripProvider assembles fosite over the parts as cmd/gatehouse
// does: the client part, the provider's cache over it, Tokens reading
// clients back through the cache, and the signing keys.
func newRoundTripProvider(t testing.TB, db *gorm.DB) (*oidc.Provider, *sqlstore.Clients) {
	t.Helper()
	return newRoundTripProviderWith(t, db, time.Hour)
}

// newRoundTripProviderWith is newRoundTripProvider issuing access tokens
// that live accessLife (negative: expired when issued). Providers over
// the same database share their secrets and keys.
func newRoundTripProviderWith(t testing.TB, db *gorm.DB, accessLife time.Duration) (*oidc.Provider, *sqlstore.Clients) {
	t.Helper()
	settings := sqlstore.Settings{Now: time.Now}
	clients := sqlstore.NewClients(db, settings)
	cache := &oidc.ClientCache{Store: clients, TTL: time.Minute, Now: time.Now, Issuer: roundTripIssuer}
	box, err := seal.New([]byte("0123456789abcdef0123456789abcdef"))
	if err != nil {
		t.Fatal(err)
	}
	keys := &oidc.Keys{Store: sqlstore.NewSigningKeys(db), Box: box, Algorithm: "ES256", Now: time.Now,
		MaxTokenLifetime: time.Hour, JWKSMaxAge: time.Minute}
	if err := keys.Load(t.Context()); err != nil {
		t.Fatal(err)
	}
	p := oidc.New(oidc.ProviderConfig{
		Issuer: roundTripIssuer,
		Lifetimes: oidc.Lifetimes{AccessToken: accessLife, RefreshToken: 24 * time.Hour,
			IDToken: time.Hour, Code: 10 * time.Minute},
		TokenSecret: box.DeriveKey("token hmac"),
		Hasher:      &oidc.SecretHasher{Pepper: []byte("pepper")},
		Keys:        keys,
		Tokens:      sqlstore.NewTokens(db, cache.GetClient, settings),
		Clients:     cache,
	})
	return p, clients
}

// TestFositeRoundTrip: fosite, assembled over the parts as the server
// assembles it, carries a grant through every storage interface its
// factories look up on the one storage object they get (oidc's
// fositeStorage: the client cache and Tokens): an authorization code with
// PKCE and OpenID Connect state (a wrong verifier is refused and leaves
// the code redeemable), its exchange, an introspection, a refresh
// rotation, and the reuse of the rotated refresh token, which revokes the
// grant; the code stays spent. The authenticating client is marked used
// through the client part (oidc.ClientUseRecorder, found by type
// assertion), as the unused-client purge relies on.
func TestFositeRoundTrip(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, db *gorm.DB) {
		ctx := t.Context()
		p, clients := newRoundTripProvider(t, db)
		c := testClient(t, "app")
		c.TokenEndpointAuthMethod, c.JWKS, c.TokenEndpointAuthSigningAlg = oidc.AuthMethodBasic, nil, ""
		c.AccessTokenFormat = oidc.TokenFormatOpaque
		c.LastUsedAt = time.Now().Add(-2 * oidc.ClientUseInterval)
		if err := clients.CreateClient(ctx, c); err != nil {
			t.Fatal(err)
		}

		verifier := strings.Repeat("verifier-", 6)
		sum := sha256.Sum256([]byte(verifier))
		code := authorize(t, p, c, base64.RawURLEncoding.EncodeToString(sum[:]))

		form := url.Values{"grant_type": {"authorization_code"}, "code": {code}, "redirect_uri": {c.RedirectURIs[0]}}
		form.Set("code_verifier", strings.Repeat("wrong-", 8))
		if _, err := tokenRequest(t, p, form); !errors.Is(err, fosite.ErrInvalidGrant) {
			t.Fatalf("code exchange with a wrong verifier: error = %v, want %v", err, fosite.ErrInvalidGrant)
		}
		form.Set("code_verifier", verifier)
		first, err := tokenRequest(t, p, form)
		if err != nil {
			t.Fatalf("code exchange: %v", err)
		}
		for _, name := range []string{"access_token", "refresh_token", "id_token"} {
			if s, _ := first[name].(string); s == "" {
				t.Errorf("code exchange response has no %s: %v", name, first)
			}
		}
		if got, err := clients.GetClient(ctx, c.ID); err != nil || time.Since(got.LastUsedAt) > time.Minute {
			t.Errorf("client after authenticating: LastUsedAt = %v, %v; want now", got.LastUsedAt, err)
		}
		if !introspect(t, p, first["access_token"].(string)) {
			t.Errorf("introspection of the issued access token: inactive, want active")
		}

		refresh := url.Values{"grant_type": {"refresh_token"}, "refresh_token": {first["refresh_token"].(string)}}
		second, err := tokenRequest(t, p, refresh)
		if err != nil {
			t.Fatalf("refresh: %v", err)
		}
		if introspect(t, p, first["access_token"].(string)) {
			t.Errorf("access token of the rotated refresh token: active, want revoked")
		}
		if !introspect(t, p, second["access_token"].(string)) {
			t.Errorf("access token from the refresh: inactive, want active")
		}

		// RFC 9700 §4.14.2: reuse of a rotated refresh token revokes the grant.
		if _, err := tokenRequest(t, p, refresh); err == nil {
			t.Fatal("reuse of the rotated refresh token succeeded")
		}
		if introspect(t, p, second["access_token"].(string)) {
			t.Errorf("access token after the reuse: active, want revoked with the grant")
		}
		next := url.Values{"grant_type": {"refresh_token"}, "refresh_token": {second["refresh_token"].(string)}}
		if _, err := tokenRequest(t, p, next); err == nil {
			t.Errorf("refresh token of the revoked grant still refreshes")
		}
		if _, err := tokenRequest(t, p, form); !errors.Is(err, fosite.ErrInvalidGrant) {
			t.Errorf("second exchange of the code: error = %v, want %v", err, fosite.ErrInvalidGrant)
		}
	})
}

// authorize runs the authorization endpoint's part in fosite for c with
// the PKCE challenge, in a transaction as oidc's handler does, and returns
// the code.
func authorize(t testing.TB, p *oidc.Provider, c *oidc.Client, challenge string) string {
	t.Helper()
	q := url.Values{
		"response_type": {"code"}, "client_id": {c.ID}, "redirect_uri": {c.RedirectURIs[0]},
		"scope": {"openid offline_access"}, "state": {"state-0123456789"}, "nonce": {"nonce-0123456789"},
		"code_challenge": {challenge}, "code_challenge_method": {"S256"},
	}
	r := httptest.NewRequest(http.MethodGet, roundTripIssuer+"/authorize?"+q.Encode(), nil)
	ar, err := p.NewAuthorizeRequest(t.Context(), r)
	if err != nil {
		t.Fatalf("NewAuthorizeRequest: %v", err)
	}
	for _, s := range ar.GetRequestedScopes() {
		ar.GrantScope(s)
	}
	now := time.Now().UTC()
	sess := oidc.NewSession()
	sess.Subject, sess.Claims.Subject = "alice", "alice"
	sess.Claims.AuthTime, sess.Claims.RequestedAt = now, now
	ctx, err := p.Tokens.BeginTX(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	resp, err := p.NewAuthorizeResponse(ctx, ar, sess)
	if err != nil {
		_ = p.Tokens.Rollback(ctx)
		t.Fatalf("NewAuthorizeResponse: %v", err)
	}
	if err := p.Tokens.Commit(ctx); err != nil {
		t.Fatal(err)
	}
	code := resp.GetParameters().Get("code")
	if code == "" {
		t.Fatalf("authorization response has no code: %v", resp.GetParameters())
	}
	return code
}

// tokenRequest runs the token endpoint's part in fosite for the client
// "app" and returns the response's parameters.
func tokenRequest(t testing.TB, p *oidc.Provider, form url.Values) (map[string]any, error) {
	t.Helper()
	r := clientRequest(roundTripIssuer+oidc.PathToken, form)
	ar, err := p.NewAccessRequest(t.Context(), r, oidc.NewSession())
	if err != nil {
		return nil, err
	}
	resp, err := p.NewAccessResponse(t.Context(), ar)
	if err != nil {
		return nil, err
	}
	return resp.ToMap(), nil
}

// introspect reports whether fosite finds token active.
func introspect(t testing.TB, p *oidc.Provider, token string) bool {
	t.Helper()
	r := clientRequest(roundTripIssuer+"/introspect", url.Values{"token": {token}})
	ir, err := p.NewIntrospectionRequest(t.Context(), r, oidc.NewSession())
	if err != nil && !errors.Is(err, fosite.ErrInactiveToken) {
		t.Fatalf("introspection: %v", err)
	}
	return err == nil && ir.IsActive()
}

// clientRequest is a form POST authenticated as the client "app".
func clientRequest(target string, form url.Values) *http.Request {
	r := httptest.NewRequest(http.MethodPost, target, strings.NewReader(form.Encode()))
	r.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	r.SetBasicAuth("app", "secret-app")
	return r
}
