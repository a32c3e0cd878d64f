package dbtest

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"io"
	"net/url"
	"os"
	"path/filepath"
	"sync"
	"time"

	"gatehouse/migrations"
)

// Migrating a database takes seconds on a busy PostgreSQL; copying one takes
// milliseconds. So each dialect has one migrated template per version of the
// migration files (named after migrations.Fingerprint), built by whichever
// test process needs it first, and every test gets a copy of it.
//
// Test packages run in separate processes at once: the PostgreSQL template
// is built under an advisory lock and marked finished by turning it into a
// template, so that a process finds either no template, a finished one, or
// the remains of a build that crashed (dropped and built again). The SQLite
// template is built in a file of its own and renamed into place, which is
// atomic.

// templateLockKey is the PostgreSQL advisory lock held while a template is
// looked for or built.
const templateLockKey int64 = 0x6761746568 // "gateh"

// templateTimeout bounds building a template, migrations included.
const templateTimeout = 2 * time.Minute

var postgresTemplate, sqliteTemplate onceValue

// onceValue is a value computed once per process, with its error.
type onceValue struct {
	once  sync.Once
	value string
	err   error
}

func (o *onceValue) get(build func() (string, error)) (string, error) {
	o.once.Do(func() { o.value, o.err = build() })
	return o.value, o.err
}

// templateName is the name of the migrated template of this version of the
// migrations, in PostgreSQL and in the SQLite template directory.
func templateName() string {
	return "gatehouse_template_" + migrations.Fingerprint()[:16]
}

// buildPostgresTemplate returns the name of the migrated template database,
// creating it unless another process already has.
func buildPostgresTemplate() (string, error) {
	ctx, cancel := context.WithTimeout(context.Background(), templateTimeout)
	defer cancel()
	admin, err := migrations.Open(PostgresURL())
	if err != nil {
		return "", err
	}
	sqlDB, err := admin.DB()
	if err != nil {
		return "", err
	}
	defer sqlDB.Close()
	conn, err := sqlDB.Conn(ctx)
	if err != nil {
		return "", err
	}
	defer conn.Close()
	if _, err := conn.ExecContext(ctx, "SELECT pg_advisory_lock($1)", templateLockKey); err != nil {
		return "", fmt.Errorf("lock: %w", err)
	}
	defer conn.ExecContext(context.WithoutCancel(ctx), "SELECT pg_advisory_unlock($1)", templateLockKey)

	name := templateName()
	var finished bool
	err = conn.QueryRowContext(ctx, "SELECT datistemplate FROM pg_database WHERE datname = $1", name).Scan(&finished)
	switch {
	case err == nil && finished:
		return name, nil
	case err == nil:
		// A build that did not finish: its process died holding the lock.
		if _, err := conn.ExecContext(ctx, "DROP DATABASE "+name+" WITH (FORCE)"); err != nil {
			return "", fmt.Errorf("drop unfinished template: %w", err)
		}
	case !errors.Is(err, sql.ErrNoRows):
		return "", err
	}
	if _, err := conn.ExecContext(ctx, "CREATE DATABASE "+name); err != nil {
		return "", fmt.Errorf("create template: %w", err)
	}
	u, err := databaseURL(name)
	if err != nil {
		return "", err
	}
	if err := migrate(ctx, u); err != nil {
		return "", fmt.Errorf("migrate template: %w", err)
	}
	// No connections: CREATE DATABASE ... TEMPLATE refuses a template
	// anyone is connected to.
	if _, err := conn.ExecContext(ctx, "ALTER DATABASE "+name+" WITH IS_TEMPLATE true ALLOW_CONNECTIONS false"); err != nil {
		return "", fmt.Errorf("finish template: %w", err)
	}
	return name, nil
}

// buildSQLiteTemplate returns the path of the migrated template file,
// creating it unless another process already has.
func buildSQLiteTemplate() (string, error) {
	dir := filepath.Join(os.TempDir(), "gatehouse-dbtest")
	path := filepath.Join(dir, templateName()+".db")
	if _, err := os.Stat(path); err == nil {
		return path, nil
	}
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return "", err
	}
	build, err := os.MkdirTemp(dir, "build-")
	if err != nil {
		return "", err
	}
	defer os.RemoveAll(build)
	file := filepath.Join(build, "template.db")
	ctx, cancel := context.WithTimeout(context.Background(), templateTimeout)
	defer cancel()
	// Out of WAL mode once migrated, so that the one file is the whole
	// database.
	if err := migrate(ctx, "sqlite:"+file, "PRAGMA journal_mode=DELETE"); err != nil {
		return "", fmt.Errorf("migrate template: %w", err)
	}
	if err := os.Rename(file, path); err != nil {
		return "", err
	}
	return path, nil
}

// migrate applies every migration to the database at u, then runs after.
func migrate(ctx context.Context, u string, after ...string) error {
	db, err := migrations.Open(u)
	if err != nil {
		return err
	}
	sqlDB, err := db.DB()
	if err != nil {
		return err
	}
	defer sqlDB.Close()
	if _, err := migrations.Up(ctx, db); err != nil {
		return err
	}
	for _, stmt := range after {
		if err := db.WithContext(ctx).Exec(stmt).Error; err != nil {
			return err
		}
	}
	return sqlDB.Close()
}

// databaseURL is PostgresURL with its database replaced by name.
func databaseURL(name string) (string, error) {
	u, err := url.Parse(PostgresURL())
	if err != nil {
		return "", fmt.Errorf("dbtest: %w", err)
	}
	u.Path = "/" + name
	return u.String(), nil
}

// copyFile copies the file at src to dst.
func copyFile(dst, src string) error {
	in, err := os.Open(src)
	if err != nil {
		return err
	}
	defer in.Close()
	out, err := os.OpenFile(dst, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
	if err != nil {
		return err
	}
	if _, err := io.Copy(out, in); err != nil {
		out.Close()
		return err
	}
	return out.Close()
}
