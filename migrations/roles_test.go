package migrations_test

import (
	"testing"
	"time"

	"gatehouse/migrations"
	"gatehouse/migrations/dbtest"
)

// TestRolesMigration: migration 18 adds the roles table, one row per
// name, permissions defaulting to an empty JSON array, and leaves
// users.roles as it was; its Down drops the table and keeps the users'
// roles.
func TestRolesMigration(t *testing.T) {
	for _, dialect := range dbtest.Dialects {
		t.Run(dialect, func(t *testing.T) {
			ctx := t.Context()
			db := mustOpenEmpty(t, dialect)
			if err := migrations.UpTo(ctx, db, 17); err != nil {
				t.Fatal(err)
			}
			at := time.Date(2031, 1, 2, 3, 4, 5, 0, time.UTC)
			if err := db.Exec(`INSERT INTO users (id, username, username_lower, roles, created_at, updated_at)
				VALUES ('0190a1b2-0000-7000-8000-000000000001', 'ada', 'ada', '["admin","support"]', ?, ?)`, at, at).Error; err != nil {
				t.Fatal(err)
			}
			if _, err := migrations.Up(ctx, db); err != nil {
				t.Fatal(err)
			}
			if err := db.Exec(`INSERT INTO roles (name, created_at) VALUES ('support', ?)`, at).Error; err != nil {
				t.Fatal(err)
			}
			if err := db.Exec(`INSERT INTO roles (name, created_at) VALUES ('support', ?)`, at).Error; err == nil {
				t.Error("a second role named support was stored")
			}
			var perms string
			if err := db.Raw(`SELECT permissions FROM roles WHERE name = 'support'`).Scan(&perms).Error; err != nil || perms != "[]" {
				t.Errorf("default permissions = %q, %v; want []", perms, err)
			}
			if err := migrations.DownTo(ctx, db, 17); err != nil {
				t.Fatalf("down to 17: %v", err)
			}
			var roles string
			if err := db.Raw(`SELECT roles FROM users`).Scan(&roles).Error; err != nil || roles != `["admin","support"]` {
				t.Errorf("users.roles after down = %q, %v; want it kept", roles, err)
			}
			if err := db.Exec(`SELECT 1 FROM roles`).Error; err == nil {
				t.Error("roles table still there after down")
			}
		})
	}
}
