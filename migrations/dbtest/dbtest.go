// Package dbtest gives tests a freshly migrated database: a SQLite file in a
// temporary directory, or a private schema in a real PostgreSQL.
//
// PostgreSQL is found at GATEHOUSE_TEST_POSTGRES_URL (default: the local
// server). When it cannot be reached the test is skipped with a visible
// message, except under CI=true, where that is a failure.
package dbtest

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"net/url"
	"os"
	"path/filepath"
	"testing"
	"time"

	"gorm.io/gorm"

	"gatehouse/migrations"
)

// DefaultPostgresURL is used when GATEHOUSE_TEST_POSTGRES_URL is unset.
const DefaultPostgresURL = "postgres://postgres@127.0.0.1:5432/test?sslmode=disable"

// Dialects are the database kinds every store test runs against.
var Dialects = []string{"sqlite", "postgres"}

// PostgresURL returns the server URL tests use.
func PostgresURL() string {
	if u := os.Getenv("GATEHOUSE_TEST_POSTGRES_URL"); u != "" {
		return u
	}
	return DefaultPostgresURL
}

// Each runs fn once per dialect as a subtest, each with its own database.
func Each(t *testing.T, fn func(t *testing.T, db *gorm.DB)) {
	for _, d := range Dialects {
		t.Run(d, func(t *testing.T) { fn(t, MustOpen(t, d)) })
	}
}

// MustOpen returns a migrated, empty database of the given dialect that is
// removed when the test ends.
func MustOpen(t testing.TB, dialect string) *gorm.DB {
	t.Helper()
	url := MustURL(t, dialect)
	db, err := migrations.Open(url)
	if err != nil {
		t.Fatalf("dbtest: open %s: %v", dialect, err)
	}
	t.Cleanup(func() {
		if sqlDB, err := db.DB(); err == nil {
			sqlDB.Close()
		}
	})
	if _, err := migrations.Up(context.Background(), db); err != nil {
		t.Fatalf("dbtest: migrate %s: %v", dialect, err)
	}
	return db
}

// MustURL returns a database URL of a fresh, empty, unmigrated database of
// the given dialect that is removed when the test ends.
func MustURL(t testing.TB, dialect string) string {
	t.Helper()
	switch dialect {
	case "sqlite":
		return "sqlite:" + filepath.Join(t.TempDir(), "test.db")
	case "postgres":
		return mustPostgresSchema(t)
	}
	t.Fatalf("dbtest: unknown dialect %q", dialect)
	return ""
}

// RequirePostgres skips the test, or fails it under CI=true, when
// PostgreSQL cannot be reached.
func RequirePostgres(t testing.TB) *gorm.DB {
	t.Helper()
	admin, err := migrations.Open(PostgresURL())
	if err == nil {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		var sqlDB interface{ PingContext(context.Context) error }
		if sqlDB, err = admin.DB(); err == nil {
			err = sqlDB.PingContext(ctx)
		}
	}
	if err != nil {
		if os.Getenv("CI") == "true" {
			t.Fatalf("dbtest: PostgreSQL is required under CI=true but unreachable at %s: %v", redact(PostgresURL()), err)
		}
		t.Skipf("dbtest: SKIPPING: PostgreSQL unreachable at %s (%v); set GATEHOUSE_TEST_POSTGRES_URL", redact(PostgresURL()), err)
	}
	return admin
}

func mustPostgresSchema(t testing.TB) string {
	t.Helper()
	admin := RequirePostgres(t)
	b := make([]byte, 6)
	rand.Read(b)
	schema := "t_" + hex.EncodeToString(b)
	if err := admin.Exec("CREATE SCHEMA " + schema).Error; err != nil {
		t.Fatalf("dbtest: create schema: %v", err)
	}
	t.Cleanup(func() {
		admin.Exec("DROP SCHEMA " + schema + " CASCADE")
		if sqlDB, err := admin.DB(); err == nil {
			sqlDB.Close()
		}
	})
	u, err := url.Parse(PostgresURL())
	if err != nil {
		t.Fatalf("dbtest: %v", err)
	}
	q := u.Query()
	q.Set("search_path", schema)
	u.RawQuery = q.Encode()
	return u.String()
}

func redact(raw string) string {
	u, err := url.Parse(raw)
	if err != nil {
		return "(unparseable URL)"
	}
	return u.Redacted()
}
