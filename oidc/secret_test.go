package oidc

import (
	"bytes"
	"encoding/base64"
	"encoding/hex"
	"testing"
)

func TestSecretHasherSum(t *testing.T) {
	a := &SecretHasher{Pepper: bytes.Repeat([]byte{1}, 32)}
	b := &SecretHasher{Pepper: bytes.Repeat([]byte{2}, 32)}
	secret := []byte("s3cret")

	got := a.Sum(secret)
	if !bytes.Equal(got, a.Sum(secret)) {
		t.Error("Sum is not deterministic")
	}
	if raw, err := hex.DecodeString(string(got)); err != nil || len(raw) != 32 {
		t.Errorf("Sum = %q, want hex of 32 bytes", got)
	}
	if bytes.Contains(got, secret) {
		t.Errorf("Sum %q contains the secret", got)
	}
	if bytes.Equal(got, b.Sum(secret)) {
		t.Error("Sum does not depend on the pepper")
	}
	if bytes.Equal(got, a.Sum([]byte("s3creT"))) {
		t.Error("Sum of different secrets is equal")
	}
	if h, err := a.Hash(t.Context(), secret); err != nil || !bytes.Equal(h, got) {
		t.Errorf("Hash = %q, %v; want Sum %q", h, err, got)
	}
}

func TestSecretHasherCompare(t *testing.T) {
	h := &SecretHasher{Pepper: bytes.Repeat([]byte{1}, 32)}
	other := &SecretHasher{Pepper: bytes.Repeat([]byte{2}, 32)}
	secret := []byte("s3cret")

	tests := []struct {
		name   string
		hash   []byte
		secret []byte
		ok     bool
	}{
		{"right secret", h.Sum(secret), secret, true},
		{"wrong secret", h.Sum(secret), []byte("s3creT"), false},
		{"empty secret", h.Sum(secret), nil, false},
		{"empty hash", nil, secret, false},
		{"empty hash and empty secret", nil, nil, false},
		{"hash under another pepper", other.Sum(secret), secret, false},
		{"plain secret as hash", secret, secret, false},
		{"upper-case hex", bytes.ToUpper(h.Sum(secret)), secret, false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			err := h.Compare(t.Context(), tc.hash, tc.secret)
			if got := err == nil; got != tc.ok {
				t.Errorf("Compare(%q, %q) = %v, want ok %v", tc.hash, tc.secret, err, tc.ok)
			}
		})
	}
}

func TestNewSecret(t *testing.T) {
	a, b := NewSecret(), NewSecret()
	for _, s := range []string{a, b} {
		if len(s) != 43 {
			t.Errorf("NewSecret() = %q, %d chars, want 43", s, len(s))
		}
		raw, err := base64.RawURLEncoding.DecodeString(s)
		if err != nil || len(raw) != 32 {
			t.Errorf("NewSecret() = %q: %d bytes, err %v; want 32 bytes of unpadded base64url", s, len(raw), err)
		}
	}
	if a == b {
		t.Errorf("two NewSecret calls returned %q", a)
	}
}
