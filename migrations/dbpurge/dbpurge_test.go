package dbpurge_test

import (
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"gorm.io/gorm"

	"gatehouse/migrations/dbpurge"
	"gatehouse/migrations/dbtest"
)

// TestDelete removes 250 expired rows of 255 in batches of 100 and checks
// each DELETE statement's size: 100, 100, 50, never all at once; the live
// rows stay. The composite key of oauth_requests takes the same path.
func TestDelete(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, db *gorm.DB) {
		ctx := t.Context()
		cut := time.Date(2030, 1, 2, 3, 4, 5, 0, time.UTC)
		err := db.Transaction(func(tx *gorm.DB) error {
			for i := range 255 {
				exp := cut.Add(-time.Minute)
				if i >= 250 {
					exp = cut.Add(time.Minute)
				}
				if err := tx.Exec(`INSERT INTO oauth_jtis (jti, expires_at) VALUES (?, ?)`, fmt.Sprintf("jti-%03d", i), exp).Error; err != nil {
					return err
				}
			}
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}
		var sizes []int64
		err = db.Callback().Raw().After("gorm:raw").Register("count_deletes", func(d *gorm.DB) {
			if strings.HasPrefix(d.Statement.SQL.String(), "DELETE") {
				sizes = append(sizes, d.RowsAffected)
			}
		})
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { db.Callback().Raw().Remove("count_deletes") })

		n, err := dbpurge.Delete(ctx, db, "oauth_jtis", "jti", "expires_at < ?", 100, cut)
		if err != nil || n != 250 {
			t.Fatalf("Delete = %d, %v; want 250, nil", n, err)
		}
		if want := []int64{100, 100, 50}; !slices.Equal(sizes, want) {
			t.Errorf("rows per DELETE = %v, want %v", sizes, want)
		}
		var left []string
		if err := db.Raw(`SELECT jti FROM oauth_jtis ORDER BY jti`).Scan(&left).Error; err != nil {
			t.Fatal(err)
		}
		if want := []string{"jti-250", "jti-251", "jti-252", "jti-253", "jti-254"}; !slices.Equal(left, want) {
			t.Errorf("rows left = %v, want the live ones %v", left, want)
		}

		sizes = nil
		if n, err := dbpurge.Delete(ctx, db, "oauth_requests", "kind, signature", "expires_at < ?", 0, cut); err != nil || n != 0 {
			t.Errorf("Delete on a composite key = %d, %v; want 0, nil", n, err)
		}
		if len(sizes) != 1 {
			t.Errorf("an empty purge ran %d statements, want 1", len(sizes))
		}
	})
}
