package migrations_test

import (
	"errors"
	"testing"
	"time"

	"github.com/jackc/pgx/v5/pgconn"

	"gatehouse/migrations"
	"gatehouse/migrations/dbtest"
)

// TestOpenWithOptions: the pool size and the statement timeout reach
// PostgreSQL; a statement running past the timeout is cancelled by the
// server (SQLSTATE 57014) instead of holding a connection.
func TestOpenWithOptions(t *testing.T) {
	url := dbtest.MustURL(t, "postgres")
	db, err := migrations.OpenWith(url, migrations.Options{MaxOpenConns: 3, StatementTimeout: 50 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	sqlDB, err := db.DB()
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { sqlDB.Close() })
	if got := sqlDB.Stats().MaxOpenConnections; got != 3 {
		t.Errorf("MaxOpenConnections = %d, want 3", got)
	}
	var setting string
	if err := db.Raw(`SHOW statement_timeout`).Scan(&setting).Error; err != nil {
		t.Fatal(err)
	}
	if setting != "50ms" {
		t.Errorf("statement_timeout = %q, want 50ms", setting)
	}
	err = db.Exec(`SELECT pg_sleep(2)`).Error
	var pgErr *pgconn.PgError
	if !errors.As(err, &pgErr) || pgErr.Code != "57014" {
		t.Errorf("a statement past the timeout: %v, want SQLSTATE 57014", err)
	}

	def, err := migrations.Open(url)
	if err != nil {
		t.Fatal(err)
	}
	defDB, _ := def.DB()
	t.Cleanup(func() { defDB.Close() })
	if got := defDB.Stats().MaxOpenConnections; got != migrations.DefaultMaxOpenConns {
		t.Errorf("default MaxOpenConnections = %d, want %d", got, migrations.DefaultMaxOpenConns)
	}
}
