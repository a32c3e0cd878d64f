package main

import (
	"bytes"
	"encoding/json"
	"sync"
	"testing"
	"time"
)

// logRecorder keeps the server's JSON log lines for tests to inspect and
// shows warnings and errors in the test log.
type logRecorder struct {
	t       testing.TB
	mu      sync.Mutex
	lines   [][]byte
	written chan struct{} // closed at the next write, for Wait
}

func (r *logRecorder) Write(p []byte) (int, error) {
	line := bytes.TrimSpace(p)
	r.mu.Lock()
	r.lines = append(r.lines, bytes.Clone(line))
	if r.written != nil {
		close(r.written)
		r.written = nil
	}
	r.mu.Unlock()
	// A fuzz target's F must not be called from the server's goroutines.
	if _, fuzzing := r.t.(*testing.F); !fuzzing && (bytes.Contains(line, []byte(`"level":"WARN"`)) || bytes.Contains(line, []byte(`"level":"ERROR"`))) {
		r.t.Logf("server log: %s", line)
	}
	return len(p), nil
}

// Records returns the records whose msg is msg, decoded.
func (r *logRecorder) Records(msg string) []map[string]any {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.records(msg)
}

// Wait returns the first record whose msg is msg, waiting for a
// background job to log it (the timeout only bounds a broken run).
func (r *logRecorder) Wait(t testing.TB, msg string) map[string]any {
	t.Helper()
	deadline := time.After(15 * time.Second)
	for {
		r.mu.Lock()
		recs := r.records(msg)
		if r.written == nil {
			r.written = make(chan struct{})
		}
		written := r.written
		r.mu.Unlock()
		if len(recs) > 0 {
			return recs[0]
		}
		select {
		case <-written:
		case <-deadline:
			t.Fatalf("the server did not log %q", msg)
		}
	}
}

func (r *logRecorder) records(msg string) []map[string]any {
	var out []map[string]any
	for _, l := range r.lines {
		var m map[string]any
		if json.Unmarshal(l, &m) == nil && m["msg"] == msg {
			out = append(out, m)
		}
	}
	return out
}
