package main

import (
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

// TestAnalyseOutage reads a made-up timeline: the database is cut at 10 s
// and back at 20 s.
func TestAnalyseOutage(t *testing.T) {
	t0 := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	at := func(ms int) time.Time { return t0.Add(time.Duration(ms) * time.Millisecond) }
	cut, restore := at(10000), at(20000)
	ev := func(sc string, sent, done, status int, ok bool) event {
		return event{scenario: sc, sent: at(sent), done: at(done), status: status, ok: ok}
	}
	events := []event{
		ev("cc", 9000, 9010, 200, true),       // before
		ev("cc", 9990, 10020, 503, false),     // across the cut
		ev("cc", 12000, 12005, 503, false),    // outage
		ev("cc", 15000, 15005, 401, false),    // outage, wrong
		ev("cc", 19990, 20300, 200, true),     // across the restore: first 200 at +300ms
		ev("cc", 20400, 20405, 503, false),    // after: still failing
		ev("cc", 20500, 20900, 200, true),     // steady from +900ms
		ev("intro", 12000, 12003, 200, false), // outage: a 200 without "active":true
		ev("intro", 21000, 21004, 0, false),   // after: no answer, never recovered
		ev("disc", 15000, 15001, 200, true),
	}
	st := analyseOutage(events, cut, restore)

	wantCounts := map[string]map[string]map[string]int{
		phaseBefore: {"cc": {"200": 1}},
		phaseAcross: {"cc": {"503": 1, "200": 1}},
		phaseOutage: {"cc": {"503": 1, "401": 1}, "intro": {"200 unexpected": 1}, "disc": {"200": 1}},
		phaseAfter:  {"cc": {"503": 1, "200": 1}, "intro": {"no answer": 1}},
	}
	if diff := cmp.Diff(wantCounts, st.counts); diff != "" {
		t.Errorf("counts (-want +got):\n%s", diff)
	}
	wantFirst := map[string]time.Duration{"cc": 300 * time.Millisecond, "intro": -1, "disc": -1}
	if diff := cmp.Diff(wantFirst, st.firstOK); diff != "" {
		t.Errorf("firstOK (-want +got):\n%s", diff)
	}
	wantSteady := map[string]time.Duration{"cc": 405 * time.Millisecond, "intro": -1, "disc": -1}
	if diff := cmp.Diff(wantSteady, st.steady); diff != "" {
		t.Errorf("steady (-want +got):\n%s", diff)
	}
	if got, want := st.slowest[phaseAcross], 310*time.Millisecond; got != want {
		t.Errorf("slowest across: %v, want %v", got, want)
	}
}

// TestReportOutage: the checks of db-outage fail on a 401 during the
// outage and on a route that never recovered, and pass on a clean run.
func TestReportOutage(t *testing.T) {
	clean := outageStats{
		counts: map[string]map[string]map[string]int{
			phaseBefore: {"client_credentials": {"200": 10}, "introspect": {"200": 10}, "discovery": {"200": 10}},
			phaseOutage: {"client_credentials": {"503": 50}, "introspect": {"503": 50}, "discovery": {"200": 50}},
			phaseAfter:  {"client_credentials": {"200": 20}, "introspect": {"200": 20}, "discovery": {"200": 20}},
		},
		firstOK: map[string]time.Duration{"client_credentials": 20 * time.Millisecond, "introspect": 30 * time.Millisecond},
		steady:  map[string]time.Duration{"client_credentials": 20 * time.Millisecond, "introspect": 30 * time.Millisecond},
	}
	r := &faultReport{scenario: "db-outage"}
	reportOutage(r, clean, 10*time.Second)
	if !r.passed() {
		t.Errorf("a clean outage failed: %+v", r.checks)
	}

	bad := clean
	bad.counts = map[string]map[string]map[string]int{
		phaseBefore: clean.counts[phaseBefore],
		phaseOutage: {"client_credentials": {"503": 40, "401": 10}, "introspect": {"503": 50}, "discovery": {"200": 50}},
		phaseAfter:  clean.counts[phaseAfter],
	}
	bad.firstOK = map[string]time.Duration{"client_credentials": 20 * time.Millisecond, "introspect": -1}
	bad.steady = bad.firstOK
	r = &faultReport{scenario: "db-outage"}
	reportOutage(r, bad, 10*time.Second)
	var failed []string
	for _, c := range r.checks {
		if !c.ok {
			failed = append(failed, c.name)
		}
	}
	want := []string{
		"client_credentials during the outage",
		"401, 500 or no answer at any time",
		"restore to the first 200 (slowest route)",
		"restore to steady success (slowest route)",
	}
	if diff := cmp.Diff(want, failed); diff != "" {
		t.Errorf("failed checks (-want +got):\n%s", diff)
	}
}
