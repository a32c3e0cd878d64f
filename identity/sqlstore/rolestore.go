package sqlstore

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"

	"github.com/jackc/pgx/v5/pgconn"
	"gorm.io/gorm"

	"gatehouse/identity"
	"gatehouse/identity/access"
	"gatehouse/migrations/dbtx"
)

// RoleStore is the gorm implementation of identity.RoleStore: custom
// roles in the roles table (migrations/*/00018_roles.sql), their
// permissions a JSON array of names.
type RoleStore struct {
	db *gorm.DB
}

var _ identity.RoleStore = (*RoleStore)(nil)

// NewRoleStore returns a RoleStore on db, whose schema must be migrated.
func NewRoleStore(db *gorm.DB) *RoleStore { return &RoleStore{db: db} }

type roleRow struct {
	Name        string `gorm:"primaryKey"`
	Description string
	Permissions string    // JSON array
	CreatedAt   timestamp `gorm:"autoCreateTime:false"`
}

// TableName tells gorm the table name.
func (roleRow) TableName() string { return "roles" }

// ListRoles returns the custom roles ordered by name.
func (s *RoleStore) ListRoles(ctx context.Context) ([]access.Role, error) {
	var rows []roleRow
	if err := dbtx.DB(ctx, s.db).Order("name").Find(&rows).Error; err != nil {
		return nil, fmt.Errorf("sqlstore: list roles: %w", err)
	}
	out := make([]access.Role, 0, len(rows))
	for _, r := range rows {
		var perms []access.Permission
		if err := json.Unmarshal([]byte(r.Permissions), &perms); err != nil {
			return nil, fmt.Errorf("sqlstore: role %q: decode permissions: %w", r.Name, err)
		}
		if len(perms) == 0 {
			perms = nil
		}
		out = append(out, access.Role{Name: r.Name, Description: r.Description, Permissions: perms,
			CreatedAt: r.CreatedAt.Time()})
	}
	return out, nil
}

// CreateRole stores r, or returns identity.ErrRoleExists.
func (s *RoleStore) CreateRole(ctx context.Context, r access.Role) error {
	perms := r.Permissions
	if perms == nil {
		perms = []access.Permission{}
	}
	data, err := json.Marshal(perms)
	if err != nil {
		return fmt.Errorf("sqlstore: encode permissions: %w", err)
	}
	row := roleRow{Name: r.Name, Description: r.Description, Permissions: string(data),
		CreatedAt: newTimestamp(r.CreatedAt)}
	if err := dbtx.DB(ctx, s.db).Create(&row).Error; err != nil {
		if isDuplicateKey(err) {
			return fmt.Errorf("sqlstore: create role %q: %w", r.Name, identity.ErrRoleExists)
		}
		return fmt.Errorf("sqlstore: create role %q: %w", r.Name, err)
	}
	return nil
}

// DeleteRole removes the role named, or returns identity.ErrNotFound.
func (s *RoleStore) DeleteRole(ctx context.Context, name string) error {
	res := dbtx.DB(ctx, s.db).Where("name = ?", name).Delete(&roleRow{})
	if err := affectedOne(res); err != nil {
		return fmt.Errorf("sqlstore: delete role %q: %w", name, err)
	}
	return nil
}

// isDuplicateKey reports a primary key or unique violation: SQLSTATE
// 23505 on PostgreSQL, "UNIQUE constraint failed" on SQLite.
func isDuplicateKey(err error) bool {
	var pgErr *pgconn.PgError
	if errors.As(err, &pgErr) {
		return pgErr.Code == "23505"
	}
	return strings.Contains(err.Error(), "UNIQUE constraint failed")
}
