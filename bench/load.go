package main

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"net/http"
	"sync"
	"time"
)

const (
	maxBody       = 1 << 20 // bytes of an answer kept for checking
	maxSamples    = 5       // distinct error answers kept for printing
	maxSampleBody = 300     // bytes of an error answer printed
)

// result is what one run measured. Latencies cover successful answers
// only; an error answer is often faster and would flatter the figures.
type result struct {
	Scenario     string   `json:"scenario"`
	Concurrency  int      `json:"concurrency"`
	DurationS    float64  `json:"duration_s"`
	Requests     uint64   `json:"requests"`
	Errors       uint64   `json:"errors"`
	WarmupErrors uint64   `json:"warmup_errors"`
	RPS          float64  `json:"requests_per_second"`
	P50MS        float64  `json:"p50_ms"`
	P95MS        float64  `json:"p95_ms"`
	P99MS        float64  `json:"p99_ms"`
	ErrorSamples []string `json:"error_samples,omitempty"`
}

// worker holds one worker's counters; only that worker writes them until
// run has waited for it.
type worker struct {
	hist         histogram
	requests     uint64
	errors       uint64
	warmupErrors uint64
	buf          bytes.Buffer
}

// samples keeps the first few distinct error answers.
type samples struct {
	mu   sync.Mutex
	seen map[string]bool
	list []string
}

func (s *samples) add(msg string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if len(s.list) >= maxSamples || s.seen[msg] {
		return
	}
	s.seen[msg] = true
	s.list = append(s.list, msg)
}

// drainGrace is how long requests in flight at the end may take to finish
// before they are cancelled. Cancelling them at once would make the server
// log aborted database writes that are artefacts of the cut.
const drainGrace = 5 * time.Second

// run drives sc with opts.concurrency closed-loop workers for
// warmup+duration. Requests in flight at the end are let finish, for at
// most drainGrace, and not counted.
func run(ctx context.Context, rt http.RoundTripper, sc *scenario, opts options) result {
	start := time.Now()
	warmEnd := start.Add(opts.warmup)
	end := warmEnd.Add(opts.duration)
	ctx, cancel := context.WithDeadline(ctx, end.Add(drainGrace))
	defer cancel()

	smp := &samples{seen: map[string]bool{}}
	workers := make([]*worker, opts.concurrency)
	var wg sync.WaitGroup
	for i := range workers {
		w := &worker{}
		workers[i] = w
		if sc.logins != nil {
			wg.Go(func() { w.signInLoop(ctx, sc, i, len(workers), warmEnd, end, smp) })
			continue
		}
		wg.Go(func() { w.loop(ctx, rt, sc, i, warmEnd, end, smp) })
	}
	wg.Wait()

	var total worker
	for _, w := range workers {
		total.hist.merge(&w.hist)
		total.requests += w.requests
		total.errors += w.errors
		total.warmupErrors += w.warmupErrors
	}
	ms := func(q float64) float64 { return float64(total.hist.quantile(q)) / float64(time.Millisecond) }
	return result{
		Scenario: sc.name, Concurrency: opts.concurrency, DurationS: opts.duration.Seconds(),
		Requests: total.requests, Errors: total.errors, WarmupErrors: total.warmupErrors,
		RPS:   float64(total.requests) / opts.duration.Seconds(),
		P50MS: ms(0.50), P95MS: ms(0.95), P99MS: ms(0.99), ErrorSamples: smp.list,
	}
}

// loop sends requests one after the other until end. Worker i starts
// at body i so that workers spread over the introspection tokens.
func (w *worker) loop(ctx context.Context, rt http.RoundTripper, sc *scenario, i int, warmEnd, end time.Time, smp *samples) {
	base := sc.baseRequest(ctx)
	for n := i; ctx.Err() == nil && time.Now().Before(end); n++ {
		var body []byte
		if len(sc.bodies) > 0 {
			body = sc.bodies[n%len(sc.bodies)]
		}
		t0 := time.Now()
		_, msg := w.send(rt, withBody(base, body), sc.want)
		if !w.count(ctx, msg, t0, warmEnd, end, smp) {
			return
		}
	}
}

// count records one answer that took from t0 until now, with msg its
// error ("" for success), and reports whether the run goes on. An answer
// cut off by the end of the run is neither success nor error.
func (w *worker) count(ctx context.Context, msg string, t0, warmEnd, end time.Time, smp *samples) bool {
	t1 := time.Now()
	if ctx.Err() != nil || t1.After(end) {
		return false
	}
	switch ok := msg == ""; {
	case !ok && t1.Before(warmEnd):
		w.warmupErrors++
		smp.add(msg)
	case !ok:
		w.requests++
		w.errors++
		smp.add(msg)
	case !t1.Before(warmEnd):
		w.requests++
		w.hist.record(t1.Sub(t0))
	}
	return true
}

// signInLoop runs whole sign-ins of sc.logins one after the other until
// end; worker i of n uses its own share of the users.
func (w *worker) signInLoop(ctx context.Context, sc *scenario, i, n int, warmEnd, end time.Time, smp *samples) {
	for round := 0; ctx.Err() == nil && time.Now().Before(end); round++ {
		u, step, err := sc.logins.pick(ctx, i, n, round)
		if err != nil {
			return
		}
		t0 := time.Now()
		msg := sc.logins.signIn(ctx, u, step)
		if !w.count(ctx, msg, t0, warmEnd, end, smp) {
			return
		}
	}
}

// send makes one request and reads the whole answer, so the connection
// goes back to the pool. It returns the answer's status (0 when there was
// none) and, unless it was the expected one, a short description of it;
// an empty description means success.
func (w *worker) send(rt http.RoundTripper, req *http.Request, want []byte) (int, string) {
	resp, err := rt.RoundTrip(req)
	if err != nil {
		return 0, "transport: " + err.Error()
	}
	w.buf.Reset()
	_, err = w.buf.ReadFrom(io.LimitReader(resp.Body, maxBody))
	_, _ = io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	switch {
	case err != nil:
		return 0, fmt.Sprintf("status %d: read body: %v", resp.StatusCode, err)
	case resp.StatusCode != http.StatusOK:
		return resp.StatusCode, fmt.Sprintf("status %d: %s", resp.StatusCode, truncate(w.buf.Bytes()))
	case want != nil && !bytes.Contains(w.buf.Bytes(), want):
		return resp.StatusCode, fmt.Sprintf("status 200 without %s: %s", want, truncate(w.buf.Bytes()))
	}
	return resp.StatusCode, ""
}

func truncate(b []byte) string {
	b = bytes.TrimSpace(b)
	if len(b) > maxSampleBody {
		return string(b[:maxSampleBody]) + "…"
	}
	return string(b)
}
