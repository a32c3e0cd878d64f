package sqlstore_test

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"encoding/json"
	"net/url"
	"sync"
	"testing"
	"time"

	jose "github.com/go-jose/go-jose/v3"
	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"
	"github.com/ory/fosite"
	"gorm.io/gorm"

	"gatehouse/oidc"
	"gatehouse/oidc/sqlstore"
)

// base is the fixed instant test times are derived from wherever the code
// under test takes its clock from the test (fosite, in
// TestFositeRoundTrip, reads the wall clock itself).
var base = time.Date(2030, time.March, 4, 10, 0, 0, 0, time.UTC)

// stores is every part of the storage over one database, built as
// cmd/gatehouse builds them, so that a test can use the parts together
// (a token of a client, a session revocation that ends tokens) through
// one value.
type stores struct {
	*sqlstore.Tokens
	*sqlstore.Clients
	*sqlstore.Flows
	*sqlstore.BrowserSessions
	*sqlstore.Consents
	*sqlstore.SigningKeys
	*sqlstore.Purge
}

// newStore returns the parts over db with the default settings; Tokens
// reads clients back from the Clients part, as the provider's cached
// lookup does.
func newStore(t testing.TB, db *gorm.DB) *stores {
	t.Helper()
	return newStoreWith(t, db, sqlstore.Settings{})
}

// newStoreWith is newStore with settings.
func newStoreWith(t testing.TB, db *gorm.DB, settings sqlstore.Settings) *stores {
	t.Helper()
	clients := sqlstore.NewClients(db, settings)
	lookup := func(ctx context.Context, id string) (fosite.Client, error) { return clients.GetClient(ctx, id) }
	return &stores{
		Tokens:          sqlstore.NewTokens(db, lookup, settings),
		Clients:         clients,
		Flows:           sqlstore.NewFlows(db),
		BrowserSessions: sqlstore.NewBrowserSessions(db, settings),
		Consents:        sqlstore.NewConsents(db),
		SigningKeys:     sqlstore.NewSigningKeys(db),
		Purge:           sqlstore.NewPurge(db),
	}
}

// testClient returns a confidential client with every metadata field set.
func testClient(t testing.TB, id string) *oidc.Client {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	hasher := &oidc.SecretHasher{Pepper: []byte("pepper")}
	return &oidc.Client{
		ID:         id,
		SecretHash: hasher.Sum([]byte("secret-" + id)),
		ClientMetadata: oidc.ClientMetadata{
			ClientName:                  "Client " + id,
			ApplicationType:             oidc.AppTypeWeb,
			RedirectURIs:                []string{"https://" + id + ".example.com/callback"},
			PostLogoutRedirectURIs:      []string{"https://" + id + ".example.com/"},
			GrantTypes:                  []string{"authorization_code", "refresh_token"},
			ResponseTypes:               []string{"code"},
			Scope:                       "openid profile email offline_access",
			TokenEndpointAuthMethod:     oidc.AuthMethodPrivateKeyJWT,
			TokenEndpointAuthSigningAlg: "ES256",
			JWKS:                        mustJSON(t, jose.JSONWebKeySet{Keys: []jose.JSONWebKey{{Key: &key.PublicKey, KeyID: "k1", Algorithm: "ES256", Use: "sig"}}}),
			ClientURI:                   "https://" + id + ".example.com",
			LogoURI:                     "https://" + id + ".example.com/logo.png",
			Contacts:                    []string{"admin@" + id + ".example.com"},
			AccessTokenFormat:           oidc.TokenFormatJWT,
		},
		Audience:              []string{"https://api.example.com"},
		FirstParty:            true,
		ResourceServer:        true,
		ResourceAudience:      []string{"https://" + id + ".example.com/api", "urn:" + id},
		RegistrationTokenHash: hasher.Sum([]byte("registration-" + id)),
		CreatedAt:             base,
		UpdatedAt:             base,
		LastUsedAt:            base,
	}
}

// mustCreateClient stores a client for tests that issue tokens.
func mustCreateClient(t testing.TB, s *stores, id string) *oidc.Client {
	t.Helper()
	c := testClient(t, id)
	if err := s.CreateClient(t.Context(), c); err != nil {
		t.Fatalf("CreateClient(%q): %v", id, err)
	}
	return c
}

// clientOpts compares clients: JWKS as JSON values, times to the second (PostgreSQL keeps
// microseconds), unexported fields ignored.
var clientOpts = cmp.Options{
	cmpopts.IgnoreUnexported(oidc.Client{}),
	cmpopts.EquateApproxTime(time.Second),
	cmpopts.EquateEmpty(),
	// PostgreSQL's jsonb reformats the document: the same JSON value,
	// other bytes.
	cmp.FilterPath(func(p cmp.Path) bool { return p.Last().String() == ".JWKS" },
		cmp.FilterValues(func(a, b json.RawMessage) bool { return len(a) > 0 && len(b) > 0 },
			cmp.Comparer(func(a, b json.RawMessage) bool {
				var va, vb any
				return json.Unmarshal(a, &va) == nil && json.Unmarshal(b, &vb) == nil && cmp.Equal(va, vb)
			}))),
}

// mustCount returns the number of rows of table matching where.
func mustCount(t testing.TB, db *gorm.DB, table, where string, args ...any) int64 {
	t.Helper()
	var n int64
	if err := db.Raw("SELECT count(*) FROM "+table+" WHERE "+where, args...).Scan(&n).Error; err != nil {
		t.Fatalf("count %s: %v", table, err)
	}
	return n
}

// concurrently runs fn in n goroutines released at once and returns
// their errors.
func concurrently(n int, fn func() error) []error {
	start := make(chan struct{})
	errs := make([]error, n)
	var wg sync.WaitGroup
	for i := range n {
		wg.Go(func() {
			<-start
			errs[i] = fn()
		})
	}
	close(start)
	wg.Wait()
	return errs
}

// Expiry of each token type in requests built by newRequest.
var expiries = map[fosite.TokenType]time.Time{
	fosite.AuthorizeCode: base.Add(10 * time.Minute),
	fosite.AccessToken:   base.Add(time.Hour),
	fosite.RefreshToken:  base.Add(30 * 24 * time.Hour),
}

// newRequest returns a granted request of client c for subject in browser
// session sid, its session expiring per token type as in expiries.
func newRequest(id string, c *oidc.Client, subject, sid string) *fosite.Request {
	sess := oidc.NewSession()
	sess.Subject = subject
	sess.Username = subject + "@example.com"
	sess.BrowserSessionID = sid
	sess.ExpiresAt = map[fosite.TokenType]time.Time{}
	for k, v := range expiries {
		sess.ExpiresAt[k] = v
	}
	sess.Claims.Issuer = "https://id.example.com"
	sess.Claims.Subject = subject
	sess.Claims.Audience = []string{c.ID}
	sess.Claims.Nonce = "n-0S6_WzA2Mj"
	sess.Claims.AuthTime = base.Add(-time.Minute)
	sess.Claims.RequestedAt = base
	sess.Claims.AuthenticationMethodsReferences = []string{"pwd", "otp"}
	sess.Claims.Extra = map[string]any{"email": subject + "@example.com", "email_verified": true}
	sess.Headers.Extra = map[string]any{"kid": "kid-a"}
	return &fosite.Request{
		ID:                id,
		RequestedAt:       base,
		Client:            c,
		RequestedScope:    fosite.Arguments{"openid", "profile", "offline_access"},
		GrantedScope:      fosite.Arguments{"openid", "offline_access"},
		RequestedAudience: fosite.Arguments{"https://api.example.com"},
		GrantedAudience:   fosite.Arguments{"https://api.example.com"},
		Form: url.Values{
			"redirect_uri": {c.RedirectURIs[0]},
			"nonce":        {"n-0S6_WzA2Mj"},
			"scope":        {"openid profile offline_access"},
		},
		Session: sess,
	}
}

// requestView is what a stored request must keep; fosite.Request itself
// holds a language.Tag with unexported fields.
type requestView struct {
	ID                string
	RequestedAt       time.Time
	ClientID          string
	RequestedScope    []string
	GrantedScope      []string
	RequestedAudience []string
	GrantedAudience   []string
	Form              url.Values
	Session           fosite.Session
}

func view(r fosite.Requester) requestView {
	if r == nil {
		return requestView{}
	}
	v := requestView{
		ID:                r.GetID(),
		RequestedAt:       r.GetRequestedAt(),
		RequestedScope:    r.GetRequestedScopes(),
		GrantedScope:      r.GetGrantedScopes(),
		RequestedAudience: r.GetRequestedAudience(),
		GrantedAudience:   r.GetGrantedAudience(),
		Form:              r.GetRequestForm(),
		Session:           r.GetSession(),
	}
	if c := r.GetClient(); c != nil {
		v.ClientID = c.GetID()
	}
	return v
}

func mustJSON(t testing.TB, v any) json.RawMessage {
	t.Helper()
	raw, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	return raw
}
