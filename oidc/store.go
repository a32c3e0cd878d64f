package oidc

import (
	"context"
	"errors"
	"time"

	"github.com/ory/fosite"
	"github.com/ory/fosite/handler/oauth2"
	"github.com/ory/fosite/handler/openid"
	"github.com/ory/fosite/handler/pkce"
	"github.com/ory/fosite/storage"
)

// ErrCodeRedeemed is returned by TokenStore.InvalidateAuthorizeCodeSession
// when another request redeemed the code first. The token endpoint turns
// it into invalid_grant (RFC 6749 §5.2) rather than a server error.
var ErrCodeRedeemed = errors.New("oidc: authorization code already redeemed")

// ErrRefreshRotated is returned by TokenStore.RotateRefreshToken when a
// concurrent request already rotated the refresh token.
var ErrRefreshRotated = errors.New("oidc: refresh token already rotated")

// TokenStore persists everything fosite issues: codes, access and refresh
// tokens, PKCE and OpenID Connect request state, and used client-assertion
// JWT IDs. Rows are keyed by token signature, never by the token itself.
type TokenStore interface {
	oauth2.CoreStorage
	oauth2.TokenRevocationStorage
	pkce.PKCERequestStorage
	openid.OpenIDConnectRequestStorage
	storage.Transactional

	// ClientAssertionJWTValid returns fosite.ErrJTIKnown when jti was used.
	ClientAssertionJWTValid(ctx context.Context, jti string) error
	// SetClientAssertionJWT records jti until exp.
	SetClientAssertionJWT(ctx context.Context, jti string, exp time.Time) error
}

// ClientLookup resolves a client ID for rehydrating stored requests.
type ClientLookup func(ctx context.Context, id string) (fosite.Client, error)

// BrowserSession is a signed-in browser. The cookie carries a random
// secret; only its hash is stored, and ID is the public identifier used as
// the OIDC "sid" claim.
type BrowserSession struct {
	ID          string
	SecretHash  string
	UserID      string
	AuthTime    time.Time
	AMR         []string
	ACR         string
	IP          string
	UserAgent   string
	CreatedAt   time.Time
	LastSeenAt  time.Time
	ExpiresAt   time.Time // absolute lifetime
	IdleTimeout time.Duration
}

// Active reports whether the session is within both lifetimes at now.
func (s *BrowserSession) Active(now time.Time) bool {
	return now.Before(s.ExpiresAt) && now.Before(s.LastSeenAt.Add(s.IdleTimeout))
}

// ErrSessionNotFound reports an unknown or revoked browser session.
var ErrSessionNotFound = errors.New("oidc: browser session not found")

// SessionStore persists browser sessions.
type SessionStore interface {
	// CreateSession inserts s.
	CreateSession(ctx context.Context, s *BrowserSession) error
	// GetSessionBySecretHash returns the session or ErrSessionNotFound.
	GetSessionBySecretHash(ctx context.Context, hash string) (*BrowserSession, error)
	// GetSession returns the session with the public ID or ErrSessionNotFound.
	GetSession(ctx context.Context, id string) (*BrowserSession, error)
	// TouchSession records activity at t.
	TouchSession(ctx context.Context, id string, t time.Time) error
	// DeleteSession removes one session record (an expired one).
	DeleteSession(ctx context.Context, id string) error
	// RevokeSession ends a session and the tokens issued through it.
	RevokeSession(ctx context.Context, id string) error
	// ListUserSessions returns a user's sessions, newest first.
	ListUserSessions(ctx context.Context, userID string) ([]*BrowserSession, error)
}
