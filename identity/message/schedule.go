package message

import (
	"context"
	"log/slog"
	"math/rand/v2"
	"sync"
	"time"
)

// The retry schedule. Each message that fails waits its own backoff,
// BaseBackoff doubling up to MaxBackoff, and is given up once MaxAge old;
// a message carrying a code or link is dropped once that expires. Per
// message, that alone would leave a queue to drain at its slowest
// message's pace after an outage: up to MaxBackoff. Two rules about the
// transport (the SMTP server, the SMS provider, one relying party's
// back-channel logout URI) shorten that:
//
//   - Recovery: when a delivery succeeds after the transport failed, the
//     messages waiting for it are due at once. It does not fire when the
//     transport also delivered within ProbeInterval before: then the
//     failures were the messages' own (a recipient's server refusing for
//     a while), and retrying them at every success would defeat their
//     backoff.
//   - Probe: while messages wait after failures, the e-mail and SMS
//     transports are tried at least every ProbeInterval, with the message
//     due soonest. So the first success after an outage comes within
//     about ProbeInterval plus PollInterval, even for one lone message,
//     and the recovery rule then sends the rest.
//
// The state is this worker's own: other instances sharing the database
// probe on their own, and a message that failed elsewhere (attempts > 1)
// counts as a failure of its transport when it gets through here.

// transport is what a worker knows of one transport.
type transport struct {
	lastAttempt time.Time // of any message, whatever its outcome
	lastSuccess time.Time
	lastLook    time.Time // when a probe last found nothing waiting
	failed      bool      // an attempt failed since the last success
}

// transports is a worker's state per transport, safe for concurrent use
// (Run and a direct DeliverDue may overlap).
type transports struct {
	mu sync.Mutex
	m  map[string]*transport
}

// get returns the state of key, created on first use; the caller holds mu.
func (ts *transports) get(key string) *transport {
	if ts.m == nil {
		ts.m = map[string]*transport{}
	}
	t := ts.m[key]
	if t == nil {
		t = &transport{}
		ts.m[key] = t
	}
	return t
}

// transportKey names the transport of a message: one per kind, and one
// per URI for back-channel logouts, each going to its own relying party.
func transportKey(kind, to string) string {
	if kind == kindLogout {
		return kindLogout + " " + to
	}
	return kind
}

// logoutRecipient narrows a recovery to m's relying party when m is a
// back-channel logout: its transport is that one URI.
func logoutRecipient(m Message) string {
	if m.Kind == kindLogout {
		return m.To
	}
	return ""
}

// probedKinds are the transports the worker probes: one server each.
// Back-channel logouts go to many servers, a few messages each, and keep
// to their backoff.
var probedKinds = []string{kindEmail, kindSMS}

// probe claims, ahead of its time, the waiting message of a transport
// that has not been tried for ProbeInterval, or returns ok=false.
func (w *Worker) probe(ctx context.Context, st Store, now, lockedUntil time.Time) (Message, bool, error) {
	every := orDefault(w.ProbeInterval, DefaultProbeInterval)
	for _, kind := range probedKinds {
		w.transports.mu.Lock()
		t := w.transports.get(kind)
		due := now.Sub(t.lastAttempt) >= every && now.Sub(t.lastLook) >= every
		w.transports.mu.Unlock()
		if !due {
			continue
		}
		// A claimed message is tried, or dropped as stale; then the next
		// one may be probed at once, since the transport was not tried.
		m, ok, err := st.ClaimWaiting(ctx, kind, lockedUntil)
		if err != nil || ok {
			return m, ok, err
		}
		w.transports.mu.Lock()
		t.lastLook = now // nothing waits: not asked again this interval
		w.transports.mu.Unlock()
	}
	return Message{}, false, nil
}

// attempted records an attempt at m that began at now; after a success
// that ends failures it makes the messages waiting for the same transport
// due at once.
func (w *Worker) attempted(ctx context.Context, st Store, log *slog.Logger, m Message, now time.Time, ok bool) error {
	quiet := orDefault(w.ProbeInterval, DefaultProbeInterval)
	w.transports.mu.Lock()
	t := w.transports.get(transportKey(m.Kind, m.To))
	t.lastAttempt = now
	recovered := false
	if ok {
		recovered = (t.failed || m.Attempts > 1) && now.Sub(t.lastSuccess) >= quiet
		t.failed, t.lastSuccess = false, now
	} else {
		t.failed = true
	}
	w.transports.mu.Unlock()
	if !recovered {
		return nil
	}
	n, err := st.RetryWaiting(ctx, m.Kind, logoutRecipient(m), w.now())
	if err != nil {
		return err
	}
	if n > 0 {
		log.InfoContext(ctx, "message delivery works again; the waiting messages are retried now", "retried", n)
	}
	return nil
}

// backoff is the delay after the given failed attempt (1 for the first):
// BaseBackoff doubled per earlier attempt, capped at MaxBackoff, then
// drawn at random from [d/2, d] ("equal jitter"). Successive ranges do not
// overlap until the cap, so delays never shrink.
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
