package message

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"time"
)

// Defaults for the zero fields of a Worker.
const (
	DefaultMaxAge        = 24 * time.Hour
	DefaultBaseBackoff   = 5 * time.Second
	DefaultMaxBackoff    = 2 * time.Minute
	DefaultProbeInterval = 15 * time.Second
	DefaultSendTimeout   = 30 * time.Second
	DefaultPollInterval  = 5 * time.Second
)

// DefaultRetention is how long the rows of sent and failed messages,
// their bodies already blanked, are kept before Queue.Purge deletes them.
const DefaultRetention = 7 * 24 * time.Hour

// leaseMargin is how much longer than SendTimeout a claim lasts: enough to
// record the outcome, so that a live worker never loses its row.
const leaseMargin = time.Minute

// Worker delivers the queue. Any number of workers, in one process or in
// several sharing a PostgreSQL database, may run at once: each row is
// claimed by one of them at a time. Give it the *Queue the services send
// through, so that a message queued in this process wakes it at once.
// A Worker must not be copied after first use.
type Worker struct {
	// Logout delivers back-channel logout tokens; nil uses HTTPLogoutSender.
	Logout LogoutSender

	// Observe, when set, is told every recorded outcome: the message kind
	// ("email", "sms" or "logout") and "sent", "retry", "failed" or
	// "expired" (dropped unsent: its code or link no longer works). cmd
	// feeds it to the metrics, so delivery failures are visible there as
	// well as in the log.
	Observe func(kind, outcome string)

	Queue *Queue
	Email EmailSender
	SMS   SMSSender
	// Senders deliver the items of other kinds, posted with Queue.Post,
	// by kind. An item of a kind without a Sender fails for good.
	Senders map[string]Sender
	Logger  *slog.Logger // nil discards
	// JobFailed, when set, is told of a pass that failed on the
	// database instead of the log: the server reports a database outage
	// once, not at every poll.
	JobFailed func(ctx context.Context, msg string, err error)
	Now       func() time.Time

	// MaxAge is how long a message is tried: one not delivered by then
	// is marked failed, however many attempts it had.
	MaxAge time.Duration
	// BaseBackoff is the delay before the second attempt; it doubles for
	// each attempt after that, up to MaxBackoff. Each delay is drawn at
	// random from its upper half, so that messages failing together do
	// not retry together.
	BaseBackoff time.Duration
	MaxBackoff  time.Duration
	// ProbeInterval bounds how long a failing transport (the SMTP server,
	// the SMS provider) goes untried while messages wait for it: when
	// none of its messages was tried for this long, the one due soonest
	// is tried early. Once a delivery succeeds after failures, the other
	// messages waiting for the same transport are due at once (see
	// schedule.go), so the queue drains within about ProbeInterval plus
	// PollInterval of the transport's return, whatever their backoff.
	ProbeInterval time.Duration
	// SendTimeout bounds one delivery attempt.
	SendTimeout time.Duration
	// PollInterval is how often Run looks for due messages queued by
	// other processes or due for a retry; a message queued through the
	// same Queue wakes it at once.
	PollInterval time.Duration

	transports transports
	// pass is held by each pass over the queue (see Drain).
	pass sync.Mutex
}

// failed reports a failed pass through JobFailed or the log.
func (w *Worker) failed(ctx context.Context, msg string, err error) {
	if w.JobFailed != nil {
		w.JobFailed(ctx, msg, err)
		return
	}
	w.logger().ErrorContext(ctx, msg, "error", err)
}

// Run delivers messages until ctx is done. Database errors are logged and
// the loop carries on at the next poll.
func (w *Worker) Run(ctx context.Context) {
	tick := time.NewTicker(orDefault(w.PollInterval, DefaultPollInterval))
	defer tick.Stop()
	for {
		if _, _, err := w.DeliverDue(ctx); err != nil && ctx.Err() == nil {
			w.failed(ctx, "message queue pass failed", err)
		}
		select {
		case <-ctx.Done():
			return
		case <-tick.C:
		case <-w.Queue.wakeup():
		}
	}
}

// DeliverDue makes one pass over the queue: it claims and delivers due
// messages one at a time until none is due, and probes a failing
// transport whose probe is due. sent counts the messages delivered and
// failed the messages not delivered (retried later, given up or dropped).
// Sender errors are logged, not returned; err is a database error or
// ctx's. A pass starts once the one under way on w, if any, has ended.
func (w *Worker) DeliverDue(ctx context.Context) (sent, failed int, err error) {
	if w.Queue == nil || w.Queue.Store == nil || w.Email == nil || w.SMS == nil {
		return 0, 0, errors.New("message: worker needs a Queue with a Store, an Email and an SMS sender")
	}
	w.pass.Lock()
	defer w.pass.Unlock()
	st := w.Queue.Store
	lease := orDefault(w.SendTimeout, DefaultSendTimeout) + leaseMargin
	for {
		if err := ctx.Err(); err != nil {
			return sent, failed, err
		}
		now := w.now()
		m, ok, err := st.Claim(ctx, now, now.Add(lease))
		if err == nil && !ok {
			m, ok, err = w.probe(ctx, st, now, now.Add(lease))
		}
		if err != nil || !ok {
			return sent, failed, err
		}
		delivered, err := w.deliver(ctx, st, m)
		switch {
		case delivered:
			sent++
		case err == nil:
			failed++
		}
		if err != nil {
			return sent, failed, err
		}
	}
}

// Drain returns once every message due when it was called has had its
// attempt: it waits for the pass Run may have under way (holding a message
// it claimed), then makes one of its own. Tests call it before they check
// what was sent, or that nothing was: without it such a check could pass
// while a message is still on its way.
func (w *Worker) Drain(ctx context.Context) error {
	_, _, err := w.DeliverDue(ctx)
	return err
}

// deliver makes one attempt at m, or drops it when it is too old or its
// code expired, and records the outcome.
func (w *Worker) deliver(ctx context.Context, st Store, m Message) (bool, error) {
	log := w.logger().With("message_id", m.ID, "kind", m.Kind, "attempt", m.Attempts)
	now := w.now()
	if reason, outcome := w.stale(m, now); reason != "" {
		owned, err := st.MarkDropped(ctx, m, reason)
		if err != nil || !owned {
			return false, w.notOwned(ctx, log, owned, err)
		}
		if outcome == outcomeExpired {
			log.WarnContext(ctx, "message dropped unsent: its code or link expired before it could be delivered",
				"expired_at", m.ExpiresAt, "queued_at", m.CreatedAt)
		} else {
			log.ErrorContext(ctx, "message delivery failed for good: not delivered within its maximum age",
				"queued_at", m.CreatedAt, "max_age", orDefault(w.MaxAge, DefaultMaxAge).String())
		}
		w.observe(m.Kind, outcome)
		return false, nil
	}

	sendErr := w.send(ctx, m)
	var owned bool
	var err error
	outcome := outcomeSent
	switch {
	case sendErr == nil:
		owned, err = st.MarkSent(ctx, m, w.now())
		if err == nil && owned {
			log.InfoContext(ctx, "message sent")
		}
	case ctx.Err() != nil:
		// Shutting down: the attempt was cut short by us, not by the
		// peer. Hand the row back; if that fails too, the lease runs out.
		rctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 5*time.Second)
		defer cancel()
		if _, err := st.Release(rctx, m); err != nil {
			log.WarnContext(ctx, "message not released at shutdown; it is retried when its lease ends", "err", err)
		}
		return false, ctx.Err()
	case errors.Is(sendErr, ErrUndeliverable):
		outcome = outcomeFailed
		owned, err = st.MarkFailed(ctx, m, shortError(sendErr))
		if err == nil && owned {
			log.ErrorContext(ctx, "message delivery failed for good", "err", shortError(sendErr))
		}
	default:
		outcome = outcomeRetry
		next := now.Add(w.backoff(m.Attempts))
		owned, err = st.MarkRetry(ctx, m, next, shortError(sendErr))
		if err == nil && owned {
			log.WarnContext(ctx, "message delivery failed; will retry", "err", shortError(sendErr),
				"next_attempt_at", next.UTC())
		}
	}
	if err != nil || !owned {
		return sendErr == nil && err == nil, w.notOwned(ctx, log, owned, err)
	}
	w.observe(m.Kind, outcome)
	if outcome == outcomeSent || outcome == outcomeRetry {
		err = w.attempted(ctx, st, log, m, now, sendErr == nil)
	}
	return sendErr == nil, err
}

// Outcomes told to Observe.
const (
	outcomeSent    = "sent"
	outcomeRetry   = "retry"
	outcomeFailed  = "failed"
	outcomeExpired = "expired"
)

// stale says why m must not be sent any more, with its outcome, or "".
func (w *Worker) stale(m Message, now time.Time) (reason, outcome string) {
	switch {
	case !m.ExpiresAt.IsZero() && !now.Before(m.ExpiresAt):
		return "expired before delivery: its code or link no longer works", outcomeExpired
	case now.Sub(m.CreatedAt) >= orDefault(w.MaxAge, DefaultMaxAge):
		return "not delivered within its maximum age", outcomeFailed
	}
	return "", ""
}

// notOwned turns a failed or lost outcome update into DeliverDue's
// result: a database error is returned; a row whose lease ran out and
// which another worker took over is logged and skipped.
func (w *Worker) notOwned(ctx context.Context, log *slog.Logger, owned bool, err error) error {
	if err != nil {
		return err
	}
	if !owned {
		log.WarnContext(ctx, "message outcome not recorded: its lease ran out and another worker took it over")
	}
	return nil
}

func (w *Worker) observe(kind, outcome string) {
	if w.Observe != nil {
		w.Observe(kind, outcome)
	}
}

// send hands m to its sender, bounded by SendTimeout.
func (w *Worker) send(ctx context.Context, m Message) error {
	ctx, cancel := context.WithTimeout(withMessageID(ctx, m.ID), orDefault(w.SendTimeout, DefaultSendTimeout))
	defer cancel()
	switch m.Kind {
	case kindEmail:
		return w.Email.SendEmail(ctx, m.To, m.Subject, m.Text, m.HTML)
	case kindSMS:
		return w.SMS.SendSMS(ctx, m.To, m.Text)
	case kindLogout:
		if w.Logout == nil {
			return (&HTTPLogoutSender{}).SendLogout(ctx, m.To, m.Text)
		}
		return w.Logout.SendLogout(ctx, m.To, m.Text)
	}
	if s := w.Senders[m.Kind]; s != nil {
		return s.Deliver(ctx, m)
	}
	return fmt.Errorf("unknown kind %q: %w", m.Kind, ErrUndeliverable)
}

func (w *Worker) now() time.Time {
	if w.Now != nil {
		return w.Now()
	}
	return time.Now()
}

func (w *Worker) logger() *slog.Logger {
	if w.Logger != nil {
		return w.Logger
	}
	return slog.New(slog.DiscardHandler)
}

func orDefault(d, def time.Duration) time.Duration {
	if d > 0 {
		return d
	}
	return def
}
