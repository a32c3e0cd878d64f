package message

import (
	"context"
	"errors"

	"gatehouse/identity"
)

// Renderer turns a transactional e-mail into its subject and bodies. The
// templates package implements it.
type Renderer interface {
	// RenderMail returns the subject, the plain-text body and the HTML
	// body of m.
	RenderMail(m identity.Mail) (subject, text, html string, err error)
}

// EmailSender delivers one rendered e-mail.
type EmailSender interface {
	// SendEmail sends a multipart/alternative message with a plain-text
	// and an HTML part to one recipient. It returns when the server has
	// accepted the message or ctx is done.
	SendEmail(ctx context.Context, to, subject, text, html string) error
}

// SMSSender delivers one text message.
type SMSSender interface {
	// SendSMS sends text to the E.164 number to. It returns when the
	// provider has accepted the message or ctx is done.
	SendSMS(ctx context.Context, to, text string) error
}

// Sender delivers the queued items of a kind other than the built-in
// e-mail, SMS and back-channel logout: the outbox's extension point (see
// the package doc). Give a Worker one per kind in Worker.Senders.
type Sender interface {
	// Deliver sends m: m.To and m.Text are what Queue.Post was given,
	// and m.ID stays the same across retries, so a receiver can drop
	// duplicates. An error wrapping ErrUndeliverable fails m for good;
	// any other is retried with backoff, like an e-mail.
	Deliver(ctx context.Context, m Message) error
}

// ErrUndeliverable marks a sender error that retrying cannot fix, such as
// a recipient the SMTP server or the SMS provider rejects for good. The
// worker marks such a message failed at once.
var ErrUndeliverable = errors.New("message: undeliverable")

// Kinds of queued messages (the kind column).
const (
	kindEmail  = "email"
	kindSMS    = "sms"
	kindLogout = "logout" // a back-channel logout token for a relying party
)

type ctxKey int

const messageIDKey ctxKey = iota

// withMessageID tells a sender which queue row it is delivering, so that
// retries of one message carry one id (the webhook's "id").
func withMessageID(ctx context.Context, id string) context.Context {
	return context.WithValue(ctx, messageIDKey, id)
}

// messageIDFrom returns the queue row id set by withMessageID, or "".
func messageIDFrom(ctx context.Context) string {
	id, _ := ctx.Value(messageIDKey).(string)
	return id
}
