package janitor_test

import (
	"bytes"
	"context"
	"errors"
	"log/slog"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"gatehouse/migrations/janitor"
)

// TestRunKeepsGoingPastAnError: a table whose purge fails is reported and
// the tables after it are still purged, each with its own count.
func TestRunKeepsGoingPastAnError(t *testing.T) {
	boom := errors.New("boom")
	now := time.Date(2030, 1, 1, 0, 0, 0, 0, time.UTC)
	var purgedAt []time.Time
	task := func(table string, n int64, err error) janitor.Task {
		return janitor.Task{Table: table, Purge: func(_ context.Context, at time.Time) (int64, error) {
			purgedAt = append(purgedAt, at)
			return n, err
		}}
	}
	type observed struct {
		Table   string
		Deleted int64
		Failed  bool
	}
	var got []observed
	var failed []string
	var logs bytes.Buffer
	j := &janitor.Janitor{
		Tasks: []janitor.Task{
			task("oauth_requests", 3, nil),
			task("login_flows", 2, boom), // some rows went before the error
			task("one_time_tokens", 0, nil),
			task("outbound_messages", 5, nil),
		},
		Logger:  slog.New(slog.NewTextHandler(&logs, nil)),
		Failed:  func(_ context.Context, msg string, err error) { failed = append(failed, err.Error()) },
		Observe: func(table string, n int64, err error) { got = append(got, observed{table, n, err != nil}) },
	}
	results, err := j.Run(t.Context(), now)
	if !errors.Is(err, boom) {
		t.Errorf("Run error = %v, want boom", err)
	}
	want := []observed{{"oauth_requests", 3, false}, {"login_flows", 2, true}, {"one_time_tokens", 0, false}, {"outbound_messages", 5, false}}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("observed (-want +got):\n%s", diff)
	}
	if len(results) != 4 || janitor.Total(results) != 10 || !errors.Is(results[1].Err, boom) {
		t.Errorf("results = %+v, want 4 with 10 rows and login_flows failed", results)
	}
	if diff := cmp.Diff([]string{"janitor: login_flows: boom"}, failed); diff != "" {
		t.Errorf("failures (-want +got):\n%s", diff)
	}
	for _, at := range purgedAt {
		if !at.Equal(now) {
			t.Errorf("a task purged at %v, want %v", at, now)
		}
	}
	wantLog := `msg="purged expired records" rows=10 tables.oauth_requests=3 tables.login_flows=2 tables.outbound_messages=5`
	if !strings.Contains(logs.String(), wantLog) {
		t.Errorf("log = %s\nwant a line with %s", logs.String(), wantLog)
	}
}

// TestRunStopsWhenCancelled: a pass ends with its context.
func TestRunStopsWhenCancelled(t *testing.T) {
	ctx, cancel := context.WithCancel(t.Context())
	ran := 0
	j := &janitor.Janitor{Tasks: []janitor.Task{
		{Table: "a", Purge: func(context.Context, time.Time) (int64, error) { ran++; cancel(); return 0, nil }},
		{Table: "b", Purge: func(context.Context, time.Time) (int64, error) { ran++; return 0, nil }},
	}}
	if _, err := j.Run(ctx, time.Now()); !errors.Is(err, context.Canceled) {
		t.Errorf("Run = %v, want context.Canceled", err)
	}
	if ran != 1 {
		t.Errorf("%d tasks ran, want 1", ran)
	}
}
