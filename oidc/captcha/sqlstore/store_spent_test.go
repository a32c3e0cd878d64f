package sqlstore_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"gorm.io/gorm"

	"gatehouse/migrations/dbtest"
	"gatehouse/migrations/dbtx"
	"gatehouse/oidc/captcha"
	"gatehouse/oidc/captcha/captchatest"
	"gatehouse/oidc/captcha/sqlstore"
)

func TestSpentStore(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, db *gorm.DB) {
		// Each subtest gets its own rows; challenges are random, so one
		// database serves them all.
		captchatest.RunSpentStoreTests(t, func(*testing.T) captcha.SpentStore { return sqlstore.NewSpentStore(db) })
	})
}

func TestPurge(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, db *gorm.DB) {
		now := time.Date(2030, 1, 1, 12, 0, 0, 0, time.UTC)
		s := sqlstore.NewSpentStore(db)
		s.Now = func() time.Time { return now }
		for _, c := range []struct {
			challenge string
			expires   time.Time
		}{
			{"old", now.Add(-time.Second)},
			{"older", now.Add(-time.Hour)},
			{"fresh", now.Add(time.Second)},
		} {
			if ok, err := s.Spend(t.Context(), c.challenge, c.expires); !ok || err != nil {
				t.Fatalf("Spend(%q) = %v, %v, want true, nil", c.challenge, ok, err)
			}
		}
		n, err := s.Purge(t.Context())
		if err != nil || n != 2 {
			t.Fatalf("Purge() = %d, %v, want 2, nil", n, err)
		}
		if ok, err := s.Spend(t.Context(), "fresh", now.Add(time.Second)); ok || err != nil {
			t.Errorf("Spend(fresh) after purge = %v, %v, want false, nil", ok, err)
		}
		if ok, err := s.Spend(t.Context(), "old", now.Add(time.Second)); !ok || err != nil {
			t.Errorf("Spend(old) after purge = %v, %v, want true, nil", ok, err)
		}
	})
}

// TestSpendJoinsTransaction: a challenge spent inside a unit of work
// (dbtx) that fails is not spent.
func TestSpendJoinsTransaction(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, db *gorm.DB) {
		s := sqlstore.NewSpentStore(db)
		expires := time.Now().Add(time.Hour)
		boom := errors.New("boom")
		err := dbtx.New(db).Run(t.Context(), func(ctx context.Context) error {
			if ok, err := s.Spend(ctx, "c1", expires); !ok || err != nil {
				t.Fatalf("Spend = %v, %v", ok, err)
			}
			return boom
		})
		if !errors.Is(err, boom) {
			t.Fatalf("Run = %v, want boom", err)
		}
		if ok, err := s.Spend(t.Context(), "c1", expires); !ok || err != nil {
			t.Errorf("Spend after the rollback = %v, %v; want true: the first spend was undone", ok, err)
		}
	})
}
