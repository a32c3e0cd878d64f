package main

import (
	"fmt"
	"net/http"
	"net/http/httptest"
	"runtime"
	"strings"
	"sync"
	"testing"
)

// TestBrowserChecksFail: the browser tier's checks find what they look
// for, on a page made to break each rule.
func TestBrowserChecksFail(t *testing.T) {
	t.Parallel()
	bad := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		w.Header().Set("Content-Security-Policy", "default-src 'none'")
		fmt.Fprint(w, `<!doctype html><html lang="en"><title>Bad</title>
<form><input id="bare" name="bare" type="text">
<input id="odd" name="odd" type="text" autocomplete="favourite-colour" aria-label="Colour">
<button id="mute" type="submit"></button></form>
<script>console.log("inline scripts are refused")</script></html>`)
	}))
	t.Cleanup(bad.Close)
	tb := newTab(t)
	tb.navigate(t, bad.URL)
	tb.arrive(t, "/")

	rec := &recordingTB{TB: t}
	rec.run(func() { tb.checkAccessible(rec) })
	got := strings.Join(rec.errors, "\n")
	for _, want := range []string{
		"#bare (bare) has no autocomplete attribute",
		"#bare (bare) has no label",
		`#odd (odd): autocomplete="favourite-colour" is not a standard token`,
		"a button (DOM node",
		"CSP violation: script-src-elem blocked inline",
	} {
		if !strings.Contains(got, want) {
			t.Errorf("the checks did not report %q; they reported:\n%s", want, got)
		}
	}
}

// recordingTB keeps the failures reported to it instead of failing the
// test, so that a test can check a checker.
type recordingTB struct {
	testing.TB
	mu     sync.Mutex
	errors []string
}

func (r *recordingTB) Helper() {}

func (r *recordingTB) Errorf(format string, args ...any) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.errors = append(r.errors, fmt.Sprintf(format, args...))
}

func (r *recordingTB) Fatalf(format string, args ...any) {
	r.Errorf(format, args...)
	runtime.Goexit()
}

// run calls f on a goroutine of its own, which Fatalf may end.
func (r *recordingTB) run(f func()) {
	done := make(chan struct{})
	go func() {
		defer close(done)
		f()
	}()
	<-done
}
