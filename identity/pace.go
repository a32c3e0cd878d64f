package identity

import (
	"context"
	"time"
)

// Bounds of the pace of RequestPasswordReset's answers.
const (
	// InitialResetTime is what the pace assumes a reset that sends a link
	// takes before it has measured one: about two committed writes on a
	// busy server.
	InitialResetTime = 25 * time.Millisecond
	// MaxResetFloor caps the floor, so that a slow database does not make
	// every answer wait for the slowest past reset.
	MaxResetFloor = 2 * time.Second
)

// pace holds answers whose cases must not be told apart by their timing
// until a common floor has passed since they started.
//
// The cases of a reset request do different work: an unknown, disabled or
// address-less account costs one lookup; a real one also stores a token
// and queues the mail, two committed writes. Doing that work after the
// answer hides the difference, but then a crash loses mail that was
// already acknowledged. Doing decoy writes for unknown accounts would fill
// tables with rows that must never be sent, and still not cost exactly
// what real ones do. So every answer waits until the floor has passed: twice
// the moving average of the work of the full case (each new measure
// weighing 1/8, like Hasher.VerifyTime), at most MaxResetFloor. The full
// case usually finishes well inside twice its average, so all cases leave
// at the floor and their own work does not show; only a full case slowed
// past it (a database hiccup, which slows lookups too) stands out, and the
// per-account rate limit in front of the service leaves too few tries to
// tell such tails apart. Only the full case is measured, so requests for
// unknown accounts, however many, cannot pull the floor below it.
type pace struct{ work movingAverage }

// observe records the duration of one full case.
func (p *pace) observe(d time.Duration) { p.work.add(d, InitialResetTime) }

// floor is how long after its start an answer may leave.
func (p *pace) floor() time.Duration { return min(2*p.work.get(InitialResetTime), MaxResetFloor) }

// clock returns the Core's clock without dropping the monotonic
// reading that time.Now carries, for measuring durations.
func (s *Core) clock() time.Time {
	if s.Now != nil {
		return s.Now()
	}
	return time.Now()
}

// wait waits d through Sleep, or on a timer, or until ctx ends.
func (s *Core) wait(ctx context.Context, d time.Duration) {
	if d <= 0 {
		return
	}
	if s.Sleep != nil {
		s.Sleep(ctx, d)
		return
	}
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
	case <-ctx.Done():
	}
}
