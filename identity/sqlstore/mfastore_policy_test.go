package sqlstore_test

import (
	"errors"
	"testing"
	"time"

	"github.com/google/uuid"
	"gorm.io/gorm"

	"gatehouse/identity/mfa"
	"gatehouse/identity/sqlstore"
	"gatehouse/migrations/dbtest"
)

// TestMFAStoreBrowsers: remembered browsers are found by token hash only,
// listed per user while unexpired, deleted per user, and purged once
// expired.
func TestMFAStoreBrowsers(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, db *gorm.DB) {
		ctx := t.Context()
		s := sqlstore.NewMFAStore(db)
		ada, bob := mustUser(t, db, "ada"), mustUser(t, db, "bob")
		at := time.Date(2031, 1, 2, 3, 4, 5, 0, time.UTC)
		add := func(userID, hash string, ttl time.Duration) string {
			t.Helper()
			b := &mfa.RememberedBrowser{ID: uuid.NewString(), UserID: userID, TokenHash: hash, Label: "Firefox on Linux",
				CreatedAt: at, LastUsedAt: at, ExpiresAt: at.Add(ttl)}
			if err := s.CreateBrowser(ctx, b); err != nil {
				t.Fatal(err)
			}
			return b.ID
		}
		adaLong := add(ada, "h-ada-long", 48*time.Hour)
		add(ada, "h-ada-short", time.Hour)
		add(bob, "h-bob", 48*time.Hour)

		dup := &mfa.RememberedBrowser{ID: uuid.NewString(), UserID: bob, TokenHash: "h-ada-long", CreatedAt: at, LastUsedAt: at, ExpiresAt: at.Add(time.Hour)}
		if err := s.CreateBrowser(ctx, dup); err == nil {
			t.Error("a second browser with the same token hash was stored")
		}
		ghost := &mfa.RememberedBrowser{ID: uuid.NewString(), UserID: uuid.NewString(), TokenHash: "h-ghost", CreatedAt: at, LastUsedAt: at, ExpiresAt: at.Add(time.Hour)}
		if err := s.CreateBrowser(ctx, ghost); !errors.Is(err, mfa.ErrNotFound) {
			t.Errorf("CreateBrowser of an unknown user = %v, want ErrNotFound", err)
		}

		got, err := s.FindBrowser(ctx, "h-ada-long")
		if err != nil || got.ID != adaLong || got.UserID != ada || !got.ExpiresAt.Equal(at.Add(48*time.Hour)) {
			t.Errorf("FindBrowser = %+v, %v; want Ada's long-lived browser", got, err)
		}
		if _, err := s.FindBrowser(ctx, "h-unknown"); !errors.Is(err, mfa.ErrNotFound) {
			t.Errorf("FindBrowser(unknown) error = %v, want ErrNotFound", err)
		}
		if err := s.TouchBrowser(ctx, adaLong, at.Add(time.Minute)); err != nil {
			t.Fatal(err)
		}
		list, err := s.ListBrowsers(ctx, ada, at.Add(2*time.Hour))
		if err != nil {
			t.Fatal(err)
		}
		if len(list) != 1 || list[0].ID != adaLong || !list[0].LastUsedAt.Equal(at.Add(time.Minute)) {
			t.Errorf("ListBrowsers after the short one expired = %+v, want Ada's long-lived browser, touched", list)
		}

		if err := s.DeleteBrowser(ctx, bob, adaLong); !errors.Is(err, mfa.ErrNotFound) {
			t.Errorf("DeleteBrowser of another user's browser = %v, want ErrNotFound", err)
		}
		n, err := s.DeleteExpiredBrowsers(ctx, at.Add(2*time.Hour))
		if err != nil || n != 1 {
			t.Errorf("DeleteExpiredBrowsers = %d, %v; want 1", n, err)
		}
		n, err = s.DeleteUserBrowsers(ctx, ada)
		if err != nil || n != 1 {
			t.Errorf("DeleteUserBrowsers(ada) = %d, %v; want 1", n, err)
		}
		if _, err := s.FindBrowser(ctx, "h-bob"); err != nil {
			t.Errorf("Bob's browser went with Ada's: %v", err)
		}
	})
}

// TestMFAStoreStartGrace: the first start is kept, and a user's deletion
// takes it along.
func TestMFAStoreStartGrace(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, db *gorm.DB) {
		ctx := t.Context()
		s := sqlstore.NewMFAStore(db)
		ada := mustUser(t, db, "ada")
		at := time.Date(2031, 1, 2, 3, 4, 5, 0, time.UTC)
		for i, when := range []time.Time{at, at.Add(time.Hour)} {
			got, err := s.StartGrace(ctx, ada, when)
			if err != nil {
				t.Fatal(err)
			}
			if !got.Equal(at) {
				t.Errorf("StartGrace #%d = %v, want the first start %v", i+1, got, at)
			}
		}
		if _, err := s.StartGrace(ctx, uuid.NewString(), at); !errors.Is(err, mfa.ErrNotFound) {
			t.Errorf("StartGrace of an unknown user = %v, want ErrNotFound", err)
		}
		if _, err := s.StartGrace(ctx, mustUser(t, db, "bob"), at); err != nil {
			t.Fatal(err)
		}
		if err := db.Exec("DELETE FROM users").Error; err != nil {
			t.Fatal(err)
		}
		var n int64
		if err := db.Raw("SELECT count(*) FROM mfa_enrolment_grace").Scan(&n).Error; err != nil {
			t.Fatal(err)
		}
		if n != 0 {
			t.Errorf("mfa_enrolment_grace has %d rows after the user was deleted, want 0", n)
		}
	})
}
