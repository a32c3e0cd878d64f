package oidc

import (
	"context"
	"errors"
	"html/template"
	"net/http"
	"net/url"
	"sync"
	"time"

	"github.com/ory/fosite"
	"github.com/ory/fosite/compose"
	"github.com/ory/fosite/handler/oauth2"
	"github.com/ory/fosite/handler/openid"
	"github.com/ory/fosite/token/hmac"
	"github.com/ory/fosite/token/jwt"

	"gatehouse/identity/egress"
)

// Endpoint paths, relative to the issuer.
const (
	PathDiscovery  = "/.well-known/openid-configuration"
	PathJWKS       = "/.well-known/jwks.json"
	PathAuthorize  = "/oauth2/authorize"
	PathToken      = "/oauth2/token"
	PathUserinfo   = "/oauth2/userinfo"
	PathRevoke     = "/oauth2/revoke"
	PathIntrospect = "/oauth2/introspect"
	PathEndSession = "/oauth2/logout"
	// PathClientRegistration is dynamic client registration (RFC 7591),
	// not the sign-up of a user, which is PathSignUp.
	PathClientRegistration = "/oauth2/register"
	// PathAdminAPI is the prefix of the admin API (package adminapi),
	// whose errors are problem details.
	PathAdminAPI = "/admin/api/"
	PathLogin    = "/login"
	PathSignUp   = "/register"
	PathConsent  = "/consent"
	PathLogout   = "/logout"
	// The hosted pages of recovery and e-mail verification.
	PathForgotPassword = "/forgot-password"
	PathResetPassword  = "/reset-password"
	// PathSetPassword is the reset page in the words of an invitation,
	// where an invited person chooses their first password.
	PathSetPassword = "/set-password"
	// PathUnlock is where the unlock link from the lockout e-mail points.
	PathUnlock       = "/unlock"
	PathVerifyEmail  = "/verify-email"
	PathVerifyResend = "/verify-email/resend"
)

// Lifetimes are the token lifetimes the provider issues with.
type Lifetimes struct {
	AccessToken  time.Duration
	RefreshToken time.Duration
	// RefreshTokenAbsolute ends a grant this long after it began, however
	// often its refresh token rotates; RefreshToken is the idle lifetime.
	RefreshTokenAbsolute time.Duration
	IDToken              time.Duration
	Code                 time.Duration
}

// ProviderConfig is what New needs to assemble fosite.
type ProviderConfig struct {
	Issuer            string
	Lifetimes         Lifetimes
	RequirePKCEForAll bool
	// TokenSecret keys the HMAC of opaque tokens (32 bytes).
	TokenSecret []byte
	Hasher      *SecretHasher
	Keys        *Keys
	Tokens      TokenStore
	Clients     *ClientCache
	// Egress makes the calls on a client's behalf (its jwks_uri); nil
	// uses the strict outbound policy.
	Egress *egress.Client
	// Now is the clock for the checks Gatehouse adds to fosite's (nil:
	// time.Now); fosite itself reads time.Now.
	Now func() time.Time
}

// Provider is the assembled fosite provider with the pieces handlers need.
type Provider struct {
	fosite.OAuth2Provider
	Config  *fosite.Config
	Keys    *Keys
	Clients *ClientCache
	Tokens  TokenStore
	Signer  jwt.Signer
	Issuer  string
	// GrantLifetime is Lifetimes.RefreshTokenAbsolute; zero means none.
	GrantLifetime time.Duration
	fosite        *fosite.Fosite
	now           func() time.Time
}

// AuthenticateClient authenticates the client of a request with any
// supported method (fosite keeps this off its provider interface).
func (p *Provider) AuthenticateClient(ctx context.Context, r *http.Request, form url.Values) (fosite.Client, error) {
	return p.fosite.AuthenticateClient(ctx, r, form)
}

// fositeStorage joins the cached client lookup with the token store into
// the one storage object fosite's factories expect. fosite takes a single
// storage value and finds each interface it needs on it by type assertion
// (fosite.ClientManager, the oauth2, pkce and openid storages,
// storage.Transactional), some only when a request needs them; clients
// and tokens are stored apart (oidc/sqlstore's Clients behind the cache,
// its Tokens), so they meet here.
type fositeStorage struct {
	*ClientCache
	TokenStore
}

// CreateRefreshTokenSession stores a refresh token with the grant's
// scope when the access token issued with it was narrowed (RFC 6749 §6).
func (s *fositeStorage) CreateRefreshTokenSession(ctx context.Context, signature, accessSignature string, r fosite.Requester) error {
	if sess, ok := r.GetSession().(*Session); ok && len(sess.GrantScope) > 0 {
		if req, ok := r.(*fosite.Request); ok {
			cp := *req
			cp.GrantedScope = sess.GrantScope
			r = &cp
		}
	}
	return s.TokenStore.CreateRefreshTokenSession(ctx, signature, accessSignature, r)
}

// formPostTemplate replaces fosite's default, whose inline event handler a
// strict Content-Security-Policy blocks. The script's hash is allowed by
// the authorization endpoint's CSP; without JavaScript the button works.
var formPostTemplate = template.Must(template.New("form_post").Parse(`<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>Continue</title></head>
<body><form method="post" action="{{ .RedirURL }}">{{ range $key, $value := .Parameters }}{{ range $value }}
<input type="hidden" name="{{ $key }}" value="{{ . }}">{{ end }}{{ end }}
<noscript><button type="submit">Continue</button></noscript></form>
<script>` + formPostScript + `</script></body></html>`))

const formPostScript = `document.forms[0].submit()`

// New assembles fosite around Gatehouse's storage and strategies.
func New(pc ProviderConfig) *Provider {
	cfg := &fosite.Config{
		AccessTokenLifespan:         pc.Lifetimes.AccessToken,
		RefreshTokenLifespan:        pc.Lifetimes.RefreshToken,
		IDTokenLifespan:             pc.Lifetimes.IDToken,
		AuthorizeCodeLifespan:       pc.Lifetimes.Code,
		IDTokenIssuer:               pc.Issuer,
		AccessTokenIssuer:           pc.Issuer,
		TokenURL:                    pc.Issuer + PathToken,
		GlobalSecret:                pc.TokenSecret,
		ClientSecretsHasher:         pc.Hasher,
		ScopeStrategy:               fosite.ExactScopeStrategy,
		AudienceMatchingStrategy:    fosite.DefaultAudienceMatchingStrategy,
		EnforcePKCE:                 pc.RequirePKCEForAll,
		EnforcePKCEForPublicClients: true,
		// RFC 9700 §2.1.1: only S256.
		EnablePKCEPlainChallengeMethod: false,
		AllowedPromptValues:            []string{"none", "login", "consent", "select_account", "create"},
		RefreshTokenScopes:             []string{"offline_access"},
		JWTScopeClaimKey:               jwt.JWTScopeFieldString, // RFC 9068 §2.2.3: "scope" as a string
		FormPostHTMLTemplate:           formPostTemplate,
		SendDebugMessagesToClients:     false,
	}
	cfg.JWKSFetcherStrategy = newJWKSFetcher(pc.Egress)
	signer := &keySigner{keys: pc.Keys}
	opaque := oauth2.NewHMACSHAStrategyUnPrefixed(&hmac.HMACStrategy{Config: cfg}, cfg)
	strategy := &compose.CommonStrategy{
		CoreStrategy: &tokenStrategy{
			opaque: opaque,
			jwt:    &oauth2.DefaultJWTStrategy{Signer: signer, HMACSHAStrategy: opaque, Config: cfg},
		},
		OpenIDConnectTokenStrategy: &openid.DefaultStrategy{Signer: signer, Config: cfg},
		Signer:                     signer,
	}
	store := &fositeStorage{ClientCache: pc.Clients, TokenStore: pc.Tokens}
	oauth := compose.Compose(cfg, store, strategy,
		compose.OAuth2AuthorizeExplicitFactory,
		compose.OAuth2ClientCredentialsGrantFactory,
		compose.OAuth2RefreshTokenGrantFactory,
		compose.OAuth2TokenIntrospectionFactory,
		compose.OAuth2TokenRevocationFactory,
		compose.OAuth2PKCEFactory,
		compose.OpenIDConnectExplicitFactory,
		compose.OpenIDConnectRefreshFactory,
	)
	p := &Provider{OAuth2Provider: oauth, Config: cfg, Keys: pc.Keys, Clients: pc.Clients, Tokens: pc.Tokens,
		Signer: signer, Issuer: pc.Issuer, GrantLifetime: pc.Lifetimes.RefreshTokenAbsolute, fosite: oauth.(*fosite.Fosite), now: pc.Now}
	if p.now == nil {
		p.now = time.Now
	}
	cfg.ClientAuthenticationStrategy = p.authenticateClient
	return p
}

// ClientCache serves client lookups from memory for a short, bounded time:
// the token and introspection endpoints look a client up on every call.
// A change made through this instance is visible at once; one made on
// another instance within TTL.
type ClientCache struct {
	Store ClientStore
	TTL   time.Duration
	Now   func() time.Time
	// Issuer is added to every client's allowed audience: tokens for the
	// provider's own UserInfo endpoint.
	Issuer string

	mu      sync.RWMutex
	entries map[string]cachedClient
}

type cachedClient struct {
	client  *Client
	fetched time.Time
}

// GetClient implements fosite.ClientManager.
func (c *ClientCache) GetClient(ctx context.Context, id string) (fosite.Client, error) {
	cl, err := c.Get(ctx, id)
	if err != nil {
		return nil, err
	}
	return cl, nil
}

// Get returns the client, from cache when fresh. An unknown client is
// fosite.ErrNotFound wrapped with ErrClientNotFound.
func (c *ClientCache) Get(ctx context.Context, id string) (*Client, error) {
	now := c.Now()
	c.mu.RLock()
	e, ok := c.entries[id]
	c.mu.RUnlock()
	if ok && now.Sub(e.fetched) < c.TTL {
		return e.client, nil
	}
	cl, err := c.Store.GetClient(ctx, id)
	if errors.Is(err, ErrClientNotFound) {
		c.Forget(id)
		return nil, errors.Join(fosite.ErrNotFound, ErrClientNotFound)
	}
	if err != nil {
		return nil, err
	}
	if c.Issuer != "" {
		cl.defaultAudience = []string{c.Issuer}
	}
	c.mu.Lock()
	if c.entries == nil {
		c.entries = map[string]cachedClient{}
	}
	c.entries[id] = cachedClient{client: cl, fetched: now}
	c.mu.Unlock()
	return cl, nil
}

// MarkUsed records that cl authenticated now, in the store (if it is a
// ClientUseRecorder) at most once per ClientUseInterval: the cached
// LastUsedAt says whether a write is due, and the write itself is
// conditional, so instances and concurrent requests that see the same old
// value still change the row once.
func (c *ClientCache) MarkUsed(ctx context.Context, cl *Client) error {
	rec, ok := c.Store.(ClientUseRecorder)
	now := c.Now()
	if !ok || now.Sub(cl.LastUsedAt) < ClientUseInterval {
		return nil
	}
	if err := rec.RecordClientUse(ctx, cl.ID, now, now.Add(-ClientUseInterval)); err != nil {
		return err
	}
	c.mu.Lock()
	if e, ok := c.entries[cl.ID]; ok {
		cp := *e.client // other requests may hold the old one
		cp.LastUsedAt = now
		c.entries[cl.ID] = cachedClient{client: &cp, fetched: e.fetched}
	}
	c.mu.Unlock()
	return nil
}

// Forget drops a client from the cache after it changed.
func (c *ClientCache) Forget(id string) {
	c.mu.Lock()
	delete(c.entries, id)
	c.mu.Unlock()
}

// grantAudience grants the requested audience or, when none was asked
// for, the default resource: the client's registered audience, else this
// provider (whose UserInfo endpoint the token is good for). RFC 9068 §3
// requires an aud in every JWT access token.
func (p *Provider) grantAudience(r fosite.Requester) {
	for _, a := range r.GetRequestedAudience() {
		r.GrantAudience(a)
	}
	if len(r.GetGrantedAudience()) > 0 {
		return
	}
	defaults := []string{p.Issuer}
	if c, ok := r.GetClient().(*Client); ok && len(c.Audience) > 0 {
		defaults = c.Audience
	}
	for _, a := range defaults {
		r.GrantAudience(a)
	}
}
