package oidc

import (
	"context"
	"encoding/json"
	"errors"
	"strings"
	"time"

	"github.com/ory/fosite"
)

// Token endpoint authentication methods (OIDC Core §9).
const (
	AuthMethodBasic         = "client_secret_basic"
	AuthMethodPost          = "client_secret_post"
	AuthMethodPrivateKeyJWT = "private_key_jwt"
	AuthMethodNone          = "none"
)

// Access token formats a client can choose.
const (
	TokenFormatOpaque = "opaque"
	TokenFormatJWT    = "jwt" // RFC 9068
)

// Application types (OIDC Dynamic Client Registration §2).
const (
	AppTypeWeb    = "web"
	AppTypeNative = "native"
)

// ErrClientNotFound is returned by a ClientStore for an unknown client ID.
var ErrClientNotFound = errors.New("oidc: client not found")

// ClientMetadata is a client's registration metadata: the JSON document
// of RFC 7591 §2 and OpenID Connect Dynamic Client Registration §2, with
// two Gatehouse extensions (application_type's default and
// access_token_format). It is the one form of a client's metadata: what
// registration accepts and echoes (oidc/clientreg validates it), what the
// store keeps, and, embedded, what a Client is. Unknown JSON fields are
// ignored (RFC 7591 §2).
type ClientMetadata struct {
	RedirectURIs           []string `json:"redirect_uris,omitempty"`
	PostLogoutRedirectURIs []string `json:"post_logout_redirect_uris,omitempty"`
	// BackchannelLogoutURI receives a logout token when a session the
	// client got tokens through ends (Back-Channel Logout 1.0).
	BackchannelLogoutURI string `json:"backchannel_logout_uri,omitempty"`
	// BackchannelLogoutSessionRequired is kept as registered; logout
	// tokens always carry sid.
	BackchannelLogoutSessionRequired bool     `json:"backchannel_logout_session_required,omitempty"`
	GrantTypes                       []string `json:"grant_types"`
	ResponseTypes                    []string `json:"response_types"`
	TokenEndpointAuthMethod          string   `json:"token_endpoint_auth_method,omitempty"`
	TokenEndpointAuthSigningAlg      string   `json:"token_endpoint_auth_signing_alg,omitempty"`
	ClientName                       string   `json:"client_name,omitempty"`
	ClientURI                        string   `json:"client_uri,omitempty"`
	LogoURI                          string   `json:"logo_uri,omitempty"`
	Contacts                         []string `json:"contacts,omitempty"`
	// Scope is the space-separated list of scopes the client may request.
	Scope string `json:"scope,omitempty"`
	// JWKS is the client's JWK Set by value, as registered, for
	// private_key_jwt; GetJSONWebKeys parses it.
	JWKS            json.RawMessage `json:"jwks,omitempty"`
	JWKSURI         string          `json:"jwks_uri,omitempty"`
	ApplicationType string          `json:"application_type,omitempty"`
	// AccessTokenFormat is a Gatehouse extension: "opaque" or "jwt".
	AccessTokenFormat string `json:"access_token_format,omitempty"`
}

// Client is a registered OAuth 2.0 client: its RFC 7591 metadata, the
// hash of its secret, and what only an administrator sets.
type Client struct {
	ID string
	ClientMetadata
	SecretHash []byte // keyed hash of the secret (see SecretHasher); empty for public clients
	// Audience is the resource servers the client's tokens are for by
	// default; only an administrator sets it, never registration.
	Audience   []string
	FirstParty bool // consent is skipped
	// ResourceServer lets the client introspect access tokens whose
	// audience holds its ID or one of ResourceAudience, besides its own
	// tokens (RFC 7662 §4). Only an administrator sets these two, never
	// dynamic registration.
	ResourceServer        bool
	ResourceAudience      []string
	RegistrationTokenHash []byte // RFC 7592 registration access token, keyed hash; empty when not dynamically registered
	CreatedAt             time.Time
	UpdatedAt             time.Time
	// LastUsedAt is when the client last authenticated, recorded at most
	// once a day (see ClientCache.MarkUsed); creation counts as use. A
	// dynamically registered client unused for long is purged.
	LastUsedAt time.Time

	// defaultAudience is the provider itself, which every client may name
	// as audience (see Provider.grantAudience); set by ClientCache.
	defaultAudience []string
}

var (
	_ fosite.Client              = (*Client)(nil)
	_ fosite.OpenIDConnectClient = (*Client)(nil)
	_ fosite.ResponseModeClient  = (*Client)(nil)
)

// GetID implements fosite.Client.
func (c *Client) GetID() string { return c.ID }

// GetHashedSecret implements fosite.Client.
func (c *Client) GetHashedSecret() []byte { return c.SecretHash }

// GetRedirectURIs implements fosite.Client.
func (c *Client) GetRedirectURIs() []string { return c.RedirectURIs }

// GetGrantTypes implements fosite.Client.
func (c *Client) GetGrantTypes() fosite.Arguments { return c.GrantTypes }

// GetResponseTypes implements fosite.Client.
func (c *Client) GetResponseTypes() fosite.Arguments { return c.ResponseTypes }

// GetScopes implements fosite.Client: the registered scope, split.
func (c *Client) GetScopes() fosite.Arguments { return strings.Fields(c.Scope) }

// IsPublic implements fosite.Client: a client without a secret or key.
func (c *Client) IsPublic() bool { return c.TokenEndpointAuthMethod == AuthMethodNone }

// GetAudience implements fosite.Client: the registered audience plus the
// provider's default resource.
func (c *Client) GetAudience() fosite.Arguments {
	if len(c.defaultAudience) == 0 {
		return c.Audience
	}
	return union(c.Audience, c.defaultAudience)
}

// GetRequestURIs implements fosite.OpenIDConnectClient; request_uri is not
// supported, so there are none.
func (c *Client) GetRequestURIs() []string { return nil }

// GetJSONWebKeysURI implements fosite.OpenIDConnectClient.
func (c *Client) GetJSONWebKeysURI() string { return c.JWKSURI }

// GetRequestObjectSigningAlgorithm implements fosite.OpenIDConnectClient.
func (c *Client) GetRequestObjectSigningAlgorithm() string { return "" }

// GetTokenEndpointAuthMethod implements fosite.OpenIDConnectClient.
func (c *Client) GetTokenEndpointAuthMethod() string { return c.TokenEndpointAuthMethod }

// GetTokenEndpointAuthSigningAlgorithm implements fosite.OpenIDConnectClient.
func (c *Client) GetTokenEndpointAuthSigningAlgorithm() string {
	if c.TokenEndpointAuthSigningAlg == "" {
		return "RS256"
	}
	return c.TokenEndpointAuthSigningAlg
}

// GetResponseModes implements fosite.ResponseModeClient.
func (c *Client) GetResponseModes() []fosite.ResponseModeType {
	return []fosite.ResponseModeType{fosite.ResponseModeDefault, fosite.ResponseModeQuery, fosite.ResponseModeFormPost}
}

// DisplayName is the name shown to users on consent and login pages.
func (c *Client) DisplayName() string {
	if c.ClientName != "" {
		return c.ClientName
	}
	return c.ID
}

// ClientStore persists clients.
type ClientStore interface {
	// CreateClient inserts c.
	CreateClient(ctx context.Context, c *Client) error
	// GetClient returns the client with id, or ErrClientNotFound.
	GetClient(ctx context.Context, id string) (*Client, error)
	// UpdateClient replaces c's metadata, or returns ErrClientNotFound.
	UpdateClient(ctx context.Context, c *Client) error
	// DeleteClient removes the client and every token issued to it.
	DeleteClient(ctx context.Context, id string) error
	// ListClients returns every client ordered by ID.
	ListClients(ctx context.Context) ([]*Client, error)
}

// ClientUseRecorder is a ClientStore that can note when a client was last
// used (ClientCache.MarkUsed).
type ClientUseRecorder interface {
	// RecordClientUse sets the client's LastUsedAt to at, unless it is
	// already since or later.
	RecordClientUse(ctx context.Context, id string, at, since time.Time) error
}

// ClientUseInterval is how often at most a client's use is written: the
// unused-client lifetime is counted in days, so a day's precision is
// enough, and a busy client costs one write a day, not one per request.
const ClientUseInterval = 24 * time.Hour
