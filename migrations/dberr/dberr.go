// Package dberr tells a database that cannot be reached from a request
// that failed: a refused or reset connection, a server shutting down or
// starting, a timeout, a closed pool. Those are an outage, answered with
// 503 and retried later, never a wrong password or an unknown client.
//
// Storage code marks such errors at its edge with Mark (migrations.Open
// does it for every gorm statement); handlers ask IsUnavailable. Outage
// logs an outage once and its end, instead of once per failed request.
package dberr

import (
	"context"
	"database/sql"
	"database/sql/driver"
	"errors"
	"io"
	"net"
	"strings"
	"syscall"

	"github.com/glebarez/go-sqlite"
	"github.com/jackc/pgx/v5/pgconn"
)

// ErrUnavailable is matched (errors.Is) by every error Mark marked.
var ErrUnavailable = errors.New("database unavailable")

// unavailable keeps the driver's error for logs and adds the sentinel.
type unavailable struct{ err error }

func (e *unavailable) Error() string        { return "database unavailable: " + e.err.Error() }
func (e *unavailable) Unwrap() error        { return e.err }
func (e *unavailable) Is(target error) bool { return target == ErrUnavailable }

// Mark returns err marked as unavailability when it is one, else err
// unchanged (nil stays nil). It is for errors known to come from the
// database: there a refused connection, an unexpected EOF or a context
// deadline means the database could not answer in time.
func Mark(err error) error {
	if err == nil || errors.Is(err, ErrUnavailable) {
		return err
	}
	if isDatabaseOutage(err) || isTransport(err) {
		return &unavailable{err}
	}
	return err
}

// IsUnavailable reports whether err means the database could not be used
// just now: err was marked, or it carries an error only a database driver
// returns for an outage. A network error from elsewhere (an outbound HTTP
// call) is not one unless it was marked.
func IsUnavailable(err error) bool {
	return err != nil && (errors.Is(err, ErrUnavailable) || isDatabaseOutage(err))
}

// isDatabaseOutage recognises the drivers' own outage errors.
func isDatabaseOutage(err error) bool {
	var pg *pgconn.PgError
	if errors.As(err, &pg) {
		return pgUnavailable(pg.Code)
	}
	var lite *sqlite.Error
	if errors.As(err, &lite) {
		return liteUnavailable(lite.Code())
	}
	var ce *pgconn.ConnectError
	switch {
	case errors.As(err, &ce), errors.Is(err, driver.ErrBadConn), errors.Is(err, sql.ErrConnDone),
		errors.Is(err, pgconn.ErrConnClosed), pgconn.Timeout(err), pgconn.SafeToRetry(err):
		return true
	}
	// database/sql does not export this one.
	return strings.Contains(err.Error(), "sql: database is closed")
}

// pgUnavailable reports the SQLSTATE codes of a server that cannot serve
// now (PostgreSQL Appendix A): connection exceptions (class 08), too many
// connections or out of resources (class 53), operator intervention
// (57014 query cancelled by a timeout, 57P01-57P05 shutdown, starting up,
// idle timeouts) and a read-only standby (25006, mid-failover).
func pgUnavailable(code string) bool {
	switch {
	case strings.HasPrefix(code, "08"), strings.HasPrefix(code, "53"), strings.HasPrefix(code, "57P"):
		return true
	}
	return code == "57014" || code == "25006"
}

// liteUnavailable reports SQLite result codes (the primary code is the low
// byte) of a database that is busy, locked, or whose file cannot be used.
func liteUnavailable(code int) bool {
	switch code & 0xff {
	case 5, 6, 10, 13, 14: // SQLITE_BUSY, _LOCKED, _IOERR, _FULL, _CANTOPEN
		return true
	}
	return false
}

// isTransport recognises a broken or slow connection and a request that
// ran out of time.
func isTransport(err error) bool {
	var ne net.Error
	switch {
	case errors.Is(err, context.DeadlineExceeded), errors.Is(err, context.Canceled),
		errors.Is(err, io.EOF), errors.Is(err, io.ErrUnexpectedEOF), errors.Is(err, net.ErrClosed),
		errors.Is(err, syscall.ECONNREFUSED), errors.Is(err, syscall.ECONNRESET), errors.Is(err, syscall.EPIPE),
		errors.As(err, &ne):
		return true
	}
	return false
}
