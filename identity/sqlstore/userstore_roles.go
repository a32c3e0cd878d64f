package sqlstore

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"time"

	"gatehouse/identity"
	"gatehouse/migrations"
	"gatehouse/migrations/dbtx"
)

var _ identity.RoleHolderStore = (*UserStore)(nil)

// SetUserRoles replaces the user's roles (users.roles, a JSON array) and
// UpdatedAt, or returns identity.ErrNotFound.
func (s *UserStore) SetUserRoles(ctx context.Context, userID string, roles []string, at time.Time) error {
	if roles == nil {
		roles = []string{}
	}
	data, err := json.Marshal(roles)
	if err != nil {
		return fmt.Errorf("sqlstore: encode roles: %w", err)
	}
	return s.setColumns(ctx, "set roles", userID, map[string]any{
		"roles": string(data), "updated_at": newTimestamp(at),
	})
}

// LockActiveRoleHolders returns the IDs of active users holding any of
// roles, ordered, with their rows locked (FOR UPDATE) on PostgreSQL until
// the transaction ends. Under READ COMMITTED a second transaction waits
// for the first and then re-reads the rows it changed, so of two
// concurrent demotions of the last two admins the second sees one admin
// left. SQLite runs one writer at a time.
func (s *UserStore) LockActiveRoleHolders(ctx context.Context, roles []string) ([]string, error) {
	if len(roles) == 0 {
		return nil, nil
	}
	where, args := rolesMatch(roles)
	q := `SELECT id FROM users WHERE status = ? AND (` + where + `) ORDER BY id`
	db := dbtx.DB(ctx, s.db)
	if migrations.IsPostgres(db) {
		q += ` FOR UPDATE`
	}
	var ids []string
	if err := db.Raw(q, append([]any{string(identity.StatusActive)}, args...)...).Scan(&ids).Error; err != nil {
		return nil, fmt.Errorf("sqlstore: role holders: %w", err)
	}
	return ids, nil
}

// CountRoleHolders returns how many users, in any status, hold role.
func (s *UserStore) CountRoleHolders(ctx context.Context, role string) (int64, error) {
	where, args := rolesMatch([]string{role})
	var n int64
	if err := dbtx.DB(ctx, s.db).Model(&userRow{}).Where(where, args...).Count(&n).Error; err != nil {
		return 0, fmt.Errorf("sqlstore: count role holders: %w", err)
	}
	return n, nil
}

// rolesMatch is a condition true for the users whose roles array holds
// one of roles. The array is JSON text written by json.Marshal, where a
// valid role name (access.ValidateName) appears as "name" exactly, so a
// LIKE for the quoted name finds it on both databases; '_' is escaped,
// since LIKE reads it as any character.
func rolesMatch(roles []string) (string, []any) {
	esc := strings.NewReplacer(`\`, `\\`, `%`, `\%`, `_`, `\_`)
	parts := make([]string, len(roles))
	args := make([]any, len(roles))
	for i, r := range roles {
		parts[i] = `roles LIKE ? ESCAPE '\'`
		args[i] = `%"` + esc.Replace(r) + `"%`
	}
	return strings.Join(parts, " OR "), args
}
