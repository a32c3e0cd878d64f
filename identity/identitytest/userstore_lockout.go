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

// mustCount counts a login failure at now and returns the counts.
func mustCount(t testing.TB, s identity.UserStore, id string, now time.Time) (int, int) {
	t.Helper()
	f, l, err := s.CountLoginFailure(t.Context(), id, now)
	if err != nil {
		t.Fatalf("CountLoginFailure: %v", err)
	}
	return f, l
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
		if f, l := mustCount(t, s, u.ID, base); f != want || l != 0 {
			t.Errorf("CountLoginFailure #%d = %d, %d; want %d, 0", want, f, l, want)
		}
	}
	if err := s.ClearLoginFailures(ctx, u.ID, base); err != nil {
		t.Fatalf("ClearLoginFailures: %v", err)
	}
	if f, _ := mustCount(t, s, u.ID, base); f != 1 {
		t.Errorf("CountLoginFailure after ClearLoginFailures = %d, want 1", f)
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
		mustCount(t, s, u.ID, base)
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

	// Locked: nothing is counted and nothing cleared.
	if _, _, err := s.CountLoginFailure(ctx, u.ID, until.Add(-time.Microsecond)); !errors.Is(err, identity.ErrNotFound) {
		t.Errorf("CountLoginFailure while locked: err = %v, want ErrNotFound", err)
	}
	if err := s.ClearLoginFailures(ctx, u.ID, base); !errors.Is(err, identity.ErrNotFound) {
		t.Errorf("ClearLoginFailures while locked: err = %v, want ErrNotFound", err)
	}
	// Expired: counting starts from zero and the lockouts are kept.
	if f, l := mustCount(t, s, u.ID, until); f != 1 || l != 1 {
		t.Errorf("CountLoginFailure after the lockout = %d, %d; want 1, 1", f, l)
	}
	if err := s.ClearLoginFailures(ctx, u.ID, until); err != nil {
		t.Fatalf("ClearLoginFailures after the lockout: %v", err)
	}
	if got := mustGet(t, s, u.ID); got.LockedUntil != nil {
		t.Errorf("LockedUntil after ClearLoginFailures = %v, want nil", got.LockedUntil)
	}
	if f, l := mustCount(t, s, u.ID, until); f != 1 || l != 0 {
		t.Errorf("CountLoginFailure after ClearLoginFailures = %d, %d; want 1, 0", f, l)
	}
}

func testLockPermanently(t *testing.T, s identity.UserStore) {
	ctx := t.Context()
	u := newUser(t, "perm")
	mustCreate(t, s, u, "hash")
	mustCount(t, s, u.ID, base)
	mustLock(t, s, u.ID, identity.Lock{MinFailures: 1, Permanent: true})
	got := mustGet(t, s, u.ID)
	far := base.Add(100 * 365 * 24 * time.Hour)
	if !got.LockedPermanently || got.LockedUntil != nil || !got.LockedAt(far) {
		t.Errorf("after a permanent LockUser: LockedUntil %v, permanent %v; want nil, true", got.LockedUntil, got.LockedPermanently)
	}
	if _, _, err := s.CountLoginFailure(ctx, u.ID, far); !errors.Is(err, identity.ErrNotFound) {
		t.Errorf("CountLoginFailure while locked permanently: err = %v, want ErrNotFound", err)
	}
	if err := s.UnlockUser(ctx, u.ID); err != nil {
		t.Fatalf("UnlockUser: %v", err)
	}
	if diff := cmp.Diff(u, mustGet(t, s, u.ID), equateUsers); diff != "" {
		t.Errorf("GetUser after UnlockUser mismatch (-want +got):\n%s", diff)
	}
	if f, l := mustCount(t, s, u.ID, base); f != 1 || l != 0 {
		t.Errorf("CountLoginFailure after UnlockUser = %d, %d; want 1, 0", f, l)
	}
}

func testConcurrentFailures(t *testing.T, s identity.UserStore) {
	u := newUser(t, "race")
	mustCreate(t, s, u, "hash")
	const n = 10
	var (
		wg  sync.WaitGroup
		mu  sync.Mutex
		got []int
	)
	for range n {
		wg.Go(func() {
			f, _, err := s.CountLoginFailure(t.Context(), u.ID, base)
			if err != nil {
				t.Errorf("CountLoginFailure: %v", err)
				return
			}
			mu.Lock()
			got = append(got, f)
			mu.Unlock()
		})
	}
	wg.Wait()
	slices.Sort(got)
	want := []int{1, 2, 3, 4, 5, 6, 7, 8, 9, 10}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("concurrent CountLoginFailure counts mismatch (-want +got):\n%s", diff)
	}
}

func testLockoutNotFound(t *testing.T, s identity.UserStore) {
	ctx := t.Context()
	for _, id := range []string{uuid.Must(uuid.NewV7()).String(), "not-a-uuid"} {
		if _, _, err := s.CountLoginFailure(ctx, id, base); !errors.Is(err, identity.ErrNotFound) {
			t.Errorf("CountLoginFailure(%q): err = %v, want ErrNotFound", id, err)
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
