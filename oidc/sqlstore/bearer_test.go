package sqlstore_test

import (
	"crypto/sha256"
	"encoding/base64"
	"errors"
	"net/url"
	"strings"
	"testing"
	"time"

	"gorm.io/gorm"

	"gatehouse/migrations/dbtest"
	"gatehouse/oidc"
)

// TestVerifyAccessTokenExpiry: an access token past its expiry fails
// VerifyAccessToken as ErrInvalidToken, opaque or JWT, while its grant is
// still stored; a database that cannot be read is another error, so that
// the caller answers 503 rather than telling a valid token it is invalid.
func TestVerifyAccessTokenExpiry(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, db *gorm.DB) {
		ctx := t.Context()
		p, clients := newRoundTripProvider(t, db)
		expired, _ := newRoundTripProviderWith(t, db, -time.Minute)
		issue := func(t *testing.T, by *oidc.Provider, c *oidc.Client) string {
			t.Helper()
			verifier := strings.Repeat("verifier-", 6)
			sum := sha256.Sum256([]byte(verifier))
			code := authorize(t, by, c, base64.RawURLEncoding.EncodeToString(sum[:]))
			resp, err := tokenRequest(t, by, url.Values{"grant_type": {"authorization_code"}, "code": {code},
				"redirect_uri": {c.RedirectURIs[0]}, "code_verifier": {verifier}})
			if err != nil {
				t.Fatalf("code exchange: %v", err)
			}
			return resp["access_token"].(string)
		}
		var valid string
		for _, format := range []string{oidc.TokenFormatOpaque, oidc.TokenFormatJWT} {
			t.Run(format, func(t *testing.T) {
				c := testClient(t, "app")
				c.TokenEndpointAuthMethod, c.JWKS, c.TokenEndpointAuthSigningAlg = oidc.AuthMethodBasic, nil, ""
				c.AccessTokenFormat = format
				if err := clients.CreateClient(ctx, c); err != nil {
					t.Fatal(err)
				}
				t.Cleanup(func() {
					_ = clients.DeleteClient(ctx, c.ID)
					p.Clients.Forget(c.ID)
					expired.Clients.Forget(c.ID)
				})
				valid = issue(t, p, c)
				at, err := p.VerifyAccessToken(ctx, valid)
				if err != nil || at.Subject != "alice" || at.ClientID != "app" || !at.HasScope("openid") {
					t.Fatalf("VerifyAccessToken(fresh token) = %+v, %v; want alice's token of app", at, err)
				}
				old := issue(t, expired, c)
				if at, err := p.VerifyAccessToken(ctx, old); !errors.Is(err, oidc.ErrInvalidToken) {
					t.Errorf("VerifyAccessToken(expired token) = %+v, %v; want ErrInvalidToken", at, err)
				}
			})
		}

		c := testClient(t, "app")
		c.TokenEndpointAuthMethod, c.JWKS, c.TokenEndpointAuthSigningAlg = oidc.AuthMethodBasic, nil, ""
		c.AccessTokenFormat = oidc.TokenFormatOpaque
		if err := clients.CreateClient(ctx, c); err != nil {
			t.Fatal(err)
		}
		valid = issue(t, p, c)
		sqlDB, err := db.DB()
		if err != nil {
			t.Fatal(err)
		}
		if err := sqlDB.Close(); err != nil {
			t.Fatal(err)
		}
		at, err := p.VerifyAccessToken(ctx, valid)
		if err == nil || errors.Is(err, oidc.ErrInvalidToken) {
			t.Errorf("VerifyAccessToken with the database closed = %+v, %v; want a storage error, not ErrInvalidToken", at, err)
		}
	})
}
