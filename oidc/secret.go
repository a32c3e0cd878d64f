package oidc

import (
	"context"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"errors"

	"github.com/ory/fosite"
)

// SecretHasher stores high-entropy secrets (client secrets, registration
// access tokens) as HMAC-SHA-256 under a server-side pepper.
//
// A slow password hash such as bcrypt buys nothing for a 256-bit random
// secret, which cannot be guessed offline, yet it would cost tens of
// milliseconds on every token request. The keyed hash keeps a leaked
// database from yielding usable secrets while the comparison stays cheap
// and constant-time.
type SecretHasher struct {
	Pepper []byte
}

var _ fosite.Hasher = (*SecretHasher)(nil)

var errSecretMismatch = errors.New("oidc: secret mismatch")

// Sum returns the stored form of secret: hex(HMAC-SHA-256(pepper, secret)).
func (h *SecretHasher) Sum(secret []byte) []byte {
	m := hmac.New(sha256.New, h.Pepper)
	m.Write(secret)
	out := make([]byte, hex.EncodedLen(sha256.Size))
	hex.Encode(out, m.Sum(nil))
	return out
}

// Hash implements fosite.Hasher.
func (h *SecretHasher) Hash(_ context.Context, data []byte) ([]byte, error) {
	return h.Sum(data), nil
}

// Compare implements fosite.Hasher in constant time.
func (h *SecretHasher) Compare(_ context.Context, hash, data []byte) error {
	if len(hash) == 0 || !hmac.Equal(hash, h.Sum(data)) {
		return errSecretMismatch
	}
	return nil
}

// NewSecret returns a random secret with 256 bits of entropy.
func NewSecret() string {
	b := make([]byte, 32)
	rand.Read(b)
	return base64.RawURLEncoding.EncodeToString(b)
}
