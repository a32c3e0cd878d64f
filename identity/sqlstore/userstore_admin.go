package sqlstore

import (
	"context"
	"fmt"
	"time"

	"gorm.io/gorm/clause"

	"gatehouse/identity"
	"gatehouse/migrations"
	"gatehouse/migrations/dbtx"
)

var _ identity.UserAdminStore = (*UserStore)(nil)

// GetUserForUpdate returns the user as GetUser does, with its row locked
// (FOR UPDATE) on PostgreSQL until the transaction ends: of two
// transactions that read a user to change it, the second waits for the
// first and then reads its change. SQLite transactions start with the
// write lock (_txlock=immediate), which serialises them already.
func (s *UserStore) GetUserForUpdate(ctx context.Context, id string) (*identity.User, error) {
	id, ok := canonicalID(id)
	if !ok {
		return nil, identity.ErrNotFound
	}
	q := dbtx.DB(ctx, s.db)
	if migrations.IsPostgres(q) {
		q = q.Clauses(clause.Locking{Strength: "UPDATE"})
	}
	var row userRow
	if err := q.Where("id = ?", id).Take(&row).Error; err != nil {
		return nil, fmt.Errorf("sqlstore: get user for update: %w", translate(err))
	}
	return row.toUser()
}

// SetUserStatus sets the user's status and UpdatedAt.
func (s *UserStore) SetUserStatus(ctx context.Context, userID string, status identity.Status, at time.Time) error {
	return s.setColumns(ctx, "set status", userID, map[string]any{
		"status": string(status), "updated_at": newTimestamp(s.orNow(at)),
	})
}

// DeleteUser removes the user's row; the rows of the identity tables
// that hang on it (one-time tokens, second factors, recovery codes,
// remembered browsers, passkey ceremonies) go with it by ON DELETE
// CASCADE.
func (s *UserStore) DeleteUser(ctx context.Context, userID string) error {
	id, ok := canonicalID(userID)
	if !ok {
		return fmt.Errorf("sqlstore: delete user: %w", identity.ErrNotFound)
	}
	res := dbtx.DB(ctx, s.db).Where("id = ?", id).Delete(&userRow{})
	if err := affectedOne(res); err != nil {
		return fmt.Errorf("sqlstore: delete user: %w", err)
	}
	return nil
}
