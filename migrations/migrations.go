package migrations

import (
	"context"
	"database/sql"
	"embed"
	"errors"
	"fmt"
	"io/fs"

	"github.com/pressly/goose/v3"
	"github.com/pressly/goose/v3/lock"
	"gorm.io/gorm"
)

//go:embed postgres/*.sql sqlite/*.sql
var files embed.FS

// Status is one migration's version, file and whether it has been applied.
type Status struct {
	Version int64
	Source  string
	Applied bool
}

func provider(db *gorm.DB) (*goose.Provider, *sql.DB, error) {
	sqlDB, err := db.DB()
	if err != nil {
		return nil, nil, fmt.Errorf("migrations: %w", err)
	}
	dialect, dir := goose.DialectSQLite3, "sqlite"
	var opts []goose.ProviderOption
	if IsPostgres(db) {
		dialect, dir = goose.DialectPostgres, "postgres"
		// Several instances may start at once against one database: an
		// advisory lock makes exactly one of them apply the migrations.
		locker, err := lock.NewPostgresSessionLocker()
		if err != nil {
			return nil, nil, fmt.Errorf("migrations: %w", err)
		}
		opts = append(opts, goose.WithSessionLocker(locker))
	}
	sub, err := fs.Sub(files, dir)
	if err != nil {
		return nil, nil, fmt.Errorf("migrations: %w", err)
	}
	p, err := goose.NewProvider(dialect, sqlDB, sub, opts...)
	if err != nil {
		return nil, nil, fmt.Errorf("migrations: %w", err)
	}
	return p, sqlDB, nil
}

// Up applies every pending migration and returns the versions it applied.
func Up(ctx context.Context, db *gorm.DB) ([]int64, error) {
	p, _, err := provider(db)
	if err != nil {
		return nil, err
	}
	results, err := p.Up(ctx)
	if err != nil {
		return nil, fmt.Errorf("migrations: up: %w", err)
	}
	applied := make([]int64, 0, len(results))
	for _, r := range results {
		applied = append(applied, r.Source.Version)
	}
	return applied, nil
}

// List reports every known migration and whether it has been applied.
func List(ctx context.Context, db *gorm.DB) ([]Status, error) {
	p, _, err := provider(db)
	if err != nil {
		return nil, err
	}
	st, err := p.Status(ctx)
	if err != nil {
		return nil, fmt.Errorf("migrations: status: %w", err)
	}
	out := make([]Status, 0, len(st))
	for _, s := range st {
		out = append(out, Status{Version: s.Source.Version, Source: s.Source.Path, Applied: s.State == goose.StateApplied})
	}
	return out, nil
}

// ErrPending reports that the schema is older than this binary expects.
var ErrPending = errors.New("migrations: pending migrations")

// Current returns nil when every migration has been applied, ErrPending when
// some are missing, or the error that stopped the check.
func Current(ctx context.Context, db *gorm.DB) error {
	p, _, err := provider(db)
	if err != nil {
		return err
	}
	pending, err := p.HasPending(ctx)
	if err != nil {
		return fmt.Errorf("migrations: %w", err)
	}
	if pending {
		return ErrPending
	}
	return nil
}
