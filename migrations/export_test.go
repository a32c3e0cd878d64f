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
