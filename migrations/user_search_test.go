package migrations_test

import (
	"crypto/rand"
	"encoding/hex"
	"net/url"
	"testing"

	"gatehouse/migrations"
	"gatehouse/migrations/dbtest"
)

// TestUserSearchMigrationTrigramElsewhere: migration 19 builds its
// trigram index when pg_trgm was installed earlier in a schema that is
// not on the connection's search_path, as an administrator may have done,
// and the substring search then runs from it. Its Down removes the
// indexes.
func TestUserSearchMigrationTrigramElsewhere(t *testing.T) {
	admin := dbtest.RequirePostgres(t)
	b := make([]byte, 6)
	rand.Read(b)
	name := "t_trgm_" + hex.EncodeToString(b)
	if err := admin.Exec("CREATE DATABASE " + name).Error; err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { admin.Exec("DROP DATABASE " + name + " WITH (FORCE)") })
	u, err := url.Parse(dbtest.PostgresURL())
	if err != nil {
		t.Fatal(err)
	}
	u.Path = "/" + name
	db, err := migrations.Open(u.String())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if sqlDB, err := db.DB(); err == nil {
			sqlDB.Close()
		}
	})
	if err := db.Exec("CREATE SCHEMA extensions; CREATE EXTENSION pg_trgm SCHEMA extensions").Error; err != nil {
		t.Fatal(err)
	}
	ctx := t.Context()
	if _, err := migrations.Up(ctx, db); err != nil {
		t.Fatalf("migrate with pg_trgm in another schema: %v", err)
	}
	var opclass string
	if err := db.Raw(`SELECT n.nspname FROM pg_index i
		JOIN pg_class c ON c.oid = i.indexrelid
		JOIN pg_opclass o ON o.oid = i.indclass[0]
		JOIN pg_namespace n ON n.oid = o.opcnamespace
		WHERE c.relname = 'users_search_trgm_idx'`).Scan(&opclass).Error; err != nil {
		t.Fatal(err)
	}
	if opclass != "extensions" {
		t.Errorf("users_search_trgm_idx uses the operator class of schema %q, want extensions", opclass)
	}
	if err := migrations.DownTo(ctx, db, 17); err != nil {
		t.Fatal(err)
	}
	var left int
	if err := db.Raw(`SELECT count(*) FROM pg_indexes WHERE tablename = 'users' AND indexname IN
		('users_search_trgm_idx', 'users_roles_idx', 'users_last_login_idx', 'users_last_login_desc_idx',
		 'users_username_sort_idx', 'users_email_sort_idx', 'users_email_prefix_idx', 'users_status_created_idx')`).Scan(&left).Error; err != nil {
		t.Fatal(err)
	}
	if left != 0 {
		t.Errorf("%d search indexes left after migrating down to 17", left)
	}
}
