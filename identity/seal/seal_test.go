package seal

import (
	"bytes"
	"errors"
	"strings"
	"testing"
)

func mustBox(t *testing.T, fill byte) *Box {
	t.Helper()
	b, err := New(bytes.Repeat([]byte{fill}, 32))
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func TestSealRoundTrip(t *testing.T) {
	b := mustBox(t, 1)
	sealed := b.Seal([]byte("signing key"), []byte("kid-1"))
	if strings.Contains(sealed, "signing key") {
		t.Fatalf("sealed value contains the plaintext: %q", sealed)
	}
	got, err := b.Open(sealed, []byte("kid-1"))
	if err != nil || string(got) != "signing key" {
		t.Fatalf("Open = %q, %v; want the plaintext", got, err)
	}
	if again := b.Seal([]byte("signing key"), []byte("kid-1")); again == sealed {
		t.Error("two seals of the same value are equal: nonce reuse")
	}
}

func TestOpenRejects(t *testing.T) {
	b := mustBox(t, 1)
	sealed := b.Seal([]byte("secret"), []byte("kid-1"))
	tampered := []byte(sealed)
	tampered[len(tampered)-2] ^= 1
	cases := []struct {
		name, value, aad string
		box              *Box
	}{
		{"other additional data", sealed, "kid-2", b},
		{"other master key", sealed, "kid-1", mustBox(t, 2)},
		{"tampered", string(tampered), "kid-1", b},
		{"no prefix", strings.TrimPrefix(sealed, "v1."), "kid-1", b},
		{"garbage", "v1.!!!", "kid-1", b},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			if _, err := tc.box.Open(tc.value, []byte(tc.aad)); !errors.Is(err, ErrOpen) {
				t.Errorf("Open = %v, want ErrOpen", err)
			}
		})
	}
}

func TestNewRejectsWrongKeySize(t *testing.T) {
	if _, err := New(make([]byte, 31)); err == nil {
		t.Error("New accepted a 31-byte key")
	}
}

func TestDeriveKeyIsPerPurpose(t *testing.T) {
	b := mustBox(t, 1)
	if bytes.Equal(b.DeriveKey("a"), b.DeriveKey("b")) {
		t.Error("two purposes derived the same key")
	}
	if !bytes.Equal(b.DeriveKey("a"), mustBox(t, 1).DeriveKey("a")) {
		t.Error("derivation is not deterministic")
	}
}
