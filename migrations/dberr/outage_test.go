package dberr_test

import (
	"bytes"
	"context"
	"errors"
	"log/slog"
	"runtime"
	"strings"
	"sync"
	"testing"
	"time"

	"gatehouse/migrations/dberr"
)

// syncBuffer is a log sink safe for the Run goroutine and the test.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// TestOutageLogsOnce: a hundred failed requests during one outage make
// one log line, its end another, and the next outage is logged again.
func TestOutageLogsOnce(t *testing.T) {
	var logs syncBuffer
	pings := make(chan error)
	o := &dberr.Outage{
		Logger:   slog.New(slog.NewTextHandler(&logs, nil)),
		Ping:     func(context.Context) error { return <-pings },
		Interval: time.Millisecond,
		Now:      time.Now,
	}
	ctx, cancel := context.WithCancel(t.Context())
	done := make(chan struct{})
	go func() { o.Run(ctx); close(done) }()
	stop := sync.OnceFunc(func() { cancel(); <-done })
	defer stop()

	down := errors.New("connection refused")
	for range 2 {
		for range 100 {
			o.Report(t.Context(), down)
		}
		if !o.Down() {
			t.Fatal("Down() = false during an outage")
		}
		pings <- down // still down: nothing logged
		pings <- nil
		for o.Down() {
			runtime.Gosched() // Run is recording the end
		}
	}
	// Down() turns false before Run writes the recovery line: read the
	// log once Run has returned.
	stop()
	if got := strings.Count(logs.String(), "database unavailable"); got != 2 {
		t.Errorf("%d outage lines for two outages of 100 failures, want 2:\n%s", got, logs.String())
	}
	if got := strings.Count(logs.String(), "database available again"); got != 2 {
		t.Errorf("%d recovery lines, want 2:\n%s", got, logs.String())
	}
	if !strings.Contains(logs.String(), "failed_requests=100") {
		t.Errorf("recovery line does not count the failures:\n%s", logs.String())
	}
}
