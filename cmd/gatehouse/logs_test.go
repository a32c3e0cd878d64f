package main

import (
	"bytes"
	"encoding/json"
	"sync"
	"testing"
)

// logRecorder keeps the server's JSON log lines for tests to inspect and
// shows warnings and errors in the test log.
type logRecorder struct {
	t     testing.TB
	mu    sync.Mutex
	lines [][]byte
}

func (r *logRecorder) Write(p []byte) (int, error) {
	line := bytes.TrimSpace(p)
	r.mu.Lock()
	r.lines = append(r.lines, bytes.Clone(line))
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
	var out []map[string]any
	for _, l := range r.lines {
		var m map[string]any
		if json.Unmarshal(l, &m) == nil && m["msg"] == msg {
			out = append(out, m)
		}
	}
	return out
}
