package message

import (
	"context"
	"time"
	"unicode/utf8"
)

// Message is one row of the outbound queue: an item waiting to go out,
// whatever its kind. Kind picks the sender; To, Subject, Text and HTML are
// what that sender needs (for a back-channel logout, To is the relying
// party's URI and Text the logout token).
type Message struct {
	ID, Kind, To, Subject, Text, HTML string
	// Attempts counts the claims of the row; it fences every update of a
	// claimed row, so a worker whose lease ran out cannot overwrite the
	// outcome of the worker that took the row over.
	Attempts int
	// CreatedAt is when the row was queued; ExpiresAt is when the code or
	// link it carries stops working (zero: it carries none).
	CreatedAt, ExpiresAt time.Time
}

// Outbox is where a Queue puts new messages. Enqueue joins the database
// transaction carried by ctx, if any, so that a message is queued exactly
// when the change that caused it commits (the transactional outbox).
type Outbox interface {
	// Enqueue inserts m with status queued, due at m.CreatedAt.
	Enqueue(ctx context.Context, m Message) error
}

// Store keeps the queue: the Outbox, and what a Worker needs to claim,
// record and purge rows. identity/message/sqlstore implements it over the
// outbound_messages table.
type Store interface {
	Outbox

	// Claim takes the oldest due row until lockedUntil: a queued one whose
	// time (next_attempt_at) has come at now, or a sending one whose lease
	// ran out. It counts the attempt. ok is false when none is due. One
	// row is claimed by one caller at a time, across processes.
	Claim(ctx context.Context, now, lockedUntil time.Time) (m Message, ok bool, err error)
	// ClaimWaiting takes, due or not, the queued row of kind that failed
	// before and is due soonest (the probe of a failing transport).
	ClaimWaiting(ctx context.Context, kind string, lockedUntil time.Time) (m Message, ok bool, err error)
	// RetryWaiting makes the queued rows of kind due at now, only those to
	// recipient when it is not empty, and returns how many there were.
	RetryWaiting(ctx context.Context, kind, recipient string, now time.Time) (int64, error)

	// The outcomes of a claimed row. Each reports whether the caller still
	// owned the row (its attempt count still matched); a false answer
	// changed nothing.

	// MarkSent records a delivery at at and blanks the row's content.
	MarkSent(ctx context.Context, m Message, at time.Time) (owned bool, err error)
	// MarkRetry queues the row again, due at next, keeping lastError.
	MarkRetry(ctx context.Context, m Message, next time.Time, lastError string) (owned bool, err error)
	// MarkFailed gives the row up for good and blanks its content.
	MarkFailed(ctx context.Context, m Message, lastError string) (owned bool, err error)
	// MarkDropped gives the row up unsent, the claim not counted as an
	// attempt, with reason in front of any earlier error.
	MarkDropped(ctx context.Context, m Message, reason string) (owned bool, err error)
	// Release hands back a row whose attempt never happened: due now, the
	// claim not counted.
	Release(ctx context.Context, m Message) (owned bool, err error)

	// Purge deletes the sent and failed rows queued before before and
	// returns how many; queued rows are kept however old.
	Purge(ctx context.Context, before time.Time) (int64, error)
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
