package message

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"time"
)

// Defaults for the zero fields of a Worker.
const (
	DefaultMaxAttempts  = 8
	DefaultBaseBackoff  = 30 * time.Second
	DefaultMaxBackoff   = time.Hour
	DefaultSendTimeout  = 30 * time.Second
	DefaultPollInterval = 5 * time.Second
	DefaultRetention    = 7 * 24 * time.Hour
)

// leaseMargin is how much longer than SendTimeout a claim lasts: enough to
// record the outcome, so that a live worker never loses its row.
const leaseMargin = time.Minute

// purgeInterval is how often Run deletes rows past their retention.
const purgeInterval = time.Hour

// Worker delivers the queue. Any number of workers, in one process or in
// several sharing a PostgreSQL database, may run at once: each row is
// claimed by one of them at a time. Give it the *Queue the services send
// through, so that a message queued in this process wakes it at once.
type Worker struct {
	// Logout delivers back-channel logout tokens; nil uses HTTPLogoutSender.
	Logout LogoutSender

	// Observe, when set, is told every recorded outcome: the message kind
	// ("email" or "sms") and "sent", "retry" or "failed". cmd feeds it to
	// the metrics, so delivery failures are visible there as well as in
	// the log.
	Observe func(kind, outcome string)

	Queue  *Queue
	Email  EmailSender
	SMS    SMSSender
	Logger *slog.Logger // nil discards
	Now    func() time.Time

	// MaxAttempts is how many attempts a message gets before it is
	// marked failed.
	MaxAttempts int
	// BaseBackoff is the delay before the second attempt; it doubles for
	// each attempt after that, up to MaxBackoff. Each delay is drawn at
	// random from its upper half, so that messages failing together do
	// not retry together.
	BaseBackoff time.Duration
	MaxBackoff  time.Duration
	// SendTimeout bounds one delivery attempt.
	SendTimeout time.Duration
	// PollInterval is how often Run looks for due messages queued by
	// other processes or due for a retry; a message queued through the
	// same Queue wakes it at once.
	PollInterval time.Duration
	// Retention is how long the rows of sent and failed messages, their
	// bodies already blanked, are kept.
	Retention time.Duration
}

// Run delivers messages until ctx is done. Database errors are logged and
// the loop carries on at the next poll.
func (w *Worker) Run(ctx context.Context) {
	tick := time.NewTicker(orDefault(w.PollInterval, DefaultPollInterval))
	defer tick.Stop()
	var lastPurge time.Time
	for {
		if _, _, err := w.DeliverDue(ctx); err != nil && ctx.Err() == nil {
			w.logger().ErrorContext(ctx, "message queue pass failed", "err", err)
		}
		if now := w.now(); now.Sub(lastPurge) >= purgeInterval && ctx.Err() == nil {
			lastPurge = now
			n, err := w.Queue.Purge(ctx, now.Add(-orDefault(w.Retention, DefaultRetention)))
			switch {
			case err != nil && ctx.Err() == nil:
				w.logger().ErrorContext(ctx, "message queue purge failed", "err", err)
			case n > 0:
				w.logger().InfoContext(ctx, "message queue purged", "deleted", n)
			}
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
// messages one at a time until none is due. sent counts the messages
// delivered and failed the attempts that did not deliver (retried later
// or given up). Sender errors are logged, not returned; err is a database
// error or ctx's.
func (w *Worker) DeliverDue(ctx context.Context) (sent, failed int, err error) {
	if w.Queue == nil || w.Email == nil || w.SMS == nil {
		return 0, 0, errors.New("message: worker needs a Queue, an Email and an SMS sender")
	}
	st, err := newStore(w.Queue.DB)
	if err != nil {
		return 0, 0, err
	}
	lease := orDefault(w.SendTimeout, DefaultSendTimeout) + leaseMargin
	for {
		if err := ctx.Err(); err != nil {
			return sent, failed, err
		}
		now := w.now()
		m, ok, err := st.claim(ctx, now, now.Add(lease))
		if err != nil || !ok {
			return sent, failed, err
		}
		delivered, err := w.deliver(ctx, st, m)
		if err != nil {
			return sent, failed, err
		}
		if delivered {
			sent++
		} else {
			failed++
		}
	}
}

// deliver makes one attempt at m and records the outcome.
func (w *Worker) deliver(ctx context.Context, st store, m claimed) (bool, error) {
	log := w.logger().With("message_id", m.id, "kind", m.kind, "attempt", m.attempts)
	maxAttempts := w.MaxAttempts
	if maxAttempts <= 0 {
		maxAttempts = DefaultMaxAttempts
	}
	var sendErr error
	if m.attempts > maxAttempts {
		// Claimed again after the last attempt's worker died mid-send.
		sendErr = errors.New("no attempts left after an interrupted attempt")
	} else {
		sendErr = w.send(ctx, m)
	}

	var owned bool
	var err error
	switch {
	case sendErr == nil:
		owned, err = st.markSent(ctx, m, w.now())
		if err == nil && owned {
			log.InfoContext(ctx, "message sent")
		}
	case ctx.Err() != nil:
		// Shutting down: the attempt was cut short by us, not by the
		// peer. Hand the row back; if that fails too, the lease runs out.
		rctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 5*time.Second)
		defer cancel()
		if _, err := st.release(rctx, m); err != nil {
			log.WarnContext(ctx, "message not released at shutdown; it is retried when its lease ends", "err", err)
		}
		return false, ctx.Err()
	case m.attempts >= maxAttempts || errors.Is(sendErr, ErrUndeliverable):
		owned, err = st.markFailed(ctx, m, sendErr)
		if err == nil && owned {
			log.ErrorContext(ctx, "message delivery failed for good", "err", shortError(sendErr))
		}
	default:
		next := w.now().Add(w.backoff(m.attempts))
		owned, err = st.markRetry(ctx, m, next, sendErr)
		if err == nil && owned {
			log.WarnContext(ctx, "message delivery failed; will retry", "err", shortError(sendErr),
				"next_attempt_at", next.UTC())
		}
	}
	if err != nil {
		return false, err
	}
	if !owned {
		log.WarnContext(ctx, "message outcome not recorded: its lease ran out and another worker took it over")
	} else if w.Observe != nil {
		outcome := "sent"
		switch {
		case sendErr == nil:
		case m.attempts >= maxAttempts || errors.Is(sendErr, ErrUndeliverable):
			outcome = "failed"
		default:
			outcome = "retry"
		}
		w.Observe(m.kind, outcome)
	}
	return sendErr == nil, nil
}

// send hands m to its sender, bounded by SendTimeout.
func (w *Worker) send(ctx context.Context, m claimed) error {
	ctx, cancel := context.WithTimeout(withMessageID(ctx, m.id), orDefault(w.SendTimeout, DefaultSendTimeout))
	defer cancel()
	switch m.kind {
	case kindEmail:
		return w.Email.SendEmail(ctx, m.to, m.subject, m.text, m.html)
	case kindSMS:
		return w.SMS.SendSMS(ctx, m.to, m.text)
	case kindLogout:
		if w.Logout == nil {
			return (&HTTPLogoutSender{}).SendLogout(ctx, m.to, m.text)
		}
		return w.Logout.SendLogout(ctx, m.to, m.text)
	}
	return fmt.Errorf("unknown kind %q: %w", m.kind, ErrUndeliverable)
}

// backoff is the delay after the given failed attempt (1 for the first):
// BaseBackoff doubled per earlier attempt, capped at MaxBackoff, then
// drawn at random from [d/2, d] ("equal jitter"). Successive ranges do not
// overlap, so delays never shrink.
func (w *Worker) backoff(attempt int) time.Duration {
	d := orDefault(w.BaseBackoff, DefaultBaseBackoff)
	limit := max(orDefault(w.MaxBackoff, DefaultMaxBackoff), d)
	for i := 1; i < attempt && d < limit; i++ {
		d *= 2
	}
	d = min(d, limit)
	half := d / 2
	return half + rand.N(d-half+1)
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
