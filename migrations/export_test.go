package migrations

import (
	"context"

	"gorm.io/gorm"
)

// UpTo applies the pending migrations up to and including version, for
// tests that write rows as an older schema's code did.
func UpTo(ctx context.Context, db *gorm.DB, version int64) error {
	p, _, err := provider(db)
	if err != nil {
		return err
	}
	_, err = p.UpTo(ctx, version)
	return err
}

// DownTo rolls the migrations back to version, for tests of a
// migration's Down.
func DownTo(ctx context.Context, db *gorm.DB, version int64) error {
	p, _, err := provider(db)
	if err != nil {
		return err
	}
	_, err = p.DownTo(ctx, version)
	return err
}
