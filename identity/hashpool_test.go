package identity_test

import (
	"context"
	"errors"
	"runtime"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"gatehouse/identity"
)

// never is a queue timeout no test waits out.
const never = time.Hour

// queued returns a channel that receives once for each caller that starts
// to wait for a worker of p.
func queued(p *identity.Pool) <-chan struct{} {
	ch := make(chan struct{}, 100)
	identity.SetWaitHook(p, func() { ch <- struct{}{} })
	return ch
}

// occupy runs a job on p that holds its worker until the returned
// function is called (or the test ends).
func occupy(t testing.TB, p *identity.Pool) (release func()) {
	t.Helper()
	started, done := make(chan struct{}), make(chan struct{})
	finished := make(chan error, 1)
	go func() { finished <- p.Do(context.Background(), func() { close(started); <-done }) }()
	<-started
	var once sync.Once
	release = func() {
		once.Do(func() {
			close(done)
			if err := <-finished; err != nil {
				t.Errorf("occupying job: %v", err)
			}
		})
	}
	t.Cleanup(release)
	return release
}

// TestPoolBoundsConcurrency: of many jobs submitted at once no more run
// together than there are workers; the rest wait and all run in the end.
func TestPoolBoundsConcurrency(t *testing.T) {
	const workers, jobs = 2, 8
	p := identity.NewPool(identity.PoolConfig{Workers: workers, Timeout: never})
	waiting := queued(p)
	var running, most atomic.Int32
	started := make(chan struct{}, jobs)
	gate := make(chan struct{})
	errs := make(chan error, jobs)
	for range jobs {
		go func() {
			errs <- p.Do(t.Context(), func() {
				n := running.Add(1)
				for m := most.Load(); n > m && !most.CompareAndSwap(m, n); m = most.Load() {
				}
				started <- struct{}{}
				<-gate
				running.Add(-1)
			})
		}()
	}
	// Every job has either started or joined the queue.
	for range workers {
		<-started
	}
	for range jobs - workers {
		<-waiting
	}
	want := identity.PoolStats{Workers: workers, Running: workers, Waiting: jobs - workers, Queued: jobs - workers}
	if diff := cmp.Diff(want, p.Stats()); diff != "" {
		t.Errorf("Stats() with every worker busy mismatch (-want +got):\n%s", diff)
	}
	select {
	case <-started:
		t.Fatalf("a job started while %d were running on %d workers", workers, workers)
	default:
	}
	close(gate)
	for range jobs {
		if err := <-errs; err != nil {
			t.Errorf("Do = %v, want nil", err)
		}
	}
	if got := most.Load(); got != workers {
		t.Errorf("at most %d jobs ran at once, want %d", got, workers)
	}
	if diff := cmp.Diff(identity.PoolStats{Workers: workers, Queued: jobs - workers}, p.Stats()); diff != "" {
		t.Errorf("Stats() afterwards mismatch (-want +got):\n%s", diff)
	}
}

// TestPoolRefuses: a job that cannot get a worker within the timeout, or
// finds the queue full, gets ErrBusy and is not run; one whose context
// ends while it waits, or before, gets the context's error and is not run.
func TestPoolRefuses(t *testing.T) {
	ran := func(flag *atomic.Bool) func() { return func() { flag.Store(true) } }

	t.Run("timeout", func(t *testing.T) {
		p := identity.NewPool(identity.PoolConfig{Workers: 1, Timeout: time.Nanosecond})
		occupy(t, p)
		var did atomic.Bool
		if err := p.Do(t.Context(), ran(&did)); !errors.Is(err, identity.ErrBusy) || did.Load() {
			t.Errorf("Do with the worker busy past the timeout = %v (ran %v), want ErrBusy, not run", err, did.Load())
		}
		if got := p.Stats().Refused; got != 1 {
			t.Errorf("Stats().Refused = %d, want 1", got)
		}
	})

	t.Run("queue full", func(t *testing.T) {
		p := identity.NewPool(identity.PoolConfig{Workers: 1, Queue: 1, Timeout: never})
		waiting := queued(p)
		release := occupy(t, p)
		var first, second atomic.Bool
		firstErr := make(chan error, 1)
		go func() { firstErr <- p.Do(t.Context(), ran(&first)) }()
		<-waiting
		// At once: with a timeout of an hour, waiting would hang the test.
		if err := p.Do(t.Context(), ran(&second)); !errors.Is(err, identity.ErrBusy) || second.Load() {
			t.Errorf("Do with the queue full = %v (ran %v), want ErrBusy, not run", err, second.Load())
		}
		release()
		if err := <-firstErr; err != nil || !first.Load() {
			t.Errorf("the queued job: Do = %v (ran %v), want nil, run", err, first.Load())
		}
	})

	t.Run("cancelled while waiting", func(t *testing.T) {
		p := identity.NewPool(identity.PoolConfig{Workers: 1, Timeout: never})
		waiting := queued(p)
		release := occupy(t, p)
		ctx, cancel := context.WithCancel(t.Context())
		var did atomic.Bool
		errc := make(chan error, 1)
		go func() { errc <- p.Do(ctx, ran(&did)) }()
		<-waiting
		cancel()
		if err := <-errc; !errors.Is(err, context.Canceled) {
			t.Errorf("Do cancelled while waiting = %v, want context.Canceled", err)
		}
		release()
		if did.Load() {
			t.Error("the cancelled job ran")
		}
		if got := p.Stats(); got.Waiting != 0 || got.Refused != 0 {
			t.Errorf("Stats() = %+v, want nobody waiting and nothing refused as busy", got)
		}
	})

	t.Run("cancelled before", func(t *testing.T) {
		p := identity.NewPool(identity.PoolConfig{Workers: 1})
		ctx, cancel := context.WithCancel(t.Context())
		cancel()
		var did atomic.Bool
		if err := p.Do(ctx, ran(&did)); !errors.Is(err, context.Canceled) || did.Load() {
			t.Errorf("Do with a cancelled context and a free worker = %v (ran %v), want context.Canceled, not run", err, did.Load())
		}
	})
}

// TestPoolDefaults: zero fields give a worker per CPU the process may
// use.
func TestPoolDefaults(t *testing.T) {
	if got, want := identity.NewPool(identity.PoolConfig{}).Stats().Workers, runtime.GOMAXPROCS(0); got != want {
		t.Errorf("default workers = %d, want runtime.GOMAXPROCS(0) = %d", got, want)
	}
}
