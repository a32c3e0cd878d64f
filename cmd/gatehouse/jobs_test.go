package main

import (
	"context"
	"errors"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

// TestJobGroupStopsInOrder: stop ends the jobs last started first, and
// tells each only once the one after it has returned.
func TestJobGroupStopsInOrder(t *testing.T) {
	t.Parallel()
	g := newJobGroup(t.Context())
	var mu sync.Mutex
	var events []string
	record := func(e string) {
		mu.Lock()
		defer mu.Unlock()
		events = append(events, e)
	}
	for _, name := range []string{"outage", "keys", "worker", "purge"} {
		g.start(func(ctx context.Context) error {
			<-ctx.Done()
			record(name + " told")
			record(name + " returned")
			return nil
		})
	}
	if err := g.stop(time.Now().Add(time.Minute)); err != nil {
		t.Fatalf("stop: %v", err)
	}
	want := []string{"purge told", "purge returned", "worker told", "worker returned",
		"keys told", "keys returned", "outage told", "outage returned"}
	if diff := cmp.Diff(want, events); diff != "" {
		t.Errorf("stop order mismatch (-want +got):\n%s", diff)
	}
}

// TestJobGroupStopDeadline: a job that does not return by the deadline
// makes stop report it instead of waiting for ever.
func TestJobGroupStopDeadline(t *testing.T) {
	t.Parallel()
	g := newJobGroup(t.Context())
	release := make(chan struct{})
	defer close(release)
	g.start(func(context.Context) error { <-release; return nil })
	if err := g.stop(time.Now().Add(10 * time.Millisecond)); !errors.Is(err, errStopDeadline) {
		t.Errorf("stop = %v, want errStopDeadline", err)
	}
}

// TestJobGroupFailure: a job's error ends the other jobs and is what stop
// returns.
func TestJobGroupFailure(t *testing.T) {
	t.Parallel()
	g := newJobGroup(t.Context())
	stopped := make(chan struct{})
	g.start(func(ctx context.Context) error { <-ctx.Done(); close(stopped); return nil })
	boom := errors.New("boom")
	g.start(func(context.Context) error { return boom })
	<-stopped // ended by the failure, before any stop
	if err := g.stop(time.Now().Add(time.Minute)); !errors.Is(err, boom) {
		t.Errorf("stop = %v, want the job's error", err)
	}
}

// TestJobGroupOutlivesContext: the jobs end only through stop, not when
// the context they were started under ends, so that stop decides the
// order.
func TestJobGroupOutlivesContext(t *testing.T) {
	t.Parallel()
	ctx, cancel := context.WithCancel(t.Context())
	g := newJobGroup(ctx)
	jobCtx := make(chan context.Context, 1)
	g.start(func(ctx context.Context) error { jobCtx <- ctx; <-ctx.Done(); return nil })
	running := <-jobCtx
	cancel() // cancels every context derived from ctx before it returns
	if err := running.Err(); err != nil {
		t.Errorf("the job's context ended with the one it was started under: %v", err)
	}
	if err := g.stop(time.Now().Add(time.Minute)); err != nil {
		t.Fatalf("stop: %v", err)
	}
}
