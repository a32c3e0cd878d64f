package identitytest

import (
	"errors"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/google/uuid"

	"gatehouse/identity"
)

// mustCount counts a login attempt and returns the state it reads.
func mustCount(t testing.TB, s identity.UserStore, id string) identity.LoginCount {
	t.Helper()
	c, err := s.CountLoginAttempt(t.Context(), id)
	if err != nil {
		t.Fatalf("CountLoginAttempt: %v", err)
	}
	return c
}

// mustLock starts l and fails unless it was started.
func mustLock(t testing.TB, s identity.UserStore, id string, l identity.Lock) {
	t.Helper()
	ok, err := s.LockUser(t.Context(), id, l)
	if err != nil || !ok {
		t.Fatalf("LockUser(%+v) = %v, %v; want true, nil", l, ok, err)
	}
}

func testLockoutCounts(t *testing.T, s identity.UserStore) {
	ctx := t.Context()
	u := newUser(t, "lou")
	mustCreate(t, s, u, "hash")
	for want := 1; want <= 3; want++ {
		if diff := cmp.Diff(identity.LoginCount{Failures: want}, mustCount(t, s, u.ID)); diff != "" {
			t.Errorf("CountLoginAttempt #%d mismatch (-want +got):\n%s", want, diff)
		}
	}
	if err := s.ClearLoginFailures(ctx, u.ID, base); err != nil {
		t.Fatalf("ClearLoginFailures: %v", err)
	}
	if c := mustCount(t, s, u.ID); c.Failures != 1 {
		t.Errorf("CountLoginAttempt after ClearLoginFailures = %d, want 1", c.Failures)
	}
	// Nothing else about the user changes.
	got := mustGet(t, s, u.ID)
	if diff := cmp.Diff(u, got, equateUsers); diff != "" {
		t.Errorf("GetUser after counting mismatch (-want +got):\n%s", diff)
	}
}

func testLockUser(t *testing.T, s identity.UserStore) {
	ctx := t.Context()
	u := newUser(t, "lucy")
	mustCreate(t, s, u, "hash")
	for range 2 {
		mustCount(t, s, u.ID)
	}
	until := base.Add(time.Minute)
	for _, l := range []identity.Lock{
		{Lockouts: 0, MinFailures: 3, Until: until}, // too few failures
		{Lockouts: 1, MinFailures: 2, Until: until}, // stale lockouts
	} {
		if ok, err := s.LockUser(ctx, u.ID, l); ok || err != nil {
			t.Errorf("LockUser(%+v) = %v, %v; want false, nil", l, ok, err)
		}
	}
	lock := identity.Lock{Lockouts: 0, MinFailures: 2, Until: until}
	mustLock(t, s, u.ID, lock)
	if ok, err := s.LockUser(ctx, u.ID, lock); ok || err != nil {
		t.Errorf("LockUser(same lockout again) = %v, %v; want false, nil", ok, err)
	}
	got := mustGet(t, s, u.ID)
	if got.LockedUntil == nil || !got.LockedUntil.Equal(until) || got.LockedPermanently {
		t.Errorf("after LockUser: LockedUntil %v, permanent %v; want %v, false", got.LockedUntil, got.LockedPermanently, until)
	}
	if !got.LockedAt(base) || got.LockedAt(until) {
		t.Errorf("LockedAt(base, until) = %v, %v; want true, false", got.LockedAt(base), got.LockedAt(until))
	}

	// Locked: attempts count from zero and read the lock; nothing is
	// cleared.
	for want := 1; want <= 2; want++ {
		c := mustCount(t, s, u.ID)
		if diff := cmp.Diff(identity.LoginCount{Failures: want, Lockouts: 1, LockedUntil: &until}, c); diff != "" {
			t.Errorf("CountLoginAttempt #%d while locked mismatch (-want +got):\n%s", want, diff)
		}
		if !c.LockedAt(until.Add(-time.Microsecond)) || c.LockedAt(until) {
			t.Errorf("LoginCount.LockedAt(just before, at the end) = %v, %v; want true, false", c.LockedAt(until.Add(-time.Microsecond)), c.LockedAt(until))
		}
	}
	if err := s.ClearLoginFailures(ctx, u.ID, base); !errors.Is(err, identity.ErrNotFound) {
		t.Errorf("ClearLoginFailures while locked: err = %v, want ErrNotFound", err)
	}
	// Expired: counting goes on from the attempts while locked, and those
	// can start the next lockout.
	if c := mustCount(t, s, u.ID); c.Failures != 3 || c.Lockouts != 1 {
		t.Errorf("CountLoginAttempt after the lockout = %d, %d; want 3, 1", c.Failures, c.Lockouts)
	}
	next := until.Add(2 * time.Minute)
	mustLock(t, s, u.ID, identity.Lock{Lockouts: 1, MinFailures: 3, Until: next})
	if c := mustCount(t, s, u.ID); c.Failures != 1 || c.Lockouts != 2 || !c.LockedAt(until) {
		t.Errorf("CountLoginAttempt in the second lockout = %+v; want 1 failure, 2 lockouts, locked", c)
	}
	if err := s.ClearLoginFailures(ctx, u.ID, next); err != nil {
		t.Fatalf("ClearLoginFailures after the lockout: %v", err)
	}
	if got := mustGet(t, s, u.ID); got.LockedUntil != nil {
		t.Errorf("LockedUntil after ClearLoginFailures = %v, want nil", got.LockedUntil)
	}
	if diff := cmp.Diff(identity.LoginCount{Failures: 1}, mustCount(t, s, u.ID)); diff != "" {
		t.Errorf("CountLoginAttempt after ClearLoginFailures mismatch (-want +got):\n%s", diff)
	}
}

func testLockPermanently(t *testing.T, s identity.UserStore) {
	ctx := t.Context()
	u := newUser(t, "perm")
	mustCreate(t, s, u, "hash")
	mustCount(t, s, u.ID)
	mustLock(t, s, u.ID, identity.Lock{MinFailures: 1, Permanent: true})
	got := mustGet(t, s, u.ID)
	far := base.Add(100 * 365 * 24 * time.Hour)
	if !got.LockedPermanently || got.LockedUntil != nil || !got.LockedAt(far) {
		t.Errorf("after a permanent LockUser: LockedUntil %v, permanent %v; want nil, true", got.LockedUntil, got.LockedPermanently)
	}
	if diff := cmp.Diff(identity.LoginCount{Failures: 1, Lockouts: 1, LockedPermanently: true}, mustCount(t, s, u.ID)); diff != "" {
		t.Errorf("CountLoginAttempt while locked permanently mismatch (-want +got):\n%s", diff)
	}
	if err := s.UnlockUser(ctx, u.ID); err != nil {
		t.Fatalf("UnlockUser: %v", err)
	}
	// An unlock is a change of the user: UpdatedAt moves on (ETags).
	got = mustGet(t, s, u.ID)
	if got.UpdatedAt.Before(u.UpdatedAt) || got.UpdatedAt.Equal(u.UpdatedAt) {
		t.Errorf("UpdatedAt after UnlockUser = %v, want after %v", got.UpdatedAt, u.UpdatedAt)
	}
	want := *u
	want.UpdatedAt = got.UpdatedAt
	if diff := cmp.Diff(&want, got, equateUsers); diff != "" {
		t.Errorf("GetUser after UnlockUser mismatch (-want +got):\n%s", diff)
	}
	if diff := cmp.Diff(identity.LoginCount{Failures: 1}, mustCount(t, s, u.ID)); diff != "" {
		t.Errorf("CountLoginAttempt after UnlockUser mismatch (-want +got):\n%s", diff)
	}
}

// testConcurrentAttempts: concurrent attempts each get a count of their
// own, so exactly the first MaxFailures of them may go on to a password
// check, and the one lock that the others race to start holds.
func testConcurrentAttempts(t *testing.T, s identity.UserStore) {
	u := newUser(t, "race")
	mustCreate(t, s, u, "hash")
	const n, maxFailures = 20, 5
	var (
		wg      sync.WaitGroup
		mu      sync.Mutex
		got     []int
		started int
	)
	for range n {
		wg.Go(func() {
			c, err := s.CountLoginAttempt(t.Context(), u.ID)
			if err != nil {
				t.Errorf("CountLoginAttempt: %v", err)
				return
			}
			ok := false
			if c.Failures > maxFailures && !c.LockedAt(base) {
				ok, err = s.LockUser(t.Context(), u.ID, identity.Lock{Lockouts: c.Lockouts, MinFailures: maxFailures, Until: base.Add(time.Minute)})
				if err != nil {
					t.Errorf("LockUser: %v", err)
				}
			}
			mu.Lock()
			defer mu.Unlock()
			if c.Lockouts == 0 {
				got = append(got, c.Failures)
			}
			if ok {
				started++
			}
		})
	}
	wg.Wait()
	slices.Sort(got)
	// Attempts counted before the lock have distinct counts from 1 up.
	for i, f := range got {
		if f != i+1 {
			t.Fatalf("counts before the lock = %v, want 1, 2, 3, ...", got)
		}
	}
	if len(got) <= maxFailures || started != 1 {
		t.Errorf("%d attempts counted before the lock, %d locks started; want more than %d, and 1", len(got), started, maxFailures)
	}
	if c := mustCount(t, s, u.ID); c.Lockouts != 1 || !c.LockedAt(base) || c.Failures != n-len(got)+1 {
		t.Errorf("after the race: %+v; want 1 lockout, locked, %d failures counted while locked", c, n-len(got)+1)
	}
}

func testLockoutNotFound(t *testing.T, s identity.UserStore) {
	ctx := t.Context()
	for _, id := range []string{uuid.Must(uuid.NewV7()).String(), "not-a-uuid"} {
		if _, err := s.CountLoginAttempt(ctx, id); !errors.Is(err, identity.ErrNotFound) {
			t.Errorf("CountLoginAttempt(%q): err = %v, want ErrNotFound", id, err)
		}
		if ok, err := s.LockUser(ctx, id, identity.Lock{Until: base}); ok || err != nil && !errors.Is(err, identity.ErrNotFound) {
			t.Errorf("LockUser(%q) = %v, %v; want false", id, ok, err)
		}
		if err := s.ClearLoginFailures(ctx, id, base); !errors.Is(err, identity.ErrNotFound) {
			t.Errorf("ClearLoginFailures(%q): err = %v, want ErrNotFound", id, err)
		}
		if err := s.UnlockUser(ctx, id); !errors.Is(err, identity.ErrNotFound) {
			t.Errorf("UnlockUser(%q): err = %v, want ErrNotFound", id, err)
		}
	}
}
