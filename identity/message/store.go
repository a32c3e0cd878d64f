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

// claimed is a row taken by a worker: its content, the attempt count
// that fences every later update of it, when it was queued and when the
// code or link it carries stops working (zero: it carries none).
type claimed struct {
	id, kind, to, subject, text, html string
	attempts                          int
	createdAt, expiresAt              time.Time
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
	RETURNING ` + claimedColumns

// claimWaitingSQL takes, before its time, the queued row of a kind that
// failed before and is due soonest: the probe of a transport that is
// failing (see Worker.ProbeInterval).
const claimWaitingSQL = `UPDATE outbound_messages
	SET status = 'sending', locked_until = $1, attempts = attempts + 1
	WHERE id = (SELECT id FROM outbound_messages
		WHERE status = 'queued' AND kind = $2 AND attempts > 0
		ORDER BY next_attempt_at LIMIT 1 %s)
	RETURNING ` + claimedColumns

const claimedColumns = `id, kind, recipient, subject, body_text, body_html, attempts, created_at, expires_at`

var (
	claimPostgres        = fmt.Sprintf(claimSQL, "FOR UPDATE SKIP LOCKED")
	claimSQLite          = fmt.Sprintf(claimSQL, "")
	claimWaitingPostgres = fmt.Sprintf(claimWaitingSQL, "FOR UPDATE SKIP LOCKED")
	claimWaitingSQLite   = fmt.Sprintf(claimWaitingSQL, "")
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
	// markDroppedSQL gives up on a row without an attempt (too old, or
	// its code expired): failed, the claim not counted as an attempt.
	markDroppedSQL = `UPDATE outbound_messages
		SET status = 'failed', locked_until = NULL, attempts = attempts - 1,
			last_error = CASE WHEN last_error = '' THEN CAST($1 AS text)
				ELSE substr(CAST($1 AS text) || '; last error: ' || last_error, 1, 300) END,
			subject = '', body_text = '', body_html = ''
		WHERE id = $2 AND status = 'sending' AND attempts = $3`
	// retryWaitingSQL makes the queued rows of a kind due now: their
	// transport works again. retryWaitingToSQL does it for the rows to
	// one recipient (a relying party's back-channel logout URI).
	retryWaitingSQL = `UPDATE outbound_messages SET next_attempt_at = $1
		WHERE status = 'queued' AND kind = $2 AND next_attempt_at > $1`
	retryWaitingToSQL = `UPDATE outbound_messages SET next_attempt_at = $1
		WHERE status = 'queued' AND kind = $2 AND recipient = $3 AND next_attempt_at > $1`
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
func (s store) claim(ctx context.Context, now, lockedUntil time.Time) (claimed, bool, error) {
	q := claimSQLite
	if s.postgres {
		q = claimPostgres
	}
	return scanClaimed(s.db.QueryRowContext(ctx, q, dbTime(lockedUntil), dbTime(now)))
}

// claimWaiting takes the queued row of kind that failed before and is
// due soonest, due or not, until lockedUntil; ok=false when there is none.
func (s store) claimWaiting(ctx context.Context, kind string, lockedUntil time.Time) (claimed, bool, error) {
	q := claimWaitingSQLite
	if s.postgres {
		q = claimWaitingPostgres
	}
	return scanClaimed(s.db.QueryRowContext(ctx, q, dbTime(lockedUntil), kind))
}

func scanClaimed(r *sql.Row) (m claimed, ok bool, err error) {
	err = r.Scan(&m.id, &m.kind, &m.to, &m.subject, &m.text, &m.html, &m.attempts,
		scanTime{&m.createdAt}, scanTime{&m.expiresAt})
	if errors.Is(err, sql.ErrNoRows) {
		return claimed{}, false, nil
	}
	if err != nil {
		return claimed{}, false, fmt.Errorf("message: claim: %w", err)
	}
	return m, true, nil
}

// retryWaiting makes the queued rows of m's transport due at now and
// returns how many there were.
func (s store) retryWaiting(ctx context.Context, m claimed, now time.Time) (int64, error) {
	var res sql.Result
	var err error
	if m.kind == kindLogout {
		res, err = s.db.ExecContext(ctx, retryWaitingToSQL, dbTime(now), m.kind, m.to)
	} else {
		res, err = s.db.ExecContext(ctx, retryWaitingSQL, dbTime(now), m.kind)
	}
	if err != nil {
		return 0, fmt.Errorf("message: retry waiting: %w", err)
	}
	n, err := res.RowsAffected()
	if err != nil {
		return 0, fmt.Errorf("message: retry waiting: %w", err)
	}
	return n, nil
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

func (s store) markDropped(ctx context.Context, m claimed, reason string) (bool, error) {
	return s.update(ctx, markDroppedSQL, reason, m.id, m.attempts)
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

// scanTime reads a time column from either database: PostgreSQL and the
// SQLite driver (datetime columns) give time.Time, text (the queue's own
// fixed-width layout) is parsed. NULL is the zero time.
type scanTime struct{ t *time.Time }

func (s scanTime) Scan(src any) error {
	switch v := src.(type) {
	case nil:
		*s.t = time.Time{}
	case time.Time:
		*s.t = v.UTC()
	case string:
		return s.parse(v)
	case []byte:
		return s.parse(string(v))
	default:
		return fmt.Errorf("cannot scan %T into a time", src)
	}
	return nil
}

func (s scanTime) parse(v string) error {
	t, err := time.Parse(time.RFC3339Nano, v)
	*s.t = t.UTC()
	return err
}
