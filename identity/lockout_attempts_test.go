package identity_test

import (
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"gatehouse/identity"
)

// TestLockoutNoOracle: on a locked account, temporary or permanent, the
// right password gets exactly the answer of a wrong one, neither is
// checked against the hash, and both wait as long as a check takes.
func TestLockoutNoOracle(t *testing.T) {
	for _, tc := range []struct {
		name   string
		policy identity.LockoutPolicy
	}{
		{"temporary", identity.LockoutPolicy{}},
		{"permanent", identity.LockoutPolicy{PermanentAfter: 1}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			eachEnv(t, func(t *testing.T, e *env) {
				e.svc.Lockout = tc.policy
				u := lockEnv(t, e)
				if tc.policy.PermanentAfter > 0 {
					e.authFail(t, 5)
					e.unlockMail(t)
					e.clock.Advance(time.Minute)
					e.events.Take()
				}
				e.authFail(t, 5)
				e.unlockMail(t)
				want := []string{"lockout " + u.ID + " password permanent=" + map[bool]string{true: "true", false: "false"}[tc.policy.PermanentAfter > 0]}
				if diff := cmp.Diff(want, e.events.Take()); diff != "" {
					t.Errorf("events of the failure that locked mismatch (-want +got):\n%s", diff)
				}
				for range 3 {
					e.authRefused(t, u.ID, alice.Password)
					e.authRefused(t, u.ID, wrongPassword)
				}
				e.noMail(t)
			})
		})
	}
}

// TestLockoutCountsWhileLocked: attempts during a lockout count; when
// MaxFailures of them came, the first attempt after the lockout, even
// with the right password, is refused unchecked and starts the next,
// longer lockout.
func TestLockoutCountsWhileLocked(t *testing.T) {
	eachEnv(t, func(t *testing.T, e *env) {
		u := lockEnv(t, e)
		e.authFail(t, 5)
		e.unlockMail(t)
		for range 5 {
			e.authRefused(t, u.ID, wrongPassword)
		}
		e.clock.Advance(time.Minute)
		if e.user(t, u.ID).LockedAt(e.clock.Now()) {
			t.Fatal("still locked after the first lockout's minute")
		}
		verified := e.svc.Hasher.Verifications()
		if u, ok, err := e.svc.Authenticate(t.Context(), alice.Username, alice.Password); u != nil || ok || err != nil {
			t.Fatalf("Authenticate after guessing through the lockout = %v, %v, %v; want nil, false, nil", u, ok, err)
		}
		if n := e.svc.Hasher.Verifications() - verified; n != 0 {
			t.Errorf("the attempt after guessing through the lockout was checked (%d verifications)", n)
		}
		want := []string{
			"lockout " + u.ID + " password permanent=false",
			"locked attempt " + u.ID,
			"sleep " + e.svc.Hasher.VerifyTime().String(),
		}
		if diff := cmp.Diff(want, e.events.Take()); diff != "" {
			t.Errorf("events mismatch (-want +got):\n%s", diff)
		}
		if got := e.user(t, u.ID).LockedUntil; got == nil || !got.Equal(e.clock.Now().Add(2*time.Minute)) {
			t.Errorf("LockedUntil = %v, want the second lockout's 2 minutes from now", got)
		}
		e.unlockMail(t)

		// Fewer than MaxFailures while locked leave the owner their
		// attempts after it.
		e.clock.Advance(time.Minute)
		e.authRefused(t, u.ID, wrongPassword) // counted towards the next
		e.clock.Advance(time.Minute)
		e.authFail(t, 3)
		e.authOK(t)
	})
}

// TestLockoutParallelGuesses: of 50 concurrent wrong passwords at most
// MaxFailures are checked against the hash; the rest are refused
// unchecked, one lockout starts and one mail goes out.
func TestLockoutParallelGuesses(t *testing.T) {
	eachEnv(t, func(t *testing.T, e *env) {
		u := lockEnv(t, e)
		verified := e.svc.Hasher.Verifications()
		var wg sync.WaitGroup
		for range 50 {
			wg.Go(func() {
				if u, ok, err := e.svc.Authenticate(t.Context(), alice.Username, wrongPassword); u != nil || ok || err != nil {
					t.Errorf("Authenticate(wrong password) = %v, %v, %v; want nil, false, nil", u, ok, err)
				}
			})
		}
		wg.Wait()
		if n := e.svc.Hasher.Verifications() - verified; n > identity.DefaultMaxFailures {
			t.Errorf("%d of 50 concurrent guesses were checked, want at most %d", n, identity.DefaultMaxFailures)
		}
		if !e.user(t, u.ID).LockedAt(e.clock.Now()) {
			t.Error("not locked after 50 concurrent guesses")
		}
		e.unlockMail(t)
		lockouts, refused := 0, 0
		for _, ev := range e.events.Take() {
			switch ev {
			case "lockout " + u.ID + " password permanent=false":
				lockouts++
			case "locked attempt " + u.ID:
				refused++
			}
		}
		if lockouts != 1 || refused < 50-identity.DefaultMaxFailures {
			t.Errorf("%d lockouts and %d refused attempts reported, want 1 and at least %d", lockouts, refused, 50-identity.DefaultMaxFailures)
		}
	})
}

// TestPasswordResetEndsLockout: a completed reset ends a lockout,
// temporary or permanent, and forgets the failures; the owner signs in
// with the new password at once.
func TestPasswordResetEndsLockout(t *testing.T) {
	eachEnv(t, func(t *testing.T, e *env) {
		ctx := t.Context()
		e.svc.Lockout = identity.LockoutPolicy{PermanentAfter: 1}
		u := lockEnv(t, e)
		e.authFail(t, 5)
		e.unlockMail(t)
		e.clock.Advance(time.Minute)
		e.authFail(t, 5)
		e.unlockMail(t)
		e.authRefused(t, u.ID, alice.Password)
		_, token := e.requestReset(t, alice.Username)
		e.events.Take() // the request's answer waits for the pace (see pace)
		if _, err := e.svc.ResetPassword(ctx, token, newPassword); err != nil {
			t.Fatalf("ResetPassword: %v", err)
		}
		e.onlyMail(t, identity.MailPasswordChanged)
		if diff := cmp.Diff([]string{"unlock " + u.ID + " by password_reset"}, e.events.Take()); diff != "" {
			t.Errorf("ResetPassword events mismatch (-want +got):\n%s", diff)
		}
		if got := e.user(t, u.ID); got.LockedAt(e.clock.Now()) || got.LockedPermanently {
			t.Fatalf("after the reset: LockedUntil %v, permanent %v; want unlocked", got.LockedUntil, got.LockedPermanently)
		}
		// The counts start from zero: 4 failures and the new password.
		e.authFail(t, 4)
		if _, ok, err := e.svc.Authenticate(ctx, alice.Username, newPassword); !ok || err != nil {
			t.Fatalf("Authenticate(new password) = %v, %v; want true, nil", ok, err)
		}
		// A reset of an account that is not locked reports no unlock.
		e.clock.Advance(time.Hour) // past the resend cooldown
		_, token = e.requestReset(t, alice.Username)
		e.events.Take()
		if _, err := e.svc.ResetPassword(ctx, token, "yet another passphrase"); err != nil {
			t.Fatalf("ResetPassword: %v", err)
		}
		e.onlyMail(t, identity.MailPasswordChanged)
		if got := e.events.Take(); len(got) != 0 {
			t.Errorf("events of a reset without a lockout = %v, want none", got)
		}
	})
}
