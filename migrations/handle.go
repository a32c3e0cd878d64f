package migrations

import (
	"context"
	"time"

	"gorm.io/gorm"

	"gatehouse/migrations/dberr"
)

// Handle is an open database as the composition root holds it: it hands
// Gorm to the stores' constructors, and pings, migrates and closes through
// the Handle, so that gorm stays a detail of the stores and of this
// package.
type Handle struct {
	db *gorm.DB
}

// OpenHandle is OpenWith, returning a Handle.
func OpenHandle(url string, opts Options) (*Handle, error) {
	db, err := OpenWith(url, opts)
	if err != nil {
		return nil, err
	}
	return &Handle{db: db}, nil
}

// Gorm is the connection pool, for the stores built on it.
func (h *Handle) Gorm() *gorm.DB { return h.db }

// Ping checks that the database answers within timeout; its error matches
// dberr.ErrUnavailable when it does not.
func (h *Handle) Ping(ctx context.Context, timeout time.Duration) error {
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	return dberr.Mark(h.PingContext(ctx))
}

// PingContext checks that the database answers before ctx ends, with the
// driver's error.
func (h *Handle) PingContext(ctx context.Context) error {
	sqlDB, err := h.db.DB()
	if err != nil {
		return err
	}
	return sqlDB.PingContext(ctx)
}

// Up applies every pending migration (see Up).
func (h *Handle) Up(ctx context.Context) ([]int64, error) { return Up(ctx, h.db) }

// List reports every known migration (see List).
func (h *Handle) List(ctx context.Context) ([]Status, error) { return List(ctx, h.db) }

// Current checks that every migration has been applied (see Current).
func (h *Handle) Current(ctx context.Context) error { return Current(ctx, h.db) }

// Close closes the connection pool.
func (h *Handle) Close() error {
	sqlDB, err := h.db.DB()
	if err != nil {
		return err
	}
	return sqlDB.Close()
}
