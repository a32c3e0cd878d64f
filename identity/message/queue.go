package message

import (
	"context"
	"errors"
	"fmt"
	"net/mail"
	"regexp"
	"sync"
	"time"

	"github.com/google/uuid"
	"gorm.io/gorm"

	"gatehouse/identity"
	"gatehouse/migrations/dberr"
	"gatehouse/migrations/dbpurge"
)

// Queue is the durable outbound queue. It implements identity.Notifier:
// sending a message renders it and inserts a row, nothing more; a Worker
// delivers it. The zero Now is time.Now. A Queue must not be copied after
// first use.
type Queue struct {
	DB       *gorm.DB // migrated schema with outbound_messages
	Renderer Renderer // renders e-mails; needed by SendMail
	Now      func() time.Time

	once sync.Once
	wake chan struct{} // nudges a Worker in this process; buffered, one slot
}

var _ identity.Notifier = (*Queue)(nil)

// e164 is ITU-T E.164 as written with a leading "+": a country code that
// does not start with 0, and at most 15 digits in all.
var e164 = regexp.MustCompile(`^\+[1-9][0-9]{1,14}$`)

// SendMail renders m and queues it.
func (q *Queue) SendMail(ctx context.Context, m identity.Mail) error {
	if _, err := mail.ParseAddress(m.To); err != nil {
		return fmt.Errorf("message: queue %s: recipient is not an e-mail address", m.Kind)
	}
	if q.Renderer == nil {
		return errors.New("message: queue has no renderer")
	}
	subject, text, html, err := q.Renderer.RenderMail(m)
	if err != nil {
		return fmt.Errorf("message: render %s: %w", m.Kind, err)
	}
	return q.enqueue(ctx, kindEmail, m.To, subject, text, html, m.ExpiresAt)
}

// SendSMS queues a text message to an E.164 number.
func (q *Queue) SendSMS(ctx context.Context, m identity.SMS) error {
	if !e164.MatchString(m.To) {
		return errors.New("message: queue sms: recipient is not an E.164 number")
	}
	if m.Text == "" {
		return errors.New("message: queue sms: empty text")
	}
	return q.enqueue(ctx, kindSMS, m.To, "", m.Text, "", m.ExpiresAt)
}

const insertMessage = `INSERT INTO outbound_messages
	(id, kind, recipient, subject, body_text, body_html, status, attempts, next_attempt_at, created_at, expires_at)
	VALUES ($1, $2, $3, $4, $5, $6, 'queued', 0, $7, $7, $8)`

// enqueue inserts a message. A message carrying a code or link has the
// time it stops working as expires; the worker drops it unsent after that.
func (q *Queue) enqueue(ctx context.Context, kind, to, subject, text, html string, expires time.Time) error {
	id, err := uuid.NewV7()
	if err != nil {
		return fmt.Errorf("message: new id: %w", err)
	}
	sqlDB, err := q.DB.DB()
	if err != nil {
		return fmt.Errorf("message: %w", err)
	}
	now := dbTime(q.now())
	var expiresAt any // NULL: no code or link
	if !expires.IsZero() {
		expiresAt = dbTime(expires)
	}
	if _, err := sqlDB.ExecContext(ctx, insertMessage, id.String(), kind, to, subject, text, html, now, expiresAt); err != nil {
		return fmt.Errorf("message: queue %s: %w", kind, dberr.Mark(err))
	}
	select {
	case q.wakeup() <- struct{}{}:
	default: // a nudge is already pending
	}
	return nil
}

// Purge deletes the rows of sent and failed messages created before
// before, in batches (dbpurge), and returns how many it deleted. Queued
// messages are kept however old they are.
func (q *Queue) Purge(ctx context.Context, before time.Time) (int64, error) {
	n, err := dbpurge.Delete(ctx, q.DB, "outbound_messages", "id",
		"status IN ('sent', 'failed') AND created_at < ?", 0, dbTime(before))
	if err != nil {
		return n, fmt.Errorf("message: %w", err)
	}
	return n, nil
}

func (q *Queue) wakeup() chan struct{} {
	q.once.Do(func() { q.wake = make(chan struct{}, 1) })
	return q.wake
}

func (q *Queue) now() time.Time {
	if q.Now != nil {
		return q.Now()
	}
	return time.Now()
}

// dbTimeLayout is fixed-width UTC with microseconds, PostgreSQL's
// precision. SQLite compares times as text; a fixed width makes text order
// time order, so the claim's "next_attempt_at <= now" is right in both.
const dbTimeLayout = "2006-01-02T15:04:05.000000Z"

func dbTime(t time.Time) string {
	return t.UTC().Truncate(time.Microsecond).Format(dbTimeLayout)
}
