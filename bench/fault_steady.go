package main

import (
	"context"
	"net/http"
	"sync"
	"time"
)

// The steady load of the db-outage scenario: a few workers per scenario,
// each sending one request, pausing steadyPause and sending the next, so
// the load stays the same whatever the server answers (a closed loop
// would turn fast 503s into a flood). Every answer is kept with its times,
// to be read against the moments the database went and came back.

const (
	steadyWorkers = 2                     // per scenario
	steadyPause   = 20 * time.Millisecond // between one worker's requests
)

// event is the answer to one request of the steady load.
type event struct {
	scenario   string
	sent, done time.Time
	status     int  // 0: no answer
	ok         bool // the expected answer (a 200 with the expected field)
}

// label names the outcome for counting: the status, "200 unexpected" for
// a 200 without the expected field, or "no answer".
func (e event) label() string {
	if e.status == http.StatusOK && !e.ok {
		return "200 unexpected"
	}
	return statusLabel(e.status)
}

// steadyLoad runs the workers until stop.
type steadyLoad struct {
	cancel context.CancelFunc
	wg     sync.WaitGroup
	mu     sync.Mutex
	events []event
}

func startSteadyLoad(ctx context.Context, rt http.RoundTripper, scenarios []*scenario) *steadyLoad {
	ctx, cancel := context.WithCancel(ctx)
	l := &steadyLoad{cancel: cancel}
	for _, sc := range scenarios {
		for i := range steadyWorkers {
			l.wg.Go(func() { l.loop(ctx, rt, sc, i) })
		}
	}
	return l
}

func (l *steadyLoad) loop(ctx context.Context, rt http.RoundTripper, sc *scenario, i int) {
	w := &worker{}
	base := sc.baseRequest(ctx)
	for n := i; ctx.Err() == nil; n++ {
		var body []byte
		if len(sc.bodies) > 0 {
			body = sc.bodies[n%len(sc.bodies)]
		}
		sent := time.Now()
		status, msg := w.send(rt, withBody(base, body), sc.want)
		done := time.Now()
		if ctx.Err() != nil {
			return // cut off by the end of the run
		}
		l.mu.Lock()
		l.events = append(l.events, event{scenario: sc.name, sent: sent, done: done, status: status, ok: msg == ""})
		l.mu.Unlock()
		select {
		case <-ctx.Done():
		case <-time.After(steadyPause):
		}
	}
}

// stop ends the load and returns every answer.
func (l *steadyLoad) stop() []event {
	l.cancel()
	l.wg.Wait()
	return l.events
}

// Phases of a request relative to an outage.
const (
	phaseBefore = "before" // answered before the cut
	phaseOutage = "outage" // sent after the cut, answered before the restore
	phaseAcross = "across" // in flight at the cut or at the restore
	phaseAfter  = "after"  // sent after the restore
)

// phaseOf places e relative to an outage from cut to restore.
func phaseOf(e event, cut, restore time.Time) string {
	switch {
	case e.done.Before(cut):
		return phaseBefore
	case !e.sent.Before(cut) && e.done.Before(restore):
		return phaseOutage
	case !e.sent.Before(restore):
		return phaseAfter
	}
	return phaseAcross
}

// outageStats is what the answers of a steady load say about an outage.
type outageStats struct {
	// counts is the number of answers by phase, scenario and label.
	counts map[string]map[string]map[string]int
	// slowest is the longest answer per phase.
	slowest map[string]time.Duration
	// firstOK is, per scenario, the time from the restore to the first
	// expected answer that came after it; -1 when none came.
	firstOK map[string]time.Duration
	// steady is, per scenario, the time from the restore until every
	// answer was the expected one: the later of firstOK and the end of
	// the last other answer that came after the restore; -1 when no
	// expected answer came.
	steady map[string]time.Duration
}

// analyseOutage sorts the answers of a steady load into phases and works
// out how soon each scenario recovered after restore.
func analyseOutage(events []event, cut, restore time.Time) outageStats {
	st := outageStats{
		counts:  map[string]map[string]map[string]int{},
		slowest: map[string]time.Duration{},
		firstOK: map[string]time.Duration{},
		steady:  map[string]time.Duration{},
	}
	lastBad := map[string]time.Duration{}
	for _, e := range events {
		ph := phaseOf(e, cut, restore)
		if st.counts[ph] == nil {
			st.counts[ph] = map[string]map[string]int{}
		}
		if st.counts[ph][e.scenario] == nil {
			st.counts[ph][e.scenario] = map[string]int{}
		}
		st.counts[ph][e.scenario][e.label()]++
		st.slowest[ph] = max(st.slowest[ph], e.done.Sub(e.sent))
		if _, seen := st.firstOK[e.scenario]; !seen {
			st.firstOK[e.scenario] = -1
		}
		if e.done.Before(restore) {
			continue
		}
		since := e.done.Sub(restore)
		if e.ok {
			if first := st.firstOK[e.scenario]; first < 0 || since < first {
				st.firstOK[e.scenario] = since
			}
		} else {
			lastBad[e.scenario] = max(lastBad[e.scenario], since)
		}
	}
	for sc, first := range st.firstOK {
		st.steady[sc] = first
		if first >= 0 {
			st.steady[sc] = max(first, lastBad[sc])
		}
	}
	return st
}
