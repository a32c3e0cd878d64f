package message

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"
	"unicode/utf8"

	"gorm.io/gorm"
)

// claimed is a row taken by a worker: its content and the attempt count
// that fences every later update of it.
type claimed struct {
	id, kind, to, subject, text, html string
	attempts                          int
}

// claimSQL takes the oldest due row: a queued one whose time has come, or
// a sending one whose worker's lease ran out. It is one statement, so the
// claim is atomic. lock is "FOR UPDATE SKIP LOCKED" on PostgreSQL, where
// concurrent workers must pass over a row another is taking instead of
// waiting for it and then claiming it too; SQLite has one writer and
// neither needs nor knows the clause.
const claimSQL = `UPDATE outbound_messages
	SET status = 'sending', locked_until = $1, attempts = attempts + 1
	WHERE id = (SELECT id FROM outbound_messages
		WHERE (status = 'queued' AND next_attempt_at <= $2) OR (status = 'sending' AND locked_until <= $2)
		ORDER BY next_attempt_at LIMIT 1 %s)
	RETURNING id, kind, recipient, subject, body_text, body_html, attempts`

var (
	claimPostgres = fmt.Sprintf(claimSQL, "FOR UPDATE SKIP LOCKED")
	claimSQLite   = fmt.Sprintf(claimSQL, "")
)

// The outcomes. Each matches the attempt it records: a worker whose lease
// ran out and whose row was claimed again changes nothing.
const (
	markSentSQL = `UPDATE outbound_messages
		SET status = 'sent', sent_at = $1, locked_until = NULL, last_error = '',
			subject = '', body_text = '', body_html = ''
		WHERE id = $2 AND status = 'sending' AND attempts = $3`
	markRetrySQL = `UPDATE outbound_messages
		SET status = 'queued', next_attempt_at = $1, locked_until = NULL, last_error = $2
		WHERE id = $3 AND status = 'sending' AND attempts = $4`
	markFailedSQL = `UPDATE outbound_messages
		SET status = 'failed', locked_until = NULL, last_error = $1,
			subject = '', body_text = '', body_html = ''
		WHERE id = $2 AND status = 'sending' AND attempts = $3`
	// releaseSQL hands back a row whose attempt never happened (the
	// worker is shutting down): due now, the attempt not counted.
	releaseSQL = `UPDATE outbound_messages
		SET status = 'queued', locked_until = NULL, attempts = attempts - 1
		WHERE id = $1 AND status = 'sending' AND attempts = $2`
)

// store runs the queue's statements through database/sql: they are few,
// fixed and on a loop, and the $n placeholders work in both databases.
type store struct {
	db       *sql.DB
	postgres bool
}

func newStore(db *gorm.DB) (store, error) {
	if db == nil {
		return store{}, errors.New("message: no database")
	}
	sqlDB, err := db.DB()
	if err != nil {
		return store{}, fmt.Errorf("message: %w", err)
	}
	return store{db: sqlDB, postgres: db.Dialector.Name() == "postgres"}, nil
}

// claim takes one due row until lockedUntil, or returns ok=false when
// none is due at now.
func (s store) claim(ctx context.Context, now, lockedUntil time.Time) (m claimed, ok bool, err error) {
	q := claimSQLite
	if s.postgres {
		q = claimPostgres
	}
	err = s.db.QueryRowContext(ctx, q, dbTime(lockedUntil), dbTime(now)).
		Scan(&m.id, &m.kind, &m.to, &m.subject, &m.text, &m.html, &m.attempts)
	if errors.Is(err, sql.ErrNoRows) {
		return claimed{}, false, nil
	}
	if err != nil {
		return claimed{}, false, fmt.Errorf("message: claim: %w", err)
	}
	return m, true, nil
}

// update runs one outcome statement and reports whether it still owned
// the row.
func (s store) update(ctx context.Context, query string, args ...any) (bool, error) {
	res, err := s.db.ExecContext(ctx, query, args...)
	if err != nil {
		return false, fmt.Errorf("message: record outcome: %w", err)
	}
	n, err := res.RowsAffected()
	if err != nil {
		return false, fmt.Errorf("message: record outcome: %w", err)
	}
	return n == 1, nil
}

func (s store) markSent(ctx context.Context, m claimed, at time.Time) (bool, error) {
	return s.update(ctx, markSentSQL, dbTime(at), m.id, m.attempts)
}

func (s store) markRetry(ctx context.Context, m claimed, next time.Time, cause error) (bool, error) {
	return s.update(ctx, markRetrySQL, dbTime(next), shortError(cause), m.id, m.attempts)
}

func (s store) markFailed(ctx context.Context, m claimed, cause error) (bool, error) {
	return s.update(ctx, markFailedSQL, shortError(cause), m.id, m.attempts)
}

func (s store) release(ctx context.Context, m claimed) (bool, error) {
	return s.update(ctx, releaseSQL, m.id, m.attempts)
}

// maxErrorLen bounds last_error: enough for an SMTP reply or a provider's
// error code and message.
const maxErrorLen = 300

// shortError is the text kept in last_error: one line, bounded. Senders
// build their errors from status codes and provider error codes, never
// from a message body.
func shortError(err error) string {
	if err == nil {
		return ""
	}
	b := make([]byte, 0, maxErrorLen)
	for _, r := range err.Error() {
		if r == '\n' || r == '\r' || r == '\t' {
			r = ' '
		}
		if len(b)+utf8.RuneLen(r) > maxErrorLen {
			break
		}
		b = utf8.AppendRune(b, r)
	}
	return string(b)
}
