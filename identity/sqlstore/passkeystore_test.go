package sqlstore_test

import (
	"errors"
	"sync"
	"testing"
	"time"

	"github.com/google/uuid"
	"gorm.io/gorm"

	"gatehouse/identity/mfa"
	"gatehouse/identity/sqlstore"
	"gatehouse/migrations/dbtest"
)

func mustPasskey(t *testing.T, s *sqlstore.MFAStore, userID string, credID []byte, count uint32, at time.Time) *mfa.Factor {
	t.Helper()
	f := &mfa.Factor{ID: uuid.NewString(), UserID: userID, Kind: mfa.KindWebAuthn, Name: "Key", CreatedAt: at, ConfirmedAt: &at,
		WebAuthn: &mfa.WebAuthnCredential{ID: credID, SignCount: count, PublicKey: []byte("cose")}}
	if err := s.CreateFactor(t.Context(), f); err != nil {
		t.Fatal(err)
	}
	return f
}

// TestMFAStorePasskeys: a passkey is found by its credential ID, renamed,
// flagged, and its counter only goes up, once per count even when two
// assertions race.
func TestMFAStorePasskeys(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, db *gorm.DB) {
		ctx := t.Context()
		s := sqlstore.NewMFAStore(db)
		userID := mustUser(t, db, "ada")
		at := time.Date(2031, 1, 2, 3, 4, 5, 0, time.UTC)
		f := mustPasskey(t, s, userID, []byte{7, 7, 7}, 3, at)
		got, err := s.FactorByCredentialID(ctx, []byte{7, 7, 7})
		if err != nil || got.ID != f.ID || got.UserID != userID {
			t.Fatalf("FactorByCredentialID = %+v, %v; want factor %s", got, err, f.ID)
		}
		if _, err := s.FactorByCredentialID(ctx, []byte{8}); !errors.Is(err, mfa.ErrNotFound) {
			t.Errorf("FactorByCredentialID(unknown) error = %v, want ErrNotFound", err)
		}
		for _, c := range []struct {
			count uint32
			want  bool
		}{{3, false}, {2, false}, {4, true}, {4, false}, {0, false}} {
			ok, err := s.AcceptAssertion(ctx, userID, f.ID, c.count, at)
			if err != nil || ok != c.want {
				t.Errorf("AcceptAssertion(%d) = %v, %v; want %v", c.count, ok, err, c.want)
			}
		}
		// Two assertions with the same count: the database lets one pass.
		var mu sync.Mutex
		var wg sync.WaitGroup
		passed := 0
		for range 4 {
			wg.Add(1)
			go func() {
				defer wg.Done()
				ok, err := s.AcceptAssertion(ctx, userID, f.ID, 9, at)
				mu.Lock()
				defer mu.Unlock()
				if err != nil {
					t.Error(err)
				}
				if ok {
					passed++
				}
			}()
		}
		wg.Wait()
		if passed != 1 {
			t.Errorf("%d racing assertions with one count passed, want 1", passed)
		}
		other := mustUser(t, db, "bob")
		if ok, _ := s.AcceptAssertion(ctx, other, f.ID, 20, at); ok {
			t.Error("another user's AcceptAssertion advanced the counter")
		}
		if err := s.RenameFactor(ctx, userID, f.ID, "Laptop"); err != nil {
			t.Fatal(err)
		}
		if err := s.RenameFactor(ctx, other, f.ID, "Mine"); !errors.Is(err, mfa.ErrNotFound) {
			t.Errorf("RenameFactor by another user error = %v, want ErrNotFound", err)
		}
		if err := s.FlagCounterRegression(ctx, userID, f.ID, at); err != nil {
			t.Fatal(err)
		}
		got, err = s.GetFactor(ctx, userID, f.ID)
		if err != nil {
			t.Fatal(err)
		}
		if got.Name != "Laptop" || got.WebAuthn.SignCount != 9 || got.CounterWarningAt == nil || !got.CounterWarningAt.Equal(at) {
			t.Errorf("factor = name %q count %d warning %v; want Laptop, 9, %v", got.Name, got.WebAuthn.SignCount, got.CounterWarningAt, at)
		}
		// An authenticator without a counter stays at 0 and is accepted.
		z := mustPasskey(t, s, userID, []byte{1}, 0, at)
		for range 2 {
			if ok, err := s.AcceptAssertion(ctx, userID, z.ID, 0, at); !ok || err != nil {
				t.Errorf("AcceptAssertion(0) on a counterless passkey = %v, %v; want true", ok, err)
			}
		}
	})
}

// TestCeremonyStore: a ceremony is taken once, only with its binding and
// before it expires; expired ones are purged.
func TestCeremonyStore(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, db *gorm.DB) {
		ctx := t.Context()
		s := sqlstore.NewCeremonyStore(db)
		userID := mustUser(t, db, "ada")
		now := time.Date(2031, 1, 2, 3, 4, 5, 0, time.UTC)
		mk := func(id string, userID string, exp time.Time) {
			c := &mfa.Ceremony{ID: id, Binding: "b", Purpose: mfa.PurposeRegister, UserID: userID, Session: []byte(`{"challenge":"x"}`), ExpiresAt: exp}
			if err := s.CreateCeremony(ctx, c); err != nil {
				t.Fatal(err)
			}
		}
		mk("one", userID, now.Add(time.Minute))
		if _, err := s.TakeCeremony(ctx, "one", "other", now); !errors.Is(err, mfa.ErrNotFound) {
			t.Errorf("TakeCeremony with another binding error = %v, want ErrNotFound", err)
		}
		c, err := s.TakeCeremony(ctx, "one", "b", now)
		if err != nil || c.UserID != userID || string(c.Session) != `{"challenge":"x"}` || c.Purpose != mfa.PurposeRegister {
			t.Fatalf("TakeCeremony = %+v, %v", c, err)
		}
		if _, err := s.TakeCeremony(ctx, "one", "b", now); !errors.Is(err, mfa.ErrNotFound) {
			t.Errorf("second TakeCeremony error = %v, want ErrNotFound", err)
		}
		mk("race", "", now.Add(time.Minute))
		var mu sync.Mutex
		var wg sync.WaitGroup
		taken := 0
		for range 4 {
			wg.Add(1)
			go func() {
				defer wg.Done()
				_, err := s.TakeCeremony(ctx, "race", "b", now)
				mu.Lock()
				defer mu.Unlock()
				if err == nil {
					taken++
				} else if !errors.Is(err, mfa.ErrNotFound) {
					t.Error(err)
				}
			}()
		}
		wg.Wait()
		if taken != 1 {
			t.Errorf("a ceremony was taken %d times by racing requests, want 1", taken)
		}
		mk("old", "", now)
		mk("new", "", now.Add(time.Second))
		if _, err := s.TakeCeremony(ctx, "old", "b", now); !errors.Is(err, mfa.ErrNotFound) {
			t.Errorf("TakeCeremony of an expired ceremony error = %v, want ErrNotFound", err)
		}
		if n, err := s.DeleteExpiredCeremonies(ctx, now); n != 1 || err != nil {
			t.Errorf("DeleteExpiredCeremonies = %d, %v; want 1", n, err)
		}
		if _, err := s.TakeCeremony(ctx, "new", "b", now); err != nil {
			t.Errorf("the unexpired ceremony was purged: %v", err)
		}
	})
}
