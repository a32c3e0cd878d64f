package main

import (
	"context"
	"testing"
	"time"
)

// TestPickSharesUsersAndSteps checks that workers never share a user and
// that a user is never given a time step it has used or one the server
// would refuse (beyond t+1).
func TestPickSharesUsersAndSteps(t *testing.T) {
	at := time.Now()
	now := at.Unix() / totpPeriod
	users := make([]*loginUser, 5)
	for i := range users {
		users[i] = &loginUser{login: string(rune('a' + i)), lastStep: now - 5}
	}
	users[1].lastStep = now + 1 // used up until the next step
	l := &logins{mfa: true, users: users, now: func() time.Time { return at }}

	// Worker 1 of 2 has users 1 and 3; user 1 has no step left.
	for round := range 4 {
		u, step, err := l.pick(t.Context(), 1, 2, round)
		if err != nil {
			t.Fatal(err)
		}
		if u != users[3] || step != now-1 {
			t.Fatalf("round %d: pick = %s at step %d, want d at %d", round, u.login, step-now, -1)
		}
	}
	users[3].lastStep = now + 1
	ctx, cancel := context.WithTimeout(t.Context(), 10*time.Millisecond)
	defer cancel()
	if u, _, err := l.pick(ctx, 1, 2, 0); err == nil {
		t.Fatalf("pick = %s with every step used, want a wait", u.login)
	}
	// Worker 0 has users 0, 2 and 4: each one in turn.
	for round, want := range []int{0, 2, 4, 0} {
		u, _, err := l.pick(t.Context(), 0, 2, round)
		if err != nil || u != users[want] {
			t.Fatalf("worker 0 round %d: %v %v, want user %d", round, u, err, want)
		}
	}
}
