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

	"gatehouse/identity"
)

// Queue is the durable outbound queue. It implements identity.Notifier:
// sending a message renders it and inserts a row, nothing more; a Worker
// delivers it. The zero Now is time.Now. A Queue must not be copied after
// first use.
type Queue struct {
	Store    Store    // keeps the rows (identity/message/sqlstore)
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

// Post queues an item of a kind of its own, for the Sender a Worker has
// for that kind (Worker.Senders): to names its destination, body is its
// content (an event's JSON, say). Like SendMail, it joins the transaction
// ctx carries, so the item is queued exactly when the change that caused
// it commits. An item with a zero expires goes stale only at
// Worker.MaxAge. The built-in kinds are refused: they have their own
// methods, which check their recipients.
func (q *Queue) Post(ctx context.Context, kind, to, body string, expires time.Time) error {
	switch kind {
	case "", kindEmail, kindSMS, kindLogout:
		return fmt.Errorf("message: post: kind %q is empty or built in", kind)
	}
	return q.enqueue(ctx, kind, to, "", body, "", expires)
}

// enqueue inserts a message. A message carrying a code or link has the
// time it stops working as expires; the worker drops it unsent after that.
func (q *Queue) enqueue(ctx context.Context, kind, to, subject, text, html string, expires time.Time) error {
	if q.Store == nil {
		return errors.New("message: queue has no store")
	}
	id, err := uuid.NewV7()
	if err != nil {
		return fmt.Errorf("message: new id: %w", err)
	}
	m := Message{ID: id.String(), Kind: kind, To: to, Subject: subject, Text: text, HTML: html,
		CreatedAt: q.now(), ExpiresAt: expires}
	if err := q.Store.Enqueue(ctx, m); err != nil {
		return err
	}
	select {
	case q.wakeup() <- struct{}{}:
	default: // a nudge is already pending
	}
	return nil
}

// Purge deletes the rows of sent and failed messages created before
// before and returns how many it deleted. Queued messages are kept
// however old they are.
func (q *Queue) Purge(ctx context.Context, before time.Time) (int64, error) {
	return q.Store.Purge(ctx, before)
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
