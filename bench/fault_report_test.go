package main

import (
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

func TestFaultReportPassed(t *testing.T) {
	for _, tc := range []struct {
		name  string
		build func(r *faultReport)
		want  bool
	}{
		{name: "every check met", want: true, build: func(r *faultReport) {
			r.checkCount("answers 500", 0, 0)
			r.checkAtMost("restore to steady success", 1500*time.Millisecond, 2*time.Second)
			r.checkAtMost("at the limit", 2*time.Second, 2*time.Second)
		}},
		{name: "a count off", build: func(r *faultReport) {
			r.checkCount("answers 500", 0, 0)
			r.checkCount("acknowledged resets lost", 19, 0)
		}},
		{name: "too slow", build: func(r *faultReport) {
			r.checkAtMost("restore to the last delivery", 96*time.Second, 30*time.Second)
		}},
		{name: "never happened", build: func(r *faultReport) {
			r.checkAtMost("restore to the first 200", -1, 2*time.Second)
		}},
		{name: "failed by the caller", build: func(r *faultReport) {
			r.checkThat("exit status", false, "1", "0")
		}},
		{name: "not run to the end", build: func(r *faultReport) {
			r.checkCount("answers 500", 0, 0)
			r.err = errors.New("bench: connect to PostgreSQL: refused")
		}},
		{name: "nothing checked", build: func(*faultReport) {}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := &faultReport{scenario: "x"}
			tc.build(r)
			if got := r.passed(); got != tc.want {
				t.Errorf("passed() = %v, want %v; checks %+v", got, tc.want, r.checks)
			}
		})
	}
}

func TestFaultReportWrite(t *testing.T) {
	r := &faultReport{scenario: "db-outage", logDir: "/tmp/logs"}
	r.figure("recovery", "first 200 %s", seconds(19*time.Millisecond))
	r.checkCount("answers 500", 0, 0)
	r.checkAtMost("restore to the first 200", -1, 2*time.Second)
	var b strings.Builder
	if err := r.write(&b); err != nil {
		t.Fatal(err)
	}
	want := `== db-outage: FAIL ==
  recovery      first 200 0.019s
  [PASS] answers 500: 0 (want 0)
  [FAIL] restore to the first 200: never (want ≤ 2.000s)
  server logs in /tmp/logs
`
	if diff := cmp.Diff(want, b.String()); diff != "" {
		t.Errorf("write (-want +got):\n%s", diff)
	}
}

func TestWriteSummary(t *testing.T) {
	ok := &faultReport{scenario: "db-outage"}
	ok.checkCount("answers 500", 0, 0)
	slow := &faultReport{scenario: "smtp-outage"}
	slow.checkCount("resets delivered", 20, 20)
	slow.checkAtMost("restore to the last delivery", 96*time.Second, 30*time.Second)
	broken := &faultReport{scenario: "kill9-reset", err: errors.New("boom")}
	var b strings.Builder
	if err := writeSummary(&b, []*faultReport{ok, slow, broken}); err != nil {
		t.Fatal(err)
	}
	want := `== summary ==
  db-outage         PASS
  smtp-outage       FAIL (restore to the last delivery)
  kill9-reset       FAIL (not run to the end)
`
	if diff := cmp.Diff(want, b.String()); diff != "" {
		t.Errorf("writeSummary (-want +got):\n%s", diff)
	}
}

func TestFormatCounts(t *testing.T) {
	for _, tc := range []struct {
		name string
		in   map[string]int
		want string
	}{
		{name: "empty", in: nil, want: "none"},
		{name: "zeros left out", in: map[string]int{"503": 0}, want: "none"},
		{name: "largest first, ties by label", in: map[string]int{"200": 3, "503": 12, "401": 3, "no answer": 1}, want: "503×12, 200×3, 401×3, no answer×1"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := formatCounts(tc.in); got != tc.want {
				t.Errorf("formatCounts(%v) = %q, want %q", tc.in, got, tc.want)
			}
		})
	}
}

func TestCountOther(t *testing.T) {
	c := map[string]int{"303": 67, "503": 133, "500": 2, "no answer": 5}
	if got, want := countOther(c, "303", "503"), 7; got != want {
		t.Errorf("countOther = %d, want %d", got, want)
	}
	if got := countOther(nil, "503"); got != 0 {
		t.Errorf("countOther(nil) = %d, want 0", got)
	}
}

func TestFaultScenarioList(t *testing.T) {
	for _, tc := range []struct {
		list    string
		want    []string
		wantErr bool
	}{
		{list: "all", want: []string{"sigterm-flood", "db-outage", "db-down-at-start", "smtp-outage", "kill9-reset"}},
		{list: "kill9-reset,db-outage", want: []string{"kill9-reset", "db-outage"}},
		{list: "db-outage,db-slow", wantErr: true},
	} {
		f := faultOptions{list: tc.list}
		list, err := f.scenarios()
		if (err != nil) != tc.wantErr {
			t.Errorf("scenarios(%q): error %v, want error %v", tc.list, err, tc.wantErr)
			continue
		}
		var got []string
		for _, s := range list {
			got = append(got, s.name)
		}
		if diff := cmp.Diff(tc.want, got); diff != "" {
			t.Errorf("scenarios(%q) (-want +got):\n%s", tc.list, diff)
		}
	}
}
