package migrations

import (
	"cmp"
	"fmt"
	neturl "net/url"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"github.com/glebarez/sqlite"
	"gorm.io/driver/postgres"
	"gorm.io/gorm"
	"gorm.io/gorm/logger"

	"gatehouse/migrations/dberr"
)

// Options tune a PostgreSQL connection pool; SQLite ignores them (it
// always has one connection, see Open). Zero fields take the defaults.
type Options struct {
	// MaxOpenConns caps the pool (default DefaultMaxOpenConns). Several
	// instances share the server's max_connections between them.
	MaxOpenConns int
	// StatementTimeout makes the server cancel any statement that runs
	// longer (PostgreSQL's statement_timeout); zero leaves the server's.
	StatementTimeout time.Duration
}

// DefaultMaxOpenConns is the PostgreSQL pool size without Options.
const DefaultMaxOpenConns = 32

// Open connects to the database named by url: "sqlite:PATH" for the embedded
// database (its directory is created) or "postgres://..." for PostgreSQL.
func Open(url string) (*gorm.DB, error) { return OpenWith(url, Options{}) }

// OpenWith is Open with the pool tuned by opts.
func OpenWith(url string, opts Options) (*gorm.DB, error) {
	cfg := &gorm.Config{
		Logger:                 logger.Discard,
		SkipDefaultTransaction: true, // single statements need no BEGIN/COMMIT round trip
		PrepareStmt:            false,
		NowFunc:                func() time.Time { return time.Now().UTC() },
		// gorm's ping has no deadline: a database that accepts connections
		// but never answers would hang Open. Callers ping with a timeout.
		DisableAutomaticPing: true,
	}
	switch {
	case strings.HasPrefix(url, "postgres://"), strings.HasPrefix(url, "postgresql://"):
		if opts.StatementTimeout > 0 {
			var err error
			if url, err = withStatementTimeout(url, opts.StatementTimeout); err != nil {
				return nil, err
			}
		}
		db, err := gorm.Open(postgres.Open(url), cfg)
		if err != nil {
			return nil, fmt.Errorf("database: open postgres: %w", err)
		}
		sqlDB, err := db.DB()
		if err != nil {
			return nil, fmt.Errorf("database: %w", err)
		}
		conns := cmp.Or(opts.MaxOpenConns, DefaultMaxOpenConns)
		sqlDB.SetMaxOpenConns(conns)
		sqlDB.SetMaxIdleConns(conns)
		sqlDB.SetConnMaxIdleTime(5 * time.Minute)
		if err := markUnavailable(db); err != nil {
			return nil, err
		}
		return db, nil
	case strings.HasPrefix(url, "sqlite:"):
		path := strings.TrimPrefix(url, "sqlite:")
		path = strings.TrimPrefix(path, "//")
		if path == "" {
			return nil, fmt.Errorf("database: sqlite URL needs a path, e.g. sqlite:data/gatehouse.db")
		}
		if path != ":memory:" {
			if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
				return nil, fmt.Errorf("database: %w", err)
			}
		}
		// WAL lets readers run beside the single writer; immediate
		// transactions take the write lock up front so two writers queue on
		// busy_timeout instead of failing with SQLITE_BUSY mid-transaction.
		dsn := "file:" + path + "?_pragma=journal_mode(WAL)&_pragma=busy_timeout(10000)" +
			"&_pragma=foreign_keys(1)&_pragma=synchronous(NORMAL)&_txlock=immediate"
		db, err := gorm.Open(sqlite.Open(dsn), cfg)
		if err != nil {
			return nil, fmt.Errorf("database: open sqlite: %w", err)
		}
		// SQLite has one writer. With one connection, requests queue in
		// the pool and are handed the connection the moment it is free;
		// with several, writers collide on the file lock and SQLite's busy
		// handler makes them sleep and retry, which turns a short queue
		// into hundreds of milliseconds of tail latency.
		sqlDB, err := db.DB()
		if err != nil {
			return nil, fmt.Errorf("database: %w", err)
		}
		sqlDB.SetMaxOpenConns(1)
		if err := markUnavailable(db); err != nil {
			return nil, err
		}
		return db, nil
	default:
		return nil, fmt.Errorf("database: unsupported URL scheme (want sqlite:PATH or postgres://...)")
	}
}

// withStatementTimeout adds statement_timeout to a PostgreSQL URL's query,
// which pgx sends as a run-time parameter when each connection starts.
func withStatementTimeout(raw string, d time.Duration) (string, error) {
	u, err := neturl.Parse(raw)
	if err != nil {
		return "", fmt.Errorf("database: parse URL: %w", err)
	}
	q := u.Query()
	q.Set("statement_timeout", strconv.FormatInt(max(d.Milliseconds(), 1), 10))
	u.RawQuery = q.Encode()
	return u.String(), nil
}

// markUnavailable makes every statement's error that means the database
// could not answer match dberr.ErrUnavailable, whichever store ran it.
func markUnavailable(db *gorm.DB) error {
	mark := func(tx *gorm.DB) { tx.Error = dberr.Mark(tx.Error) }
	cb := db.Callback()
	for _, err := range []error{
		cb.Create().After("*").Register("dberr:mark", mark),
		cb.Query().After("*").Register("dberr:mark", mark),
		cb.Update().After("*").Register("dberr:mark", mark),
		cb.Delete().After("*").Register("dberr:mark", mark),
		cb.Row().After("*").Register("dberr:mark", mark),
		cb.Raw().After("*").Register("dberr:mark", mark),
	} {
		if err != nil {
			return fmt.Errorf("database: %w", err)
		}
	}
	return nil
}

// IsPostgres reports whether db talks to PostgreSQL.
func IsPostgres(db *gorm.DB) bool { return db.Dialector.Name() == "postgres" }
