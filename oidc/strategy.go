package oidc

import (
	"context"
	"strings"

	"github.com/ory/fosite"
	"github.com/ory/fosite/handler/oauth2"
)

// Token prefixes make leaked Gatehouse credentials easy to recognise for
// secret scanners and in support requests.
const (
	prefixAccessToken  = "gate_at_"
	prefixRefreshToken = "gate_rt_"
	prefixCode         = "gate_ac_"
)

// tokenStrategy issues opaque HMAC tokens by default and RFC 9068 JWT
// access tokens for clients that chose them. The two formats are told
// apart by the opaque prefix, so validation needs no lookup.
type tokenStrategy struct {
	opaque *oauth2.HMACSHAStrategyUnPrefixed
	jwt    *oauth2.DefaultJWTStrategy
}

var _ oauth2.CoreStrategy = (*tokenStrategy)(nil)

func wantsJWT(r fosite.Requester) bool {
	c, ok := r.GetClient().(*Client)
	return ok && c.AccessTokenFormat == TokenFormatJWT
}

func (s *tokenStrategy) AccessTokenSignature(ctx context.Context, token string) string {
	if rest, ok := strings.CutPrefix(token, prefixAccessToken); ok {
		return s.opaque.AccessTokenSignature(ctx, rest)
	}
	return s.jwt.AccessTokenSignature(ctx, token)
}

func (s *tokenStrategy) GenerateAccessToken(ctx context.Context, r fosite.Requester) (string, string, error) {
	if wantsJWT(r) {
		return s.jwt.GenerateAccessToken(ctx, r)
	}
	token, sig, err := s.opaque.GenerateAccessToken(ctx, r)
	return prefixAccessToken + token, sig, err
}

func (s *tokenStrategy) ValidateAccessToken(ctx context.Context, r fosite.Requester, token string) error {
	if rest, ok := strings.CutPrefix(token, prefixAccessToken); ok {
		return s.opaque.ValidateAccessToken(ctx, r, rest)
	}
	return s.jwt.ValidateAccessToken(ctx, r, token)
}

func (s *tokenStrategy) RefreshTokenSignature(ctx context.Context, token string) string {
	return s.opaque.RefreshTokenSignature(ctx, strings.TrimPrefix(token, prefixRefreshToken))
}

func (s *tokenStrategy) GenerateRefreshToken(ctx context.Context, r fosite.Requester) (string, string, error) {
	token, sig, err := s.opaque.GenerateRefreshToken(ctx, r)
	return prefixRefreshToken + token, sig, err
}

func (s *tokenStrategy) ValidateRefreshToken(ctx context.Context, r fosite.Requester, token string) error {
	return s.opaque.ValidateRefreshToken(ctx, r, strings.TrimPrefix(token, prefixRefreshToken))
}

func (s *tokenStrategy) AuthorizeCodeSignature(ctx context.Context, token string) string {
	return s.opaque.AuthorizeCodeSignature(ctx, strings.TrimPrefix(token, prefixCode))
}

func (s *tokenStrategy) GenerateAuthorizeCode(ctx context.Context, r fosite.Requester) (string, string, error) {
	token, sig, err := s.opaque.GenerateAuthorizeCode(ctx, r)
	return prefixCode + token, sig, err
}

func (s *tokenStrategy) ValidateAuthorizeCode(ctx context.Context, r fosite.Requester, token string) error {
	return s.opaque.ValidateAuthorizeCode(ctx, r, strings.TrimPrefix(token, prefixCode))
}
