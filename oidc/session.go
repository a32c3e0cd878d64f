package oidc

import (
	"time"

	"github.com/mohae/deepcopy"
	"github.com/ory/fosite"
	"github.com/ory/fosite/handler/oauth2"
	"github.com/ory/fosite/handler/openid"
	"github.com/ory/fosite/token/jwt"
)

// Session is what fosite stores with every code and token: the ID token
// claims, the RFC 9068 access-token claims for clients that chose JWT
// access tokens, and the browser session (OIDC "sid") it was issued in.
type Session struct {
	openid.DefaultSession
	JWTClaims *jwt.JWTClaims `json:"jwt_claims,omitempty"`
	JWTHeader *jwt.Headers   `json:"jwt_header,omitempty"`
	// BrowserSessionID is the server-side browser session the grant came
	// from; empty for client_credentials.
	BrowserSessionID string `json:"sid,omitempty"`
	// GrantedAt is when the grant began (its code was redeemed); the
	// grant's refresh tokens end Lifetimes.RefreshTokenAbsolute later.
	GrantedAt time.Time `json:"granted_at,omitzero"`
	// GrantScope is the scope of the grant when an access token was
	// issued with a narrower one: the refresh token keeps the grant's
	// scope (RFC 6749 §6).
	GrantScope []string `json:"grant_scope,omitempty"`
}

var (
	_ openid.Session             = (*Session)(nil)
	_ oauth2.JWTSessionContainer = (*Session)(nil)
)

// NewSession returns an empty session for fosite to fill.
func NewSession() *Session {
	return &Session{DefaultSession: openid.DefaultSession{
		Claims:  &jwt.IDTokenClaims{},
		Headers: &jwt.Headers{},
	}}
}

// Clone implements fosite.Session.
func (s *Session) Clone() fosite.Session {
	if s == nil {
		return nil
	}
	return deepcopy.Copy(s).(fosite.Session)
}

// GetJWTClaims implements oauth2.JWTSessionContainer.
func (s *Session) GetJWTClaims() jwt.JWTClaimsContainer {
	if s.JWTClaims == nil {
		s.JWTClaims = &jwt.JWTClaims{}
	}
	return s.JWTClaims
}

// GetJWTHeader implements oauth2.JWTSessionContainer. RFC 9068 §2.1: the
// header typ is "at+jwt".
func (s *Session) GetJWTHeader() *jwt.Headers {
	if s.JWTHeader == nil {
		s.JWTHeader = &jwt.Headers{Extra: map[string]interface{}{"typ": "at+jwt"}}
	}
	return s.JWTHeader
}
