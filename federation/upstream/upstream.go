// Package upstream is the federation connector for an upstream OpenID
// Connect provider: the browser signs in there (authorization code flow
// with PKCE), and the upstream's ID token, verified against its published
// keys, says who they are.
package upstream

import (
	"context"
	"crypto/subtle"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"sync"

	gooidc "github.com/coreos/go-oidc/v3/oidc"
	"golang.org/x/oauth2"

	"gatehouse/federation"
)

// ErrRefused is an answer of the upstream that signs nobody in: an error
// parameter, a missing code, or an ID token that does not verify.
var ErrRefused = errors.New("upstream: sign-in refused")

// Doer sends the connector's requests to the upstream (egress.Client).
type Doer interface {
	Do(*http.Request) (*http.Response, error)
}

// Claims names the ID token claims of a person's profile; empty ones take
// the standard names (preferred_username, email, given_name,
// family_name, phone_number).
type Claims struct {
	Username   string
	Email      string
	GivenName  string
	FamilyName string
	Phone      string
}

// Config configures a connector.
type Config struct {
	ID, Name     string
	Issuer       string
	ClientID     string
	ClientSecret string
	// RedirectURL is this server's callback for the connector.
	RedirectURL string
	// Scopes default to openid, email and profile.
	Scopes []string
	// TrustEmail: the upstream's verified addresses may link a first
	// login to the local account with the same address.
	TrustEmail bool
	Claims     Claims
	// HTTP makes every call to the upstream (discovery, keys, token).
	HTTP Doer
}

// Connector is an upstream OpenID provider. Discovery runs on first use,
// so a provider that is down at start only delays its own sign-ins.
type Connector struct {
	cfg    Config
	client *http.Client

	mu       sync.Mutex
	provider *gooidc.Provider
}

var (
	_ federation.RedirectConnector = (*Connector)(nil)
	_ federation.TrustedEmails     = (*Connector)(nil)
)

// New checks cfg and returns the connector.
func New(cfg Config) (*Connector, error) {
	if cfg.ID == "" || cfg.Issuer == "" || cfg.ClientID == "" || cfg.RedirectURL == "" {
		return nil, errors.New("upstream: id, issuer, client_id and redirect URL are required")
	}
	if len(cfg.Scopes) == 0 {
		cfg.Scopes = []string{gooidc.ScopeOpenID, "email", "profile"}
	}
	client := http.DefaultClient
	if cfg.HTTP != nil {
		client = &http.Client{Transport: doerTransport{cfg.HTTP}}
	}
	return &Connector{cfg: cfg, client: client}, nil
}

type doerTransport struct{ d Doer }

func (t doerTransport) RoundTrip(r *http.Request) (*http.Response, error) { return t.d.Do(r) }

func (c *Connector) ID() string       { return c.cfg.ID }
func (c *Connector) Name() string     { return c.cfg.Name }
func (c *Connector) TrustEmail() bool { return c.cfg.TrustEmail }

func (c *Connector) ctx(ctx context.Context) context.Context {
	return gooidc.ClientContext(ctx, c.client)
}

// discover returns the provider, reading its discovery document once it
// answers.
func (c *Connector) discover(ctx context.Context) (*gooidc.Provider, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.provider != nil {
		return c.provider, nil
	}
	p, err := gooidc.NewProvider(c.ctx(ctx), c.cfg.Issuer)
	if err != nil {
		return nil, fmt.Errorf("%w: discovery of %s: %v", federation.ErrUnavailable, c.cfg.Issuer, err)
	}
	c.provider = p
	return p, nil
}

func (c *Connector) oauth(p *gooidc.Provider) *oauth2.Config {
	return &oauth2.Config{ClientID: c.cfg.ClientID, ClientSecret: c.cfg.ClientSecret, RedirectURL: c.cfg.RedirectURL,
		Endpoint: p.Endpoint(), Scopes: c.cfg.Scopes}
}

// AuthURL is the upstream's authorization request for one sign-in.
func (c *Connector) AuthURL(state, nonce, pkceChallenge, loginHint string) (string, error) {
	p, err := c.discover(context.Background())
	if err != nil {
		return "", err
	}
	opts := []oauth2.AuthCodeOption{gooidc.Nonce(nonce),
		oauth2.SetAuthURLParam("code_challenge", pkceChallenge),
		oauth2.SetAuthURLParam("code_challenge_method", "S256")}
	if loginHint != "" {
		// OIDC Core §3.1.2.1: the upstream may fill in its login form.
		opts = append(opts, oauth2.SetAuthURLParam("login_hint", loginHint))
	}
	return c.oauth(p).AuthCodeURL(state, opts...), nil
}

// HandleCallback exchanges the callback's code and verifies the ID token:
// its signature against the upstream's keys, issuer, audience, expiry and
// the nonce this sign-in sent.
func (c *Connector) HandleCallback(ctx context.Context, query map[string][]string, pkceVerifier, nonce string) (federation.Identity, error) {
	get := func(k string) string {
		if v := query[k]; len(v) > 0 {
			return v[0]
		}
		return ""
	}
	if e := get("error"); e != "" {
		return federation.Identity{}, fmt.Errorf("%w: upstream answered %q", ErrRefused, truncate(e, 64))
	}
	code := get("code")
	if code == "" {
		return federation.Identity{}, fmt.Errorf("%w: no code", ErrRefused)
	}
	p, err := c.discover(ctx)
	if err != nil {
		return federation.Identity{}, err
	}
	tok, err := c.oauth(p).Exchange(c.ctx(ctx), code, oauth2.VerifierOption(pkceVerifier))
	if err != nil {
		var re *oauth2.RetrieveError
		if errors.As(err, &re) {
			return federation.Identity{}, fmt.Errorf("%w: code exchange: %s", ErrRefused, re.ErrorCode)
		}
		return federation.Identity{}, fmt.Errorf("%w: code exchange: %v", federation.ErrUnavailable, err)
	}
	raw, _ := tok.Extra("id_token").(string)
	if raw == "" {
		return federation.Identity{}, fmt.Errorf("%w: no ID token", ErrRefused)
	}
	idt, err := p.Verifier(&gooidc.Config{ClientID: c.cfg.ClientID}).Verify(c.ctx(ctx), raw)
	if err != nil {
		return federation.Identity{}, fmt.Errorf("%w: ID token: %v", ErrRefused, err)
	}
	if nonce == "" || subtle.ConstantTimeCompare([]byte(idt.Nonce), []byte(nonce)) != 1 {
		return federation.Identity{}, fmt.Errorf("%w: ID token nonce does not match", ErrRefused)
	}
	var claims map[string]any
	if err := idt.Claims(&claims); err != nil {
		return federation.Identity{}, fmt.Errorf("%w: ID token claims: %v", ErrRefused, err)
	}
	str := func(name, def string) string {
		if name == "" {
			name = def
		}
		s, _ := claims[name].(string)
		return s
	}
	verified, _ := claims["email_verified"].(bool)
	return federation.Identity{
		ConnectorID: c.cfg.ID, Subject: idt.Subject,
		Username:      str(c.cfg.Claims.Username, "preferred_username"),
		Email:         str(c.cfg.Claims.Email, "email"),
		EmailVerified: verified,
		GivenName:     str(c.cfg.Claims.GivenName, "given_name"),
		FamilyName:    str(c.cfg.Claims.FamilyName, "family_name"),
		Phone:         str(c.cfg.Claims.Phone, "phone_number"),
	}, nil
}

// truncate is s, sanitised for the log, in at most n bytes.
func truncate(s string, n int) string {
	s = strings.Map(func(r rune) rune {
		// Error codes are words with underscores; anything else the
		// upstream sends does not reach the log as it came.
		if (r >= 'a' && r <= 'z') || (r >= 'A' && r <= 'Z') || (r >= '0' && r <= '9') || r == '_' || r == '-' || r == '.' {
			return r
		}
		return '?'
	}, s)
	if len(s) > n {
		return s[:n]
	}
	return s
}
