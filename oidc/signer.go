package oidc

import (
	"context"
	"errors"
	"fmt"

	josev4 "github.com/go-jose/go-jose/v4"
	"github.com/ory/fosite/token/jwt"
)

// keySigner adapts Keys to fosite's jwt.Signer: it signs with the current
// key and stamps its "kid", and it verifies with whichever published key
// the token names, so tokens signed before a rotation stay verifiable
// (fosite's DefaultSigner knows only one key).
type keySigner struct {
	keys *Keys
}

var _ jwt.Signer = (*keySigner)(nil)

type kidHeader struct {
	jwt.Mapper
	kid string
}

func (h kidHeader) ToMap() map[string]interface{} {
	m := map[string]interface{}{}
	if h.Mapper != nil {
		for k, v := range h.Mapper.ToMap() {
			m[k] = v
		}
	}
	m["kid"] = h.kid
	return m
}

func (s *keySigner) Generate(ctx context.Context, claims jwt.MapClaims, header jwt.Mapper) (string, string, error) {
	cur, err := s.keys.current()
	if err != nil {
		return "", "", err
	}
	d := &jwt.DefaultSigner{GetPrivateKey: func(context.Context) (interface{}, error) { return cur.priv, nil }}
	return d.Generate(ctx, claims, kidHeader{Mapper: header, kid: cur.id})
}

// forToken returns a DefaultSigner holding the published key named by the
// token's "kid" header. fosite's verification only reads the public half.
func (s *keySigner) forToken(token string) (*jwt.DefaultSigner, error) {
	// Either serialization, as fosite's verifier (go-jose v3's ParseSigned)
	// accepts after this lookup.
	//lint:ignore SA1019 ParseSignedCompact would refuse what fosite accepts
	parsed, err := josev4.ParseSigned(token, []josev4.SignatureAlgorithm{josev4.RS256, josev4.ES256})
	if err != nil || len(parsed.Signatures) != 1 {
		return nil, &jwt.ValidationError{Errors: jwt.ValidationErrorMalformed, Inner: errors.New("malformed JWT")}
	}
	kid := parsed.Signatures[0].Header.KeyID
	s.keys.mu.RLock()
	defer s.keys.mu.RUnlock()
	if _, ok := s.keys.public[kid]; !ok {
		return nil, &jwt.ValidationError{Errors: jwt.ValidationErrorUnverifiable, Inner: fmt.Errorf("unknown key id %q", kid)}
	}
	priv, ok := s.keys.private[kid]
	if !ok {
		return nil, &jwt.ValidationError{Errors: jwt.ValidationErrorUnverifiable, Inner: fmt.Errorf("unknown key id %q", kid)}
	}
	return &jwt.DefaultSigner{GetPrivateKey: func(context.Context) (interface{}, error) { return priv, nil }}, nil
}

func (s *keySigner) Validate(ctx context.Context, token string) (string, error) {
	d, err := s.forToken(token)
	if err != nil {
		return "", err
	}
	return d.Validate(ctx, token)
}

func (s *keySigner) Decode(ctx context.Context, token string) (*jwt.Token, error) {
	d, err := s.forToken(token)
	if err != nil {
		return nil, err
	}
	return d.Decode(ctx, token)
}

func (s *keySigner) Hash(ctx context.Context, in []byte) ([]byte, error) {
	return (&jwt.DefaultSigner{}).Hash(ctx, in)
}

func (s *keySigner) GetSignature(ctx context.Context, token string) (string, error) {
	return (&jwt.DefaultSigner{}).GetSignature(ctx, token)
}

func (s *keySigner) GetSigningMethodLength(ctx context.Context) int {
	return (&jwt.DefaultSigner{}).GetSigningMethodLength(ctx)
}
