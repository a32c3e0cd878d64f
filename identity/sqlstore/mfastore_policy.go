package sqlstore

import (
	"context"
	"errors"
	"fmt"
	"time"

	"gorm.io/gorm"
	"gorm.io/gorm/clause"

	"gatehouse/identity/mfa"
	"gatehouse/migrations/dbpurge"
	"gatehouse/migrations/dbtx"
)

// The MFAStore also keeps what the multi-factor policy needs
// (00017_mfa_policy.sql): remembered browsers, found by the hash of their
// cookie's token, and the start of each user's enrolment grace period.
var (
	_ mfa.Browsers = (*MFAStore)(nil)
	_ mfa.Graces   = (*MFAStore)(nil)
)

// browserRow is a row of the mfa_remembered_browsers table.
type browserRow struct {
	ID         string `gorm:"primaryKey"`
	UserID     string
	TokenHash  string
	Label      string
	CreatedAt  timestamp `gorm:"autoCreateTime:false"`
	LastUsedAt timestamp
	ExpiresAt  timestamp
}

// TableName tells gorm the table name.
func (browserRow) TableName() string { return "mfa_remembered_browsers" }

func (r *browserRow) toBrowser() mfa.RememberedBrowser {
	return mfa.RememberedBrowser{
		ID: r.ID, UserID: r.UserID, TokenHash: r.TokenHash, Label: r.Label,
		CreatedAt: r.CreatedAt.Time(), LastUsedAt: r.LastUsedAt.Time(), ExpiresAt: r.ExpiresAt.Time(),
	}
}

// CreateBrowser inserts b.
func (s *MFAStore) CreateBrowser(ctx context.Context, b *mfa.RememberedBrowser) error {
	id, ok := canonicalID(b.ID)
	if !ok {
		return fmt.Errorf("sqlstore: create browser: id %q is not a UUID", b.ID)
	}
	userID, ok := canonicalID(b.UserID)
	if !ok {
		return fmt.Errorf("sqlstore: create browser: %w", mfa.ErrNotFound)
	}
	if b.TokenHash == "" || b.ExpiresAt.IsZero() || b.CreatedAt.IsZero() {
		return errors.New("sqlstore: create browser: no token hash, creation or expiry")
	}
	row := &browserRow{
		ID: id, UserID: userID, TokenHash: b.TokenHash, Label: b.Label, CreatedAt: newTimestamp(b.CreatedAt),
		LastUsedAt: newTimestamp(b.LastUsedAt), ExpiresAt: newTimestamp(b.ExpiresAt),
	}
	if err := dbtx.DB(ctx, s.db).Create(row).Error; err != nil {
		if isForeignKeyViolation(err) {
			return fmt.Errorf("sqlstore: create browser: %w", mfa.ErrNotFound)
		}
		return fmt.Errorf("sqlstore: create browser: %w", err)
	}
	b.ID, b.UserID = id, userID
	return nil
}

// FindBrowser returns the browser with tokenHash.
func (s *MFAStore) FindBrowser(ctx context.Context, tokenHash string) (*mfa.RememberedBrowser, error) {
	if tokenHash == "" {
		return nil, fmt.Errorf("sqlstore: find browser: %w", mfa.ErrNotFound)
	}
	var row browserRow
	err := dbtx.DB(ctx, s.db).Where("token_hash = ?", tokenHash).Take(&row).Error
	if errors.Is(err, gorm.ErrRecordNotFound) {
		return nil, fmt.Errorf("sqlstore: find browser: %w", mfa.ErrNotFound)
	}
	if err != nil {
		return nil, fmt.Errorf("sqlstore: find browser: %w", err)
	}
	b := row.toBrowser()
	return &b, nil
}

// TouchBrowser sets last_used_at.
func (s *MFAStore) TouchBrowser(ctx context.Context, id string, at time.Time) error {
	id, ok := canonicalID(id)
	if !ok {
		return fmt.Errorf("sqlstore: touch browser: %w", mfa.ErrNotFound)
	}
	err := dbtx.DB(ctx, s.db).Model(&browserRow{}).Where("id = ?", id).Update("last_used_at", newTimestamp(at)).Error
	if err != nil {
		return fmt.Errorf("sqlstore: touch browser: %w", err)
	}
	return nil
}

// ListBrowsers returns the user's unexpired browsers, newest first.
func (s *MFAStore) ListBrowsers(ctx context.Context, userID string, now time.Time) ([]mfa.RememberedBrowser, error) {
	userID, ok := canonicalID(userID)
	if !ok {
		return nil, nil
	}
	var rows []browserRow
	err := dbtx.DB(ctx, s.db).Where("user_id = ? AND expires_at > ?", userID, newTimestamp(now)).
		Order("created_at DESC, id").Find(&rows).Error
	if err != nil {
		return nil, fmt.Errorf("sqlstore: list browsers: %w", err)
	}
	out := make([]mfa.RememberedBrowser, len(rows))
	for i := range rows {
		out[i] = rows[i].toBrowser()
	}
	return out, nil
}

// DeleteBrowser removes one browser of the user.
func (s *MFAStore) DeleteBrowser(ctx context.Context, userID, id string) error {
	userID, okUser := canonicalID(userID)
	id, okID := canonicalID(id)
	if !okUser || !okID {
		return fmt.Errorf("sqlstore: delete browser: %w", mfa.ErrNotFound)
	}
	res := dbtx.DB(ctx, s.db).Where("id = ? AND user_id = ?", id, userID).Delete(&browserRow{})
	if res.Error != nil {
		return fmt.Errorf("sqlstore: delete browser: %w", res.Error)
	}
	if res.RowsAffected == 0 {
		return fmt.Errorf("sqlstore: delete browser: %w", mfa.ErrNotFound)
	}
	return nil
}

// DeleteUserBrowsers removes every browser of the user.
func (s *MFAStore) DeleteUserBrowsers(ctx context.Context, userID string) (int64, error) {
	userID, ok := canonicalID(userID)
	if !ok {
		return 0, nil
	}
	res := dbtx.DB(ctx, s.db).Where("user_id = ?", userID).Delete(&browserRow{})
	if res.Error != nil {
		return 0, fmt.Errorf("sqlstore: delete browsers: %w", res.Error)
	}
	return res.RowsAffected, nil
}

// DeleteExpiredBrowsers purges the browsers that expired before before,
// in batches.
func (s *MFAStore) DeleteExpiredBrowsers(ctx context.Context, before time.Time) (int64, error) {
	n, err := dbpurge.Delete(ctx, s.db, "mfa_remembered_browsers", "id", "expires_at < ?", 0, newTimestamp(before))
	if err != nil {
		return n, fmt.Errorf("sqlstore: %w", err)
	}
	return n, nil
}

// graceRow is a row of the mfa_enrolment_grace table.
type graceRow struct {
	UserID    string `gorm:"primaryKey"`
	StartedAt timestamp
}

// TableName tells gorm the table name.
func (graceRow) TableName() string { return "mfa_enrolment_grace" }

// StartGrace inserts the user's start unless one exists (ON CONFLICT DO
// NOTHING, so two first sign-ins at once agree) and reads back the one
// recorded.
func (s *MFAStore) StartGrace(ctx context.Context, userID string, at time.Time) (time.Time, error) {
	userID, ok := canonicalID(userID)
	if !ok {
		return time.Time{}, fmt.Errorf("sqlstore: start grace: %w", mfa.ErrNotFound)
	}
	db := dbtx.DB(ctx, s.db)
	err := db.Clauses(clause.OnConflict{DoNothing: true}).Create(&graceRow{UserID: userID, StartedAt: newTimestamp(at)}).Error
	if err != nil {
		if isForeignKeyViolation(err) {
			return time.Time{}, fmt.Errorf("sqlstore: start grace: %w", mfa.ErrNotFound)
		}
		return time.Time{}, fmt.Errorf("sqlstore: start grace: %w", err)
	}
	var row graceRow
	if err := db.Where("user_id = ?", userID).Take(&row).Error; err != nil {
		return time.Time{}, fmt.Errorf("sqlstore: start grace: %w", err)
	}
	return row.StartedAt.Time(), nil
}
