package identity_test

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"gatehouse/identity"
	"gatehouse/migrations/dbtest"
)

// slowNotifier queues through next after the clock moves on by took: a
// queue write that costs time.
type slowNotifier struct {
	identity.Notifier
	clock *clock
	took  time.Duration
}

func (n slowNotifier) SendMail(ctx context.Context, m identity.Mail) error {
	n.clock.Advance(n.took)
	return n.Notifier.SendMail(ctx, m)
}

// pacedEnv is an env whose queue writes take took on its clock and whose
// waits move that clock on, so a test reads how long after its start
// each answer left.
func pacedEnv(t *testing.T, e *env, took time.Duration) *slowNotifier {
	t.Helper()
	n := &slowNotifier{Notifier: e.notifier, clock: e.clock, took: took}
	e.svc.Notifier = n
	e.svc.Sleep = func(_ context.Context, d time.Duration) { e.clock.Advance(d) }
	return n
}

// answerTime is how long RequestPasswordReset(login) took on e's clock,
// which is what an attacker timing the answer sees.
func answerTime(t *testing.T, e *env, login string) time.Duration {
	t.Helper()
	start := e.clock.Now()
	if err := e.svc.RequestPasswordReset(t.Context(), login); err != nil {
		t.Fatalf("RequestPasswordReset(%q): %v", login, err)
	}
	return e.clock.Now().Sub(start)
}

// An attacker who times "forgot password" answers learns nothing: a known
// account (lookup, token and queue writes), the same account again within
// the cooldown, an unknown name or address, a disabled account and one
// without an address all answer at the same moment after the request,
// although only the first does the writes.
func TestPasswordResetPace(t *testing.T) {
	eachEnv(t, func(t *testing.T, e *env) {
		// The full case takes what the pace expects before it has
		// measured one, so the floor stays where it started.
		pacedEnv(t, e, identity.InitialResetTime)
		ctx := t.Context()
		mustRegister(t, e.svc, identity.RegisterInput{Username: "hatter", Email: "hatter@example.com", Password: "a decent passphrase"})
		queen := mustRegister(t, e.svc, identity.RegisterInput{Username: "queen", Email: "queen@example.com", Password: "off with their heads"})
		queen.Status = identity.StatusDisabled
		if err := e.svc.Users.UpdateUser(ctx, queen); err != nil {
			t.Fatal(err)
		}
		if _, err := e.svc.CreateUser(ctx, identity.CreateInput{Username: "noemail", Password: "a decent passphrase"}); err != nil {
			t.Fatal(err)
		}
		e.notifier.Mails()

		logins := []string{"nobody", "hatter", "hatter", "nobody@example.com", "queen", "noemail"}
		var got, want []string
		for _, login := range logins {
			got = append(got, fmt.Sprintf("%s %v", login, answerTime(t, e, login)))
			want = append(want, fmt.Sprintf("%s %v", login, 2*identity.InitialResetTime))
		}
		if diff := cmp.Diff(want, got); diff != "" {
			t.Errorf("answer times (-want +got):\n%s", diff)
		}
		if mails := e.notifier.Mails(); len(mails) != 1 || mails[0].To != "hatter@example.com" {
			t.Fatalf("mails %+v, want one to hatter", mails)
		}
	})
}

// The floor follows the real work: once full cases take 100 ms, an unknown
// account answers after about 200 ms, later than a full case's work; any
// number of requests for unknown accounts leave it where it is; a full case
// slower than the floor leaves when its work is done, and the floor never
// passes MaxResetFloor.
func TestPasswordResetPaceFollowsWork(t *testing.T) {
	e := newEnv(t, dbtest.MustOpen(t, "sqlite"))
	slow := pacedEnv(t, e, 100*time.Millisecond)
	mustRegister(t, e.svc, identity.RegisterInput{Username: "hatter", Email: "hatter@example.com", Password: "a decent passphrase"})
	e.notifier.Mails()
	reset := func() time.Duration {
		e.clock.Advance(identity.DefaultResendCooldown) // past the cooldown
		d := answerTime(t, e, "hatter")
		e.onlyMail(t, identity.MailPasswordReset)
		return d
	}
	for range 40 {
		reset()
	}
	floor := answerTime(t, e, "nobody")
	if floor < 190*time.Millisecond || floor > 200*time.Millisecond {
		t.Errorf("unknown account answers after %v once full cases take 100ms, want about 200ms", floor)
	}
	for range 100 {
		if got := answerTime(t, e, "nobody"); got != floor {
			t.Fatalf("unknown requests moved the floor: %v, then %v", floor, got)
		}
	}
	if got := reset(); got != floor {
		t.Errorf("full case answers after %v, unknown after %v", got, floor)
	}

	slow.took = 5 * time.Second // the database is slow
	if got := reset(); got != slow.took {
		t.Errorf("full case slower than the floor answers after %v, want when done (%v)", got, slow.took)
	}
	for range 40 {
		reset()
	}
	if got := answerTime(t, e, "nobody"); got != identity.MaxResetFloor {
		t.Errorf("unknown account answers after %v with a slow database, want the cap %v", got, identity.MaxResetFloor)
	}
}
