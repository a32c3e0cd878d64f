package identity_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"gatehouse/identity"
)

// TestAuthenticateBusyIsNoAttempt: a sign-in refused because every
// hashing worker is busy (ErrBusy), or given up by its caller while it
// waited for one, checks no password, neither succeeds nor counts as a
// failure: a flood of sign-ins cannot lock the owner out. Known and
// unknown logins alike get ErrBusy.
func TestAuthenticateBusyIsNoAttempt(t *testing.T) {
	eachEnv(t, func(t *testing.T, e *env) {
		u := lockEnv(t, e)
		e.events.Take()
		maxFailures := identity.DefaultMaxFailures

		busy := identity.NewPool(identity.PoolConfig{Workers: 1, Timeout: time.Nanosecond})
		e.svc.Hasher = identity.NewHasher(fastParams, busy)
		release := occupy(t, busy)
		for i := range 2 * maxFailures {
			for _, tc := range []struct{ login, password string }{
				{alice.Username, alice.Password},
				{alice.Username, wrongPassword},
				{"nobody", wrongPassword},
			} {
				got, ok, err := e.svc.Authenticate(t.Context(), tc.login, tc.password)
				if got != nil || ok || !errors.Is(err, identity.ErrBusy) {
					t.Fatalf("#%d Authenticate(%q) with every worker busy = %v, %v, %v; want nil, false, ErrBusy", i+1, tc.login, got, ok, err)
				}
			}
		}
		release()

		waiting := identity.NewPool(identity.PoolConfig{Workers: 1, Timeout: never})
		queue := queued(waiting)
		e.svc.Hasher = identity.NewHasher(fastParams, waiting)
		release = occupy(t, waiting)
		for i := range 2 * maxFailures {
			ctx, cancel := context.WithCancel(t.Context())
			errc := make(chan error, 1)
			go func() {
				got, ok, err := e.svc.Authenticate(ctx, alice.Username, alice.Password)
				if got != nil || ok {
					t.Errorf("#%d Authenticate cancelled while queued succeeded", i+1)
				}
				errc <- err
			}()
			<-queue
			cancel()
			if err := <-errc; !errors.Is(err, context.Canceled) {
				t.Fatalf("#%d Authenticate cancelled while queued: err = %v, want context.Canceled", i+1, err)
			}
		}
		release()

		if n := e.svc.Hasher.Verifications(); n != 0 {
			t.Errorf("%d passwords checked, want none", n)
		}
		if got := e.events.Take(); len(got) != 0 {
			t.Errorf("events = %v, want none", got)
		}
		e.noMail(t)
		if got := e.user(t, u.ID); got.LockedAt(e.clock.Now()) || got.LastLoginAt != nil {
			t.Fatalf("after refused sign-ins: locked %v, last login %v; want unlocked, never signed in", got.LockedAt(e.clock.Now()), got.LastLoginAt)
		}
		// Exactly maxFailures wrong passwords, not fewer, lock the account: none
		// of the refusals counted.
		e.authFail(t, maxFailures-1)
		if e.user(t, u.ID).LockedAt(e.clock.Now()) {
			t.Fatalf("locked after %d wrong passwords", maxFailures-1)
		}
		e.noMail(t)
		e.authFail(t, 1)
		if !e.user(t, u.ID).LockedAt(e.clock.Now()) {
			t.Fatalf("not locked after %d wrong passwords", maxFailures)
		}
		e.unlockMail(t)
	})
}

// TestPasswordChangesBusy: registration, a password change, a reset and
// an administrator's SetPassword share the sign-ins' pool. With every
// worker busy each gets ErrBusy and changes nothing: no account is
// created, the password stays, no session ends, no mail goes out, and the
// reset link stays good for the next try.
func TestPasswordChangesBusy(t *testing.T) {
	eachEnv(t, func(t *testing.T, e *env) {
		ctx := t.Context()
		u, _ := e.register(t, alice)
		_, token := e.requestReset(t, alice.Username)
		pool := identity.NewPool(identity.PoolConfig{Workers: 1, Timeout: time.Nanosecond})
		e.svc.Hasher = identity.NewHasher(fastParams, pool)
		release := occupy(t, pool)

		bob := identity.RegisterInput{Username: "bob", Email: "bob@example.com", Password: "a passphrase of bob's"}
		if _, err := e.svc.Register(ctx, bob); !errors.Is(err, identity.ErrBusy) {
			t.Errorf("Register = %v, want ErrBusy", err)
		}
		if err := e.svc.ChangePassword(ctx, u.ID, alice.Password, newPassword, ""); !errors.Is(err, identity.ErrBusy) {
			t.Errorf("ChangePassword = %v, want ErrBusy", err)
		}
		if _, err := e.svc.ResetPassword(ctx, token, newPassword); !errors.Is(err, identity.ErrBusy) {
			t.Errorf("ResetPassword = %v, want ErrBusy", err)
		}
		if err := e.svc.SetPassword(ctx, u.ID, newPassword); !errors.Is(err, identity.ErrBusy) {
			t.Errorf("SetPassword = %v, want ErrBusy", err)
		}
		release()

		e.noMail(t)
		if calls := e.sessions.Calls(); len(calls) != 0 {
			t.Errorf("sessions revoked: %v, want none", calls)
		}
		if _, _, err := e.svc.Users.FindUserByLogin(ctx, "bob"); !errors.Is(err, identity.ErrNotFound) {
			t.Errorf("FindUserByLogin(bob) after a refused registration = %v, want ErrNotFound", err)
		}
		e.authOK(t)
		if _, err := e.svc.ResetPassword(ctx, token, newPassword); err != nil {
			t.Errorf("ResetPassword with the link after a refusal = %v, want nil", err)
		}
	})
}
