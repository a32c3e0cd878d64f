package sqlstore

import (
	"context"
	"fmt"
	"time"

	"gorm.io/gorm"
	"gorm.io/gorm/clause"

	"gatehouse/migrations/dbpurge"
	"gatehouse/migrations/dbtx"
	"gatehouse/oidc/captcha"
)

// SpentStore is the gorm captcha.SpentStore.
type SpentStore struct {
	db *gorm.DB
	// Now is the clock Purge and Spend use to find expired rows; nil means
	// time.Now.
	Now func() time.Time
}

var _ captcha.SpentStore = (*SpentStore)(nil)

// NewSpentStore returns a SpentStore on db, whose schema must be migrated.
func NewSpentStore(db *gorm.DB) *SpentStore { return &SpentStore{db: db} }

// spentRow is a row of the captcha_spent_challenges table.
type spentRow struct {
	Challenge string `gorm:"primaryKey"`
	ExpiresAt timestamp
}

// TableName tells gorm the table name.
func (spentRow) TableName() string { return "captcha_spent_challenges" }

func (s *SpentStore) now() time.Time {
	if s.Now != nil {
		return s.Now()
	}
	return time.Now()
}

// Spend inserts challenge once; a second insert of the same challenge
// affects no row and reports false.
func (s *SpentStore) Spend(ctx context.Context, challenge string, expiresAt time.Time) (bool, error) {
	row := &spentRow{Challenge: challenge, ExpiresAt: newTimestamp(expiresAt)}
	res := dbtx.DB(ctx, s.db).Clauses(clause.OnConflict{DoNothing: true}).Create(row)
	if res.Error != nil {
		return false, fmt.Errorf("sqlstore: spend challenge: %w", res.Error)
	}
	return res.RowsAffected == 1, nil
}

// Purge deletes rows whose challenge has expired, which no longer need
// guarding because an expired challenge is rejected before it is spent.
// Run it periodically; it returns the number of rows deleted.
func (s *SpentStore) Purge(ctx context.Context) (int64, error) {
	n, err := dbpurge.Delete(ctx, s.db, "captcha_spent_challenges", "challenge", "expires_at < ?", 0, newTimestamp(s.now()))
	if err != nil {
		return n, fmt.Errorf("sqlstore: purge spent challenges: %w", err)
	}
	return n, nil
}
