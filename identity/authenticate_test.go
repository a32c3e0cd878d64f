package identity_test

import (
	"errors"
	"strings"
	"testing"

	"gatehouse/identity"
)

func TestAuthenticate(t *testing.T) {
	s := newService(t)
	registered := mustRegister(t, s, alice)
	disabled := mustRegister(t, s, identity.RegisterInput{Username: "queen", Email: "queen@example.com", Password: "off with their heads"})
	disabled.Status = identity.StatusDisabled
	if err := s.Users.UpdateUser(t.Context(), disabled); err != nil {
		t.Fatalf("UpdateUser: %v", err)
	}

	tests := []struct {
		name     string
		login    string
		password string
		wantOK   bool
		wantErr  error
	}{
		{"username", "Alice.Liddell", alice.Password, true, nil},
		{"username in other case, padded", "  alice.liddell ", alice.Password, true, nil},
		{"e-mail in other case", "ALICE@example.com", alice.Password, true, nil},
		{"wrong password", "alice.liddell", "down the rabbit hole!", false, nil},
		{"unknown user", "white.rabbit", alice.Password, false, nil},
		{"unknown e-mail", "rabbit@example.com", alice.Password, false, nil},
		{"disabled user, right password", "queen", "off with their heads", false, identity.ErrAccountDisabled},
		{"disabled user, wrong password", "queen", "off with her head", false, nil},
		{"empty login", "", alice.Password, false, nil},
		{"empty password", "alice.liddell", "", false, nil},
		{"over-long password", "alice.liddell", strings.Repeat("a", 128*4+1), false, nil},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			u, ok, err := s.Authenticate(t.Context(), tc.login, tc.password)
			if tc.wantErr != nil {
				if !errors.Is(err, tc.wantErr) || ok || u != nil {
					t.Fatalf("Authenticate(%q) = %v, %v, %v; want %v", tc.login, u, ok, err, tc.wantErr)
				}
				return
			}
			if err != nil || ok != tc.wantOK || (u != nil) != tc.wantOK {
				t.Fatalf("Authenticate(%q) = %v, %v, %v; want ok %v and no error", tc.login, u, ok, err, tc.wantOK)
			}
			if !ok {
				return
			}
			if u.ID != registered.ID || u.LastLoginAt == nil || !u.LastLoginAt.Equal(testNow) {
				t.Errorf("Authenticate(%q) = user %s, last login %v; want %s, %v", tc.login, u.ID, u.LastLoginAt, registered.ID, testNow)
			}
		})
	}

	stored, err := s.Users.GetUser(t.Context(), registered.ID)
	if err != nil {
		t.Fatalf("GetUser: %v", err)
	}
	if stored.LastLoginAt == nil || !stored.LastLoginAt.Equal(testNow) {
		t.Errorf("stored LastLoginAt = %v, want %v", stored.LastLoginAt, testNow)
	}
	if never, _ := s.Users.GetUser(t.Context(), disabled.ID); never.LastLoginAt != nil {
		t.Errorf("disabled user's LastLoginAt = %v, want nil", never.LastLoginAt)
	}
}

func TestAuthenticateRehash(t *testing.T) {
	s := newService(t)
	mustRegister(t, s, alice)
	_, oldHash, _ := s.Users.FindUserByLogin(t.Context(), "alice.liddell")

	// The operator raises the cost; the next login upgrades the hash.
	s.Hasher = identity.NewHasher(identity.HashParams{Memory: 128, Iterations: 2, Parallelism: 1}, nil)
	if _, ok, err := s.Authenticate(t.Context(), "alice.liddell", alice.Password); !ok || err != nil {
		t.Fatalf("Authenticate = %v, %v; want true, nil", ok, err)
	}
	_, newHash, _ := s.Users.FindUserByLogin(t.Context(), "alice.liddell")
	if newHash == oldHash || !strings.HasPrefix(newHash, "$argon2id$v=19$m=128,t=2,p=1$") {
		t.Errorf("hash after login = %q, want a new one with m=128,t=2,p=1 (was %q)", newHash, oldHash)
	}
	if _, ok, err := s.Authenticate(t.Context(), "alice.liddell", alice.Password); !ok || err != nil {
		t.Fatalf("Authenticate with the upgraded hash = %v, %v; want true, nil", ok, err)
	}
	_, again, _ := s.Users.FindUserByLogin(t.Context(), "alice.liddell")
	if again != newHash {
		t.Errorf("hash changed again on a login with current params")
	}

	// A wrong password never rewrites the hash.
	s.Hasher = identity.NewHasher(fastParams, nil)
	if _, ok, _ := s.Authenticate(t.Context(), "alice.liddell", "wrong password"); ok {
		t.Fatalf("Authenticate(wrong password) = true")
	}
	if _, h, _ := s.Users.FindUserByLogin(t.Context(), "alice.liddell"); h != newHash {
		t.Errorf("hash changed after a failed login")
	}
}
