package main

import (
	"context"
	"errors"
	"time"

	"golang.org/x/sync/errgroup"
)

// jobGroup runs background jobs under one errgroup, each with a context of
// its own, so that they can be stopped one at a time: stop ends them in
// the reverse order of start, each waited for before the next is told.
// A job started first (the outage watch) thus outlives the jobs that
// report to it. A job that returns an error stops the others at once.
type jobGroup struct {
	group *errgroup.Group
	ctx   context.Context // the group's: done when a job failed
	jobs  []job
}

type job struct {
	cancel context.CancelFunc
	done   chan struct{}
}

// newJobGroup returns an empty group whose jobs run until stop, or until
// one of them fails. ctx's values reach the jobs; its end does not: only
// stop ends them, in order.
func newJobGroup(ctx context.Context) *jobGroup {
	g, gctx := errgroup.WithContext(context.WithoutCancel(ctx))
	return &jobGroup{group: g, ctx: gctx}
}

// start runs fn in the group until its context ends.
func (g *jobGroup) start(fn func(ctx context.Context) error) {
	ctx, cancel := context.WithCancel(g.ctx)
	j := job{cancel: cancel, done: make(chan struct{})}
	g.jobs = append(g.jobs, j)
	g.group.Go(func() error {
		defer close(j.done)
		return fn(ctx)
	})
}

// stop ends the jobs, the last started first, each waited for before the
// next is told, and returns the first error a job returned, or
// errStopDeadline when they were not all done by deadline.
func (g *jobGroup) stop(deadline time.Time) error {
	timer := time.NewTimer(max(time.Until(deadline), 0))
	defer timer.Stop()
	for i := len(g.jobs) - 1; i >= 0; i-- {
		g.jobs[i].cancel()
		select {
		case <-g.jobs[i].done:
		case <-timer.C:
			for _, j := range g.jobs[:i] {
				j.cancel()
			}
			return errStopDeadline
		}
	}
	return g.group.Wait()
}

// errStopDeadline is jobGroup.stop's error when jobs outlived the deadline.
var errStopDeadline = errors.New("background jobs still running at the shutdown deadline")
