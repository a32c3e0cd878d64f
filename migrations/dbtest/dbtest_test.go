package dbtest_test

import (
	"testing"

	"gorm.io/gorm"

	"gatehouse/migrations"
	"gatehouse/migrations/dbtest"
)

// TestMigratedCopies: every copy of the template is fully migrated and
// has no rows, and what one test writes is not seen by another's copy.
func TestMigratedCopies(t *testing.T) {
	for _, dialect := range dbtest.Dialects {
		t.Run(dialect, func(t *testing.T) {
			a, b := dbtest.MustOpen(t, dialect), dbtest.MustOpen(t, dialect)
			for i, db := range []*gorm.DB{a, b} {
				if err := migrations.Current(t.Context(), db); err != nil {
					t.Errorf("copy %d: Current: %v, want every migration applied", i+1, err)
				}
			}
			if err := a.Exec("INSERT INTO users (id, username, username_lower, created_at, updated_at) VALUES ('00000000-0000-0000-0000-000000000001', 'alice', 'alice', CURRENT_TIMESTAMP, CURRENT_TIMESTAMP)").Error; err != nil {
				t.Fatalf("insert: %v", err)
			}
			var n int64
			if err := b.Raw("SELECT COUNT(*) FROM users").Scan(&n).Error; err != nil {
				t.Fatal(err)
			}
			if n != 0 {
				t.Errorf("second copy has %d users after the first got one, want 0", n)
			}
		})
	}
}

// TestEmptyURL: MustURL is not migrated, for the tests of migrations.
func TestEmptyURL(t *testing.T) {
	for _, dialect := range dbtest.Dialects {
		t.Run(dialect, func(t *testing.T) {
			db, err := migrations.Open(dbtest.MustURL(t, dialect))
			if err != nil {
				t.Fatal(err)
			}
			t.Cleanup(func() {
				if sqlDB, err := db.DB(); err == nil {
					sqlDB.Close()
				}
			})
			if err := migrations.Current(t.Context(), db); err == nil {
				t.Error("Current on MustURL's database: nil, want pending migrations")
			}
		})
	}
}
