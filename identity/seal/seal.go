// Package seal encrypts secrets at rest (signing keys now; TOTP secrets and
// upstream credentials later) with AES-256-GCM under the master key.
//
// A sealed value is "v1." followed by base64url(nonce || ciphertext). The
// caller's additional data (for example a key ID) is authenticated but not
// stored, so a sealed value moved to another row fails to open.
package seal

import (
	"crypto/aes"
	"crypto/cipher"
	"crypto/hkdf"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"errors"
	"fmt"
	"strings"
)

const prefix = "v1."

// ErrOpen is returned when a sealed value was tampered with, was sealed
// under another master key, or with other additional data.
var ErrOpen = errors.New("seal: cannot open sealed value (wrong master key or tampered data)")

// Box seals and opens secrets under one master key.
type Box struct {
	aead   cipher.AEAD
	master []byte
}

// New returns a Box for a 32-byte master key.
func New(masterKey []byte) (*Box, error) {
	if len(masterKey) != 32 {
		return nil, fmt.Errorf("seal: master key must be 32 bytes, got %d", len(masterKey))
	}
	key, err := hkdf.Key(sha256.New, masterKey, nil, "gatehouse seal v1", 32)
	if err != nil {
		return nil, fmt.Errorf("seal: derive key: %w", err)
	}
	block, err := aes.NewCipher(key)
	if err != nil {
		return nil, fmt.Errorf("seal: %w", err)
	}
	aead, err := cipher.NewGCM(block)
	if err != nil {
		return nil, fmt.Errorf("seal: %w", err)
	}
	return &Box{aead: aead, master: append([]byte(nil), masterKey...)}, nil
}

// Seal encrypts plaintext, binding it to additionalData.
func (b *Box) Seal(plaintext, additionalData []byte) string {
	nonce := make([]byte, b.aead.NonceSize(), b.aead.NonceSize()+len(plaintext)+b.aead.Overhead())
	rand.Read(nonce)
	out := b.aead.Seal(nonce, nonce, plaintext, additionalData)
	return prefix + base64.RawURLEncoding.EncodeToString(out)
}

// Open decrypts a value made by Seal with the same additionalData.
func (b *Box) Open(sealed string, additionalData []byte) ([]byte, error) {
	rest, ok := strings.CutPrefix(sealed, prefix)
	if !ok {
		return nil, ErrOpen
	}
	raw, err := base64.RawURLEncoding.DecodeString(rest)
	if err != nil || len(raw) < b.aead.NonceSize() {
		return nil, ErrOpen
	}
	n := b.aead.NonceSize()
	plain, err := b.aead.Open(nil, raw[:n], raw[n:], additionalData)
	if err != nil {
		return nil, ErrOpen
	}
	return plain, nil
}

// DeriveKey returns a 32-byte key for one named purpose (for example the
// client-secret pepper or the cookie keys), derived from the master key so
// that operators manage a single secret.
func (b *Box) DeriveKey(purpose string) []byte {
	key, err := hkdf.Key(sha256.New, b.master, nil, "gatehouse "+purpose, 32)
	if err != nil {
		panic("seal: hkdf: " + err.Error()) // only fails for absurd lengths
	}
	return key
}
