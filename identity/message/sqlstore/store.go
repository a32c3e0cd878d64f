package sqlstore

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"

	"gorm.io/gorm"

	"gatehouse/identity/message"
	"gatehouse/migrations/dberr"
	"gatehouse/migrations/dbpurge"
	"gatehouse/migrations/dbtime"
	"gatehouse/migrations/dbtx"
)

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

// Store is the message queue over the outbound_messages table. It runs
// the queue's statements through database/sql: they are few, fixed and on
// a loop, and the $n placeholders work in both databases.
type Store struct {
	db       *gorm.DB
	postgres bool
}

var _ message.Store = (*Store)(nil)

// New returns a Store over db, a migrated schema with outbound_messages.
func New(db *gorm.DB) (*Store, error) {
	if db == nil {
		return nil, errors.New("message: no database")
	}
	if _, err := db.DB(); err != nil {
		return nil, fmt.Errorf("message: %w", err)
	}
	return &Store{db: db, postgres: db.Dialector.Name() == "postgres"}, nil
}

// conn is the transaction ctx carries (dbtx), or the pool: a message
// queued inside a unit of work commits with it, or not at all.
func (s *Store) conn(ctx context.Context) (gorm.ConnPool, error) {
	c, err := dbtx.Conn(ctx, s.db)
	if err != nil {
		return nil, fmt.Errorf("message: %w", err)
	}
	return c, nil
}

const insertMessage = `INSERT INTO outbound_messages
	(id, kind, recipient, subject, body_text, body_html, status, attempts, next_attempt_at, created_at, expires_at)
	VALUES ($1, $2, $3, $4, $5, $6, 'queued', 0, $7, $7, $8)`

// Enqueue implements message.Outbox.
func (s *Store) Enqueue(ctx context.Context, m message.Message) error {
	var expiresAt any // NULL: no code or link
	if !m.ExpiresAt.IsZero() {
		expiresAt = dbtime.New(m.ExpiresAt)
	}
	c, err := s.conn(ctx)
	if err != nil {
		return err
	}
	if _, err := c.ExecContext(ctx, insertMessage, m.ID, m.Kind, m.To, m.Subject, m.Text, m.HTML,
		dbtime.New(m.CreatedAt), expiresAt); err != nil {
		return fmt.Errorf("message: queue %s: %w", m.Kind, dberr.Mark(err))
	}
	return nil
}

// Claim implements message.Store.
func (s *Store) Claim(ctx context.Context, now, lockedUntil time.Time) (message.Message, bool, error) {
	q := claimSQLite
	if s.postgres {
		q = claimPostgres
	}
	c, err := s.conn(ctx)
	if err != nil {
		return message.Message{}, false, err
	}
	return scanClaimed(c.QueryRowContext(ctx, q, dbtime.New(lockedUntil), dbtime.New(now)))
}

// ClaimWaiting implements message.Store.
func (s *Store) ClaimWaiting(ctx context.Context, kind string, lockedUntil time.Time) (message.Message, bool, error) {
	q := claimWaitingSQLite
	if s.postgres {
		q = claimWaitingPostgres
	}
	c, err := s.conn(ctx)
	if err != nil {
		return message.Message{}, false, err
	}
	return scanClaimed(c.QueryRowContext(ctx, q, dbtime.New(lockedUntil), kind))
}

func scanClaimed(r *sql.Row) (m message.Message, ok bool, err error) {
	var createdAt, expiresAt dbtime.Time
	err = r.Scan(&m.ID, &m.Kind, &m.To, &m.Subject, &m.Text, &m.HTML, &m.Attempts, &createdAt, &expiresAt)
	if errors.Is(err, sql.ErrNoRows) {
		return message.Message{}, false, nil
	}
	if err != nil {
		return message.Message{}, false, fmt.Errorf("message: claim: %w", err)
	}
	m.CreatedAt, m.ExpiresAt = createdAt.Time(), expiresAt.Time()
	return m, true, nil
}

// RetryWaiting implements message.Store.
func (s *Store) RetryWaiting(ctx context.Context, kind, recipient string, now time.Time) (int64, error) {
	c, err := s.conn(ctx)
	if err != nil {
		return 0, err
	}
	var res sql.Result
	if recipient != "" {
		res, err = c.ExecContext(ctx, retryWaitingToSQL, dbtime.New(now), kind, recipient)
	} else {
		res, err = c.ExecContext(ctx, retryWaitingSQL, dbtime.New(now), kind)
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
func (s *Store) update(ctx context.Context, query string, args ...any) (bool, error) {
	c, err := s.conn(ctx)
	if err != nil {
		return false, err
	}
	res, err := c.ExecContext(ctx, query, args...)
	if err != nil {
		return false, fmt.Errorf("message: record outcome: %w", err)
	}
	n, err := res.RowsAffected()
	if err != nil {
		return false, fmt.Errorf("message: record outcome: %w", err)
	}
	return n == 1, nil
}

// MarkSent implements message.Store.
func (s *Store) MarkSent(ctx context.Context, m message.Message, at time.Time) (bool, error) {
	return s.update(ctx, markSentSQL, dbtime.New(at), m.ID, m.Attempts)
}

// MarkRetry implements message.Store.
func (s *Store) MarkRetry(ctx context.Context, m message.Message, next time.Time, lastError string) (bool, error) {
	return s.update(ctx, markRetrySQL, dbtime.New(next), lastError, m.ID, m.Attempts)
}

// MarkFailed implements message.Store.
func (s *Store) MarkFailed(ctx context.Context, m message.Message, lastError string) (bool, error) {
	return s.update(ctx, markFailedSQL, lastError, m.ID, m.Attempts)
}

// MarkDropped implements message.Store.
func (s *Store) MarkDropped(ctx context.Context, m message.Message, reason string) (bool, error) {
	return s.update(ctx, markDroppedSQL, reason, m.ID, m.Attempts)
}

// Release implements message.Store.
func (s *Store) Release(ctx context.Context, m message.Message) (bool, error) {
	return s.update(ctx, releaseSQL, m.ID, m.Attempts)
}

// Purge implements message.Store, in batches (dbpurge).
func (s *Store) Purge(ctx context.Context, before time.Time) (int64, error) {
	n, err := dbpurge.Delete(ctx, s.db, "outbound_messages", "id",
		"status IN ('sent', 'failed') AND created_at < ?", 0, dbtime.New(before))
	if err != nil {
		return n, fmt.Errorf("message: %w", err)
	}
	return n, nil
}
