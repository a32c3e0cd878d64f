package identity_test

import (
	"errors"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"

	"gatehouse/identity"
)

const wrongPassword = "not the right password"

// lockEnv returns an env with alice registered and her verification mail
// taken.
func lockEnv(t *testing.T, e *env) *identity.User {
	t.Helper()
	u, _ := e.register(t, alice)
	return u
}

// authFail signs in n times with a wrong password and expects the plain
// (nil, false, nil) answer each time.
func (e *env) authFail(t testing.TB, n int) {
	t.Helper()
	for i := range n {
		u, ok, err := e.svc.Authenticate(t.Context(), alice.Username, wrongPassword)
		if u != nil || ok || err != nil {
			t.Fatalf("Authenticate(wrong password) #%d = %v, %v, %v; want nil, false, nil", i+1, u, ok, err)
		}
	}
}

// authRefused signs in with password on a locked account and expects
// the answer of a wrong password, given without checking the password (no
// argon2id verification) after waiting as long as a check takes, and
// reported to OnLockedAttempt.
func (e *env) authRefused(t testing.TB, userID, password string) {
	t.Helper()
	e.events.Take()
	verified := e.svc.Hasher.Verifications()
	u, ok, err := e.svc.Authenticate(t.Context(), alice.Username, password)
	if u != nil || ok || err != nil {
		t.Fatalf("Authenticate(locked) = %v, %v, %v; want nil, false, nil", u, ok, err)
	}
	if n := e.svc.Hasher.Verifications() - verified; n != 0 {
		t.Errorf("Authenticate(locked) checked the password (%d verifications), want none", n)
	}
	want := []string{"locked attempt " + userID, fmt.Sprintf("sleep %v", e.svc.Hasher.VerifyTime())}
	if diff := cmp.Diff(want, e.events.Take()); diff != "" {
		t.Errorf("Authenticate(locked) events mismatch (-want +got):\n%s", diff)
	}
}

// authOK signs in with the right password and expects success.
func (e *env) authOK(t testing.TB) {
	t.Helper()
	if _, ok, err := e.svc.Authenticate(t.Context(), alice.Username, alice.Password); !ok || err != nil {
		t.Fatalf("Authenticate(right password) = %v, %v; want true, nil", ok, err)
	}
}

// unlockMail returns the token of the one MailAccountLocked sent since the
// last look.
func (e *env) unlockMail(t testing.TB) string {
	t.Helper()
	m := e.onlyMail(t, identity.MailAccountLocked)
	want := identity.Mail{Kind: identity.MailAccountLocked, To: "alice@example.com", Name: "Alice", ExpiresIn: "24 hours", ExpiresAt: e.clock.Now().Add(identity.UnlockTokenTTL)}
	if diff := cmp.Diff(want, m, cmpopts.IgnoreFields(identity.Mail{}, "Link")); diff != "" {
		t.Errorf("unlock mail mismatch (-want +got):\n%s", diff)
	}
	return linkToken(t, m.Link, "/unlock")
}

func TestLockoutSchedule(t *testing.T) {
	eachEnv(t, func(t *testing.T, e *env) {
		u := lockEnv(t, e)
		carried := 0
		for i, want := range []time.Duration{1, 2, 4, 8, 15, 15} {
			want *= time.Minute
			e.authFail(t, 4-carried)
			if got := e.user(t, u.ID); got.LockedAt(e.clock.Now()) {
				t.Fatalf("lockout %d: locked after 4 failures", i+1)
			}
			e.noMail(t)
			e.authFail(t, 1)
			until := e.clock.Now().Add(want)
			if got := e.user(t, u.ID).LockedUntil; got == nil || !got.Equal(until) {
				t.Fatalf("lockout %d: LockedUntil = %v, want %v (%v)", i+1, got, until, want)
			}
			e.unlockMail(t)
			// While locked, the right password is refused like a wrong
			// one; both count, neither extends the lockout.
			e.authRefused(t, u.ID, alice.Password)
			e.clock.Advance(want - time.Second)
			e.authRefused(t, u.ID, wrongPassword)
			e.noMail(t)
			if got := e.user(t, u.ID).LockedUntil; got == nil || !got.Equal(until) {
				t.Fatalf("lockout %d: LockedUntil after attempts while locked = %v, want %v", i+1, got, until)
			}
			e.clock.Advance(time.Second)
			carried = 2
		}
	})
}

func TestLockoutSuccessResets(t *testing.T) {
	eachEnv(t, func(t *testing.T, e *env) {
		u := lockEnv(t, e)
		e.authFail(t, 4)
		e.authOK(t)
		e.authFail(t, 4)
		if e.user(t, u.ID).LockedAt(e.clock.Now()) {
			t.Fatal("locked after 4 failures, a success and 4 failures")
		}
		e.authFail(t, 1)
		e.unlockMail(t)
		e.clock.Advance(time.Minute)
		// The success also forgets the lockouts: the next one is 1 minute
		// again, not 2.
		e.authOK(t)
		if got := e.user(t, u.ID); got.LockedUntil != nil || got.LockedPermanently {
			t.Errorf("after a success: LockedUntil %v, permanent %v; want nil, false", got.LockedUntil, got.LockedPermanently)
		}
		e.authFail(t, 5)
		if got := e.user(t, u.ID).LockedUntil; got == nil || !got.Equal(e.clock.Now().Add(time.Minute)) {
			t.Errorf("LockedUntil after a success and 5 failures = %v, want in 1 minute", got)
		}
	})
}

func TestLockoutPermanent(t *testing.T) {
	eachEnv(t, func(t *testing.T, e *env) {
		e.svc.Lockout = identity.LockoutPolicy{MaxFailures: 3, PermanentAfter: 2}
		u := lockEnv(t, e)
		for _, d := range []time.Duration{time.Minute, 2 * time.Minute} {
			e.authFail(t, 3)
			e.unlockMail(t)
			e.clock.Advance(d)
		}
		e.authFail(t, 3)
		e.unlockMail(t)
		e.clock.Advance(365 * 24 * time.Hour)
		e.authRefused(t, u.ID, alice.Password)
		if got := e.user(t, u.ID); !got.LockedPermanently || got.LockedUntil != nil {
			t.Errorf("stored: LockedUntil %v, permanent %v; want nil, true", got.LockedUntil, got.LockedPermanently)
		}
		e.authRefused(t, u.ID, wrongPassword)
		e.noMail(t)

		if err := e.svc.Unlock(t.Context(), u.ID); err != nil {
			t.Fatalf("Unlock: %v", err)
		}
		e.authOK(t)
	})
}

func TestUnlockWithToken(t *testing.T) {
	eachEnv(t, func(t *testing.T, e *env) {
		ctx := t.Context()
		u := lockEnv(t, e)
		e.authFail(t, 5)
		token := e.unlockMail(t)
		for _, bad := range []string{"", "nonsense", token + "x"} {
			if err := e.svc.UnlockWithToken(ctx, bad); !errors.Is(err, identity.ErrCodeInvalid) {
				t.Errorf("UnlockWithToken(%q) = %v, want ErrCodeInvalid", bad, err)
			}
		}
		e.authRefused(t, u.ID, alice.Password)
		if err := e.svc.UnlockWithToken(ctx, token); err != nil {
			t.Fatalf("UnlockWithToken: %v", err)
		}
		if diff := cmp.Diff([]string{"unlock " + u.ID + " by link"}, e.events.Take()); diff != "" {
			t.Errorf("UnlockWithToken events mismatch (-want +got):\n%s", diff)
		}
		// The attempt while locked no longer counts.
		e.authFail(t, 4)
		e.authOK(t)

		// Single use: the link does not end the next lockout.
		e.authFail(t, 5)
		next := e.unlockMail(t)
		if err := e.svc.UnlockWithToken(ctx, token); !errors.Is(err, identity.ErrCodeInvalid) {
			t.Errorf("UnlockWithToken(used) = %v, want ErrCodeInvalid", err)
		}
		e.authRefused(t, u.ID, alice.Password)
		// Expired after 24 hours.
		e.clock.Advance(identity.UnlockTokenTTL)
		if err := e.svc.UnlockWithToken(ctx, next); !errors.Is(err, identity.ErrCodeInvalid) {
			t.Errorf("UnlockWithToken(expired) = %v, want ErrCodeInvalid", err)
		}
	})
}

func TestAdminUnlock(t *testing.T) {
	eachEnv(t, func(t *testing.T, e *env) {
		u := lockEnv(t, e)
		e.authFail(t, 5)
		e.unlockMail(t)
		if err := e.svc.Unlock(t.Context(), u.ID); err != nil {
			t.Fatalf("Unlock: %v", err)
		}
		if got := e.user(t, u.ID); got.LockedAt(e.clock.Now()) || got.LockedUntil != nil {
			t.Errorf("after Unlock: LockedUntil %v, want nil", got.LockedUntil)
		}
		e.authOK(t)
		if err := e.svc.Unlock(t.Context(), "0190b6a0-0000-7000-8000-000000000000"); !errors.Is(err, identity.ErrNotFound) {
			t.Errorf("Unlock(unknown) = %v, want ErrNotFound", err)
		}
	})
}

func TestLockoutConcurrentFailures(t *testing.T) {
	eachEnv(t, func(t *testing.T, e *env) {
		// With 11 allowed, 10 concurrent failures lock nothing and the
		// 11th locks: every one was counted.
		e.svc.Lockout.MaxFailures = 11
		u := lockEnv(t, e)
		var wg sync.WaitGroup
		for range 10 {
			wg.Go(func() {
				if _, ok, err := e.svc.Authenticate(t.Context(), alice.Username, wrongPassword); ok || err != nil {
					t.Errorf("Authenticate(wrong password) = %v, %v; want false, nil", ok, err)
				}
			})
		}
		wg.Wait()
		if e.user(t, u.ID).LockedAt(e.clock.Now()) {
			t.Fatal("locked after 10 of 11 failures")
		}
		e.noMail(t)
		e.authFail(t, 1)
		e.unlockMail(t)
		e.authRefused(t, u.ID, alice.Password)
	})
}

func TestLockoutConcurrentLockMailsOnce(t *testing.T) {
	eachEnv(t, func(t *testing.T, e *env) {
		u := lockEnv(t, e)
		var (
			wg     sync.WaitGroup
			mu     sync.Mutex
			locked int
		)
		for range 10 {
			wg.Go(func() {
				lockedNow, err := e.svc.RecordFailure(t.Context(), u.ID, "totp")
				if err != nil {
					t.Errorf("RecordFailure: %v", err)
				}
				if lockedNow {
					mu.Lock()
					locked++
					mu.Unlock()
				}
			})
		}
		wg.Wait()
		// The fifth failure and the five after it say locked, whether
		// they were counted before the lock or refused by it; one
		// lockout, one mail.
		if locked != 6 {
			t.Errorf("RecordFailure reported locked %d times, want 6", locked)
		}
		e.unlockMail(t)
		if got := e.user(t, u.ID).LockedUntil; got == nil || !got.Equal(e.clock.Now().Add(time.Minute)) {
			t.Errorf("LockedUntil = %v, want in 1 minute", got)
		}
	})
}

func TestRecordFailureAndSuccess(t *testing.T) {
	eachEnv(t, func(t *testing.T, e *env) {
		ctx := t.Context()
		u := lockEnv(t, e)
		for i := range 4 {
			if locked, err := e.svc.RecordFailure(ctx, u.ID, "totp"); locked || err != nil {
				t.Fatalf("RecordFailure #%d = %v, %v; want false, nil", i+1, locked, err)
			}
		}
		if err := e.svc.RecordSuccess(ctx, u.ID); err != nil {
			t.Fatalf("RecordSuccess: %v", err)
		}
		// Passwords and other factors share the count.
		e.authFail(t, 4)
		if locked, err := e.svc.RecordFailure(ctx, u.ID, "totp"); !locked || err != nil {
			t.Fatalf("RecordFailure #5 = %v, %v; want true, nil", locked, err)
		}
		e.unlockMail(t)
		if locked, err := e.svc.RecordFailure(ctx, u.ID, "totp"); !locked || err != nil {
			t.Errorf("RecordFailure while locked = %v, %v; want true, nil", locked, err)
		}
		if err := e.svc.RecordSuccess(ctx, u.ID); !errors.Is(err, identity.ErrLocked) {
			t.Errorf("RecordSuccess while locked = %v, want ErrLocked", err)
		}
		unknown := "0190b6a0-0000-7000-8000-000000000000"
		if _, err := e.svc.RecordFailure(ctx, unknown, "totp"); !errors.Is(err, identity.ErrNotFound) {
			t.Errorf("RecordFailure(unknown) = %v, want ErrNotFound", err)
		}
		if err := e.svc.RecordSuccess(ctx, unknown); !errors.Is(err, identity.ErrNotFound) {
			t.Errorf("RecordSuccess(unknown) = %v, want ErrNotFound", err)
		}
	})
}

func TestLockoutUnknownUser(t *testing.T) {
	eachEnv(t, func(t *testing.T, e *env) {
		ctx := t.Context()
		lockEnv(t, e)
		before, err := e.svc.Users.ListUsers(ctx, 0, 0)
		if err != nil {
			t.Fatal(err)
		}
		for _, login := range []string{"nobody", "nobody@example.com", "alice@example.org"} {
			for range 6 {
				if u, ok, err := e.svc.Authenticate(ctx, login, alice.Password); u != nil || ok || err != nil {
					t.Fatalf("Authenticate(%q) = %v, %v, %v; want nil, false, nil", login, u, ok, err)
				}
			}
		}
		after, err := e.svc.Users.ListUsers(ctx, 0, 0)
		if err != nil {
			t.Fatal(err)
		}
		if diff := cmp.Diff(before, after); diff != "" {
			t.Errorf("users changed by unknown logins (-before +after):\n%s", diff)
		}
		e.noMail(t)
		e.authFail(t, 4)
		e.authOK(t) // the unknown logins counted nothing against alice
	})
}

func TestLockoutWithoutNotifier(t *testing.T) {
	eachEnv(t, func(t *testing.T, e *env) {
		u := lockEnv(t, e)
		e.svc.Notifier = nil
		e.authFail(t, 5)
		e.authRefused(t, u.ID, alice.Password)
		e.noMail(t)
	})
}

func TestLockoutMailFailureKeepsLock(t *testing.T) {
	eachEnv(t, func(t *testing.T, e *env) {
		u := lockEnv(t, e)
		e.notifier.Err = errors.New("queue down")
		e.authFail(t, 5)
		e.authRefused(t, u.ID, alice.Password)
	})
}

// TestRecordPasskeySignIn: a passkey sign-in clears the failure count and
// sets the last sign-in, and a locked account is refused.
func TestRecordPasskeySignIn(t *testing.T) {
	eachEnv(t, func(t *testing.T, e *env) {
		ctx := t.Context()
		u := lockEnv(t, e)
		for range 4 {
			if _, err := e.svc.RecordFailure(ctx, u.ID, "totp"); err != nil {
				t.Fatal(err)
			}
		}
		if err := e.svc.RecordPasskeySignIn(ctx, u.ID); err != nil {
			t.Fatalf("RecordPasskeySignIn: %v", err)
		}
		if got := e.user(t, u.ID).LastLoginAt; got == nil || !got.Equal(e.clock.Now()) {
			t.Errorf("LastLoginAt = %v, want %v", got, e.clock.Now())
		}
		// The count started again: four more failures do not lock.
		for i := range 4 {
			if locked, err := e.svc.RecordFailure(ctx, u.ID, "totp"); locked || err != nil {
				t.Fatalf("RecordFailure #%d after the passkey sign-in = %v, %v; want false, nil", i+1, locked, err)
			}
		}
		if locked, _ := e.svc.RecordFailure(ctx, u.ID, "totp"); !locked {
			t.Fatal("the fifth failure did not lock")
		}
		e.unlockMail(t)
		if err := e.svc.RecordPasskeySignIn(ctx, u.ID); !errors.Is(err, identity.ErrLocked) {
			t.Errorf("RecordPasskeySignIn while locked = %v, want ErrLocked", err)
		}
	})
}
