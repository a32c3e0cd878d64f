package dberr_test

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/url"
	"testing"
	"time"

	"gorm.io/gorm"

	"gatehouse/migrations"
	"gatehouse/migrations/dberr"
	"gatehouse/migrations/dbtest"
)

// closedPort returns a loopback address nothing listens on.
func closedPort(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close()
	return addr
}

// postgresAt returns the test server's URL with its host replaced.
func postgresAt(t *testing.T, host string) string {
	t.Helper()
	u, err := url.Parse(dbtest.PostgresURL())
	if err != nil {
		t.Fatal(err)
	}
	u.Host = host
	return u.String()
}

func mustOpen(t *testing.T, rawURL string) *gorm.DB {
	t.Helper()
	db, err := migrations.Open(rawURL)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if sqlDB, err := db.DB(); err == nil {
			sqlDB.Close()
		}
	})
	return db
}

// TestIsUnavailable: the errors a real database gives when it cannot
// answer are unavailability; the errors of a database that answered
// (no row, a constraint, a wrong password) and network errors from
// elsewhere are not.
func TestIsUnavailable(t *testing.T) {
	dbtest.RequirePostgres(t)
	pg := dbtest.MustOpen(t, "postgres")
	lite := dbtest.MustOpen(t, "sqlite")
	ctx := t.Context()

	closedPool := mustOpen(t, dbtest.PostgresURL())
	if sqlDB, err := closedPool.DB(); err == nil {
		sqlDB.Close()
	}
	expired, cancel := context.WithDeadline(ctx, time.Now().Add(-time.Second))
	defer cancel()
	badPassword, _ := url.Parse(dbtest.PostgresURL())
	badPassword.User = url.UserPassword("no_such_role_for_gatehouse", "wrong")
	noDatabase, _ := url.Parse(dbtest.PostgresURL())
	noDatabase.Path = "/no_such_database_for_gatehouse"
	_, httpErr := http.Get("http://" + closedPort(t) + "/")

	tests := []struct {
		name string
		err  func() error
		want bool
	}{
		{"connection refused", func() error {
			return mustOpen(t, postgresAt(t, closedPort(t))).WithContext(ctx).Exec("SELECT 1").Error
		}, true},
		{"server terminated the session (57P01)", func() error {
			db := mustOpen(t, dbtest.PostgresURL())
			sqlDB, _ := db.DB()
			sqlDB.SetMaxOpenConns(1)
			return db.WithContext(ctx).Exec("SELECT pg_terminate_backend(pg_backend_pid())").Error
		}, true},
		{"closed pool", func() error { return closedPool.WithContext(ctx).Exec("SELECT 1").Error }, true},
		{"deadline while querying", func() error { return pg.WithContext(expired).Exec("SELECT 1").Error }, true},
		{"deadline while querying SQLite", func() error { return lite.WithContext(expired).Exec("SELECT 1").Error }, true},
		{"begin with a closed pool, marked by the store", func() error {
			return dberr.Mark(closedPool.WithContext(ctx).Begin().Error)
		}, true},
		{"statement timeout (57014)", func() error {
			return pg.WithContext(ctx).Transaction(func(tx *gorm.DB) error {
				if err := tx.Exec("SET LOCAL statement_timeout = 1").Error; err != nil {
					return err
				}
				return tx.Exec("SELECT pg_sleep(1)").Error
			})
		}, true},
		{"no row", func() error {
			var n struct{ ID string }
			return pg.WithContext(ctx).Table("users").Where("id = ?", "none").Take(&n).Error
		}, false},
		{"syntax error", func() error { return pg.WithContext(ctx).Exec("SELEC 1").Error }, false},
		{"SQLite syntax error", func() error { return lite.WithContext(ctx).Exec("SELEC 1").Error }, false},
		{"wrong role", func() error { return mustOpen(t, badPassword.String()).WithContext(ctx).Exec("SELECT 1").Error }, false},
		{"unknown database", func() error { return mustOpen(t, noDatabase.String()).WithContext(ctx).Exec("SELECT 1").Error }, false},
		{"refused outbound HTTP call", func() error { return httpErr }, false},
		{"deadline of something else", func() error { return fmt.Errorf("fetch: %w", context.DeadlineExceeded) }, false},
		{"nil", func() error { return nil }, false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			err := tc.err()
			if tc.want && err == nil {
				t.Fatal("no error")
			}
			if got := dberr.IsUnavailable(err); got != tc.want {
				t.Errorf("IsUnavailable(%v) = %v, want %v", err, got, tc.want)
			}
			if got := dberr.IsUnavailable(fmt.Errorf("store: %w", err)); err != nil && got != tc.want {
				t.Errorf("wrapped: IsUnavailable = %v, want %v", got, tc.want)
			}
		})
	}
}

// TestMarkKeepsOtherErrors: marking leaves other errors as they are, so
// a store's not-found checks still match.
func TestMarkKeepsOtherErrors(t *testing.T) {
	for _, err := range []error{nil, gorm.ErrRecordNotFound, errors.New("constraint")} {
		if got := dberr.Mark(err); got != err {
			t.Errorf("Mark(%v) = %v, want it unchanged", err, got)
		}
	}
	marked := dberr.Mark(context.DeadlineExceeded)
	if !errors.Is(marked, dberr.ErrUnavailable) || !errors.Is(marked, context.DeadlineExceeded) {
		t.Errorf("Mark(deadline) = %v: want ErrUnavailable wrapping the deadline", marked)
	}
	if again := dberr.Mark(marked); again != marked {
		t.Errorf("Mark twice wrapped twice: %v", again)
	}
}
