package identity_test

import (
	"strings"
	"testing"

	"gatehouse/identity"
)

// fastParams keep argon2id cheap in tests.
var fastParams = identity.HashParams{Memory: 64, Iterations: 1, Parallelism: 1}

func TestHasherRoundTrip(t *testing.T) {
	h := identity.NewHasher(fastParams, nil)
	const pw = "correct horse battery staple"
	hash, err := h.Hash(t.Context(), pw)
	if err != nil {
		t.Fatalf("Hash: %v", err)
	}
	if want := "$argon2id$v=19$m=64,t=1,p=1$"; !strings.HasPrefix(hash, want) {
		t.Errorf("Hash = %q, want prefix %q", hash, want)
	}
	if again, _ := h.Hash(t.Context(), pw); again == hash {
		t.Errorf("two hashes of one password are equal; salt not random")
	}

	tests := []struct {
		name   string
		pw     string
		wantOK bool
	}{
		{"same password", pw, true},
		{"wrong password", "correct horse battery stapler", false},
		{"different case", strings.ToUpper(pw), false},
		{"empty", "", false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			ok, rehash, err := h.Verify(t.Context(), tc.pw, hash)
			if err != nil || ok != tc.wantOK || rehash {
				t.Errorf("Verify(%q) = %v, %v, %v; want %v, false, nil", tc.pw, ok, rehash, err, tc.wantOK)
			}
		})
	}
}

func TestHasherNFC(t *testing.T) {
	h := identity.NewHasher(fastParams, nil)
	hash, err := h.Hash(t.Context(), "caf\u00e9 au lait") // precomposed é
	if err != nil {
		t.Fatalf("Hash: %v", err)
	}
	if ok, _, err := h.Verify(t.Context(), "cafe\u0301 au lait", hash); !ok || err != nil { // e + combining acute
		t.Errorf("Verify(decomposed form) = %v, %v; want true, nil", ok, err)
	}
}

func TestHasherNeedsRehash(t *testing.T) {
	old := identity.NewHasher(fastParams, nil)
	hash, err := old.Hash(t.Context(), "a passphrase to keep")
	if err != nil {
		t.Fatalf("Hash: %v", err)
	}
	tests := []struct {
		name       string
		params     identity.HashParams
		wantRehash bool
	}{
		{"same params", fastParams, false},
		{"more memory", identity.HashParams{Memory: 128, Iterations: 1, Parallelism: 1}, true},
		{"more iterations", identity.HashParams{Memory: 64, Iterations: 2, Parallelism: 1}, true},
		{"longer key", identity.HashParams{Memory: 64, Iterations: 1, Parallelism: 1, KeyLength: 64}, true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			ok, rehash, err := identity.NewHasher(tc.params, nil).Verify(t.Context(), "a passphrase to keep", hash)
			if err != nil || !ok || rehash != tc.wantRehash {
				t.Errorf("Verify = %v, %v, %v; want true, %v, nil", ok, rehash, err, tc.wantRehash)
			}
			// A wrong password never asks for a rehash.
			if ok, rehash, _ := identity.NewHasher(tc.params, nil).Verify(t.Context(), "wrong", hash); ok || rehash {
				t.Errorf("Verify(wrong) = %v, %v; want false, false", ok, rehash)
			}
		})
	}
}

func TestHasherDefaults(t *testing.T) {
	got := identity.NewHasher(identity.HashParams{}, nil).Params()
	want := identity.HashParams{Memory: 19456, Iterations: 2, Parallelism: 1, SaltLength: 16, KeyLength: 32}
	if got != want {
		t.Errorf("NewHasher(zero).Params() = %+v, want %+v", got, want)
	}
}

func TestHasherInvalidHash(t *testing.T) {
	h := identity.NewHasher(fastParams, nil)
	for _, hash := range []string{"", "plaintext", "$2a$10$abcdefghijklmnopqrstuv", "$argon2i$v=19$m=64,t=1,p=1$c2FsdA$a2V5"} {
		if ok, _, err := h.Verify(t.Context(), "pw", hash); ok || err == nil {
			t.Errorf("Verify(%q) = %v, %v; want false and an error", hash, ok, err)
		}
	}
}

// TestHasherCountsVerifications: Verify and VerifyDummy are counted (the
// metric of argon2id work); a hash that is not one is not.
func TestHasherCountsVerifications(t *testing.T) {
	h := identity.NewHasher(fastParams, nil)
	hash, err := h.Hash(t.Context(), "a password")
	if err != nil {
		t.Fatal(err)
	}
	_, _, _ = h.Verify(t.Context(), "a password", hash)
	_, _, _ = h.Verify(t.Context(), "another", hash)
	_ = h.VerifyDummy(t.Context(), "x")
	_, _, _ = h.Verify(t.Context(), "a password", "not a hash")
	if got := h.Verifications(); got != 3 {
		t.Errorf("Verifications() = %d, want 3", got)
	}
	if h.VerifyTime() <= 0 {
		t.Errorf("VerifyTime() = %v, want a positive duration", h.VerifyTime())
	}
}
