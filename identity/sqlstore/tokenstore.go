package sqlstore

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/jackc/pgx/v5/pgconn"
	"gorm.io/gorm"
	"gorm.io/gorm/clause"

	"gatehouse/identity"
	"gatehouse/migrations/dbpurge"
	"gatehouse/migrations/dbtx"
)

// TokenStore is the gorm implementation of identity.TokenStore on the
// one_time_tokens table (00003_profile_tokens.sql), which holds at most
// one row per user and purpose. Each decision about a token (replace it,
// count an attempt, use it) is one conditional statement, so it is atomic
// in both databases without explicit locks.
type TokenStore struct {
	db *gorm.DB
	// Now is the clock for the creation time of a token given none; nil
	// means the database handle's clock (gorm's NowFunc).
	Now func() time.Time
}

var _ identity.TokenStore = (*TokenStore)(nil)

// NewTokenStore returns a TokenStore on db, whose schema must be migrated.
func NewTokenStore(db *gorm.DB) *TokenStore { return &TokenStore{db: db} }

// tokenRow is a row of the one_time_tokens table.
type tokenRow struct {
	ID        string `gorm:"primaryKey"`
	UserID    string
	Purpose   string
	Target    string
	CodeHash  string
	TokenHash string
	Attempts  int
	ExpiresAt timestamp
	UsedAt    timestamp // zero: NULL, unused
	CreatedAt timestamp `gorm:"autoCreateTime:false"`
}

// TableName tells gorm the table name.
func (tokenRow) TableName() string { return "one_time_tokens" }

func (r *tokenRow) toToken() *identity.OneTimeToken {
	return &identity.OneTimeToken{
		ID:        r.ID,
		UserID:    r.UserID,
		Purpose:   identity.Purpose(r.Purpose),
		Target:    r.Target,
		CodeHash:  r.CodeHash,
		TokenHash: r.TokenHash,
		Attempts:  r.Attempts,
		ExpiresAt: r.ExpiresAt.Time(),
		UsedAt:    r.UsedAt.Ptr(),
		CreatedAt: r.CreatedAt.Time(),
	}
}

// PutToken upserts t on (user_id, purpose). The DO UPDATE's WHERE makes
// the cooldown part of the same statement: a row that is unused and newer
// than notBefore is left alone, and no row is affected.
func (s *TokenStore) PutToken(ctx context.Context, t *identity.OneTimeToken, notBefore time.Time) (bool, error) {
	id, ok := canonicalID(t.ID)
	if !ok {
		return false, fmt.Errorf("sqlstore: put token: id %q is not a UUID", t.ID)
	}
	userID, ok := canonicalID(t.UserID)
	if !ok {
		return false, fmt.Errorf("sqlstore: put token: %w", identity.ErrNotFound)
	}
	if t.CreatedAt.IsZero() {
		t.CreatedAt = newTimestamp(clock(s.Now, s.db)()).Time()
	}
	row := &tokenRow{
		ID: id, UserID: userID, Purpose: string(t.Purpose), Target: t.Target,
		CodeHash: t.CodeHash, TokenHash: t.TokenHash, Attempts: t.Attempts,
		ExpiresAt: newTimestamp(t.ExpiresAt), CreatedAt: newTimestamp(t.CreatedAt),
	}
	if t.UsedAt != nil {
		row.UsedAt = newTimestamp(*t.UsedAt)
	}
	res := dbtx.DB(ctx, s.db).Clauses(clause.OnConflict{
		Columns: []clause.Column{{Name: "user_id"}, {Name: "purpose"}},
		DoUpdates: clause.AssignmentColumns([]string{
			"id", "target", "code_hash", "token_hash", "attempts", "expires_at", "used_at", "created_at",
		}),
		Where: clause.Where{Exprs: []clause.Expression{clause.Expr{
			SQL:  "one_time_tokens.used_at IS NOT NULL OR one_time_tokens.created_at <= ?",
			Vars: []any{newTimestamp(notBefore)},
		}}},
	}).Create(row)
	if res.Error != nil {
		if isForeignKeyViolation(res.Error) {
			return false, fmt.Errorf("sqlstore: put token: %w", identity.ErrNotFound)
		}
		return false, fmt.Errorf("sqlstore: put token: %w", res.Error)
	}
	if res.RowsAffected == 0 {
		return false, nil
	}
	t.ID, t.UserID = id, userID
	t.ExpiresAt, t.CreatedAt = row.ExpiresAt.Time(), row.CreatedAt.Time()
	return true, nil
}

// GetToken returns the user's token for purpose.
func (s *TokenStore) GetToken(ctx context.Context, userID string, purpose identity.Purpose) (*identity.OneTimeToken, error) {
	id, ok := canonicalID(userID)
	if !ok {
		return nil, fmt.Errorf("sqlstore: get token: %w", identity.ErrNotFound)
	}
	var row tokenRow
	if err := dbtx.DB(ctx, s.db).Where("user_id = ? AND purpose = ?", id, string(purpose)).Take(&row).Error; err != nil {
		return nil, fmt.Errorf("sqlstore: get token: %w", translate(err))
	}
	return row.toToken(), nil
}

// FindToken returns the token with the given link token hash.
func (s *TokenStore) FindToken(ctx context.Context, tokenHash string) (*identity.OneTimeToken, error) {
	if tokenHash == "" {
		return nil, fmt.Errorf("sqlstore: find token: %w", identity.ErrNotFound)
	}
	var row tokenRow
	// The second term repeats the partial index's predicate.
	if err := dbtx.DB(ctx, s.db).Where("token_hash = ? AND token_hash <> ''", tokenHash).Take(&row).Error; err != nil {
		return nil, fmt.Errorf("sqlstore: find token: %w", translate(err))
	}
	return row.toToken(), nil
}

// CountAttempt increments attempts of a live token and returns the new
// count. RETURNING (PostgreSQL, SQLite 3.35+) reads the count in the same
// statement that increments it.
func (s *TokenStore) CountAttempt(ctx context.Context, id string, now time.Time, max int) (int, error) {
	id, ok := canonicalID(id)
	if !ok {
		return 0, fmt.Errorf("sqlstore: count attempt: %w", identity.ErrNotFound)
	}
	var attempts []int
	err := dbtx.DB(ctx, s.db).Raw(`UPDATE one_time_tokens SET attempts = attempts + 1
		WHERE id = ? AND used_at IS NULL AND expires_at > ? AND attempts < ?
		RETURNING attempts`, id, newTimestamp(now), max).Scan(&attempts).Error
	if err != nil {
		return 0, fmt.Errorf("sqlstore: count attempt: %w", err)
	}
	if len(attempts) == 0 {
		return 0, fmt.Errorf("sqlstore: count attempt: %w", identity.ErrNotFound)
	}
	return attempts[0], nil
}

// UseToken sets used_at on an unused, unexpired token.
func (s *TokenStore) UseToken(ctx context.Context, id string, now time.Time) error {
	id, ok := canonicalID(id)
	if !ok {
		return fmt.Errorf("sqlstore: use token: %w", identity.ErrNotFound)
	}
	if now.IsZero() {
		return fmt.Errorf("sqlstore: use token: zero time")
	}
	at := newTimestamp(now)
	res := dbtx.DB(ctx, s.db).Model(&tokenRow{}).
		Where("id = ? AND used_at IS NULL AND expires_at > ?", id, at).
		Update("used_at", at)
	if err := affectedOne(res); err != nil {
		return fmt.Errorf("sqlstore: use token: %w", err)
	}
	return nil
}

// DeleteToken removes the token with id.
func (s *TokenStore) DeleteToken(ctx context.Context, id string) error {
	id, ok := canonicalID(id)
	if !ok {
		return nil
	}
	if err := dbtx.DB(ctx, s.db).Where("id = ?", id).Delete(&tokenRow{}).Error; err != nil {
		return fmt.Errorf("sqlstore: delete token: %w", err)
	}
	return nil
}

// DeleteExpiredTokens removes, in batches, tokens whose expiry is before t.
func (s *TokenStore) DeleteExpiredTokens(ctx context.Context, before time.Time) (int64, error) {
	n, err := dbpurge.Delete(ctx, s.db, "one_time_tokens", "id", "expires_at < ?", 0, newTimestamp(before))
	if err != nil {
		return n, fmt.Errorf("sqlstore: delete expired tokens: %w", err)
	}
	return n, nil
}

// isForeignKeyViolation reports a reference to a user that does not exist:
// SQLSTATE 23503 on PostgreSQL, SQLITE_CONSTRAINT_FOREIGNKEY on SQLite.
func isForeignKeyViolation(err error) bool {
	var pgErr *pgconn.PgError
	if errors.As(err, &pgErr) {
		return pgErr.Code == "23503"
	}
	return strings.Contains(err.Error(), "FOREIGN KEY constraint failed")
}
