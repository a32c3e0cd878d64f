// Package dbtest gives tests a database of their own: a migrated copy of a
// template (a SQLite file copied into a temporary directory, or a PostgreSQL
// database created from a template database, see template.go), or an empty
// one (a SQLite file, or a private schema in PostgreSQL) for tests of the
// migrations themselves.
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
	db, err := migrations.Open(MustMigratedURL(t, dialect))
	if err != nil {
		t.Fatalf("dbtest: open %s: %v", dialect, err)
	}
	t.Cleanup(func() {
		if sqlDB, err := db.DB(); err == nil {
			sqlDB.Close()
		}
	})
	return db
}

// MustMigratedURL returns a database URL of a fresh, migrated database of
// the given dialect, without rows, that is removed when the test ends. It is
// a copy of the dialect's template, migrated once for all tests.
func MustMigratedURL(t testing.TB, dialect string) string {
	t.Helper()
	switch dialect {
	case "sqlite":
		tmpl, err := sqliteTemplate.get(buildSQLiteTemplate)
		if err != nil {
			t.Fatalf("dbtest: SQLite template: %v", err)
		}
		path := filepath.Join(t.TempDir(), "test.db")
		if err := copyFile(path, tmpl); err != nil {
			t.Fatalf("dbtest: copy SQLite template: %v", err)
		}
		return "sqlite:" + path
	case "postgres":
		return mustPostgresCopy(t)
	}
	t.Fatalf("dbtest: unknown dialect %q", dialect)
	return ""
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

// mustPostgresCopy creates a database from the PostgreSQL template and
// drops it when the test ends.
func mustPostgresCopy(t testing.TB) string {
	t.Helper()
	admin := RequirePostgres(t)
	tmpl, err := postgresTemplate.get(buildPostgresTemplate)
	if err != nil {
		t.Fatalf("dbtest: PostgreSQL template: %v", err)
	}
	name := "t_" + randomHex(6)
	if err := admin.Exec("CREATE DATABASE " + name + " TEMPLATE " + tmpl).Error; err != nil {
		t.Fatalf("dbtest: create database from template: %v", err)
	}
	t.Cleanup(func() {
		// FORCE: a test that failed half-way may leave a connection open.
		admin.Exec("DROP DATABASE " + name + " WITH (FORCE)")
		if sqlDB, err := admin.DB(); err == nil {
			sqlDB.Close()
		}
	})
	u, err := databaseURL(name)
	if err != nil {
		t.Fatal(err)
	}
	return u
}

func randomHex(n int) string {
	b := make([]byte, n)
	rand.Read(b)
	return hex.EncodeToString(b)
}

func mustPostgresSchema(t testing.TB) string {
	t.Helper()
	admin := RequirePostgres(t)
	schema := "t_" + randomHex(6)
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
