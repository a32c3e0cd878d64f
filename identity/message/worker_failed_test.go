package message_test

import (
	"context"
	"strings"
	"testing"

	"gatehouse/identity/message"
	"gatehouse/migrations/dbtest"
)

// TestWorkerReportsFailedPass: a pass that fails on the database goes to
// JobFailed (which the server turns into one outage line), not to an
// error line at every poll.
func TestWorkerReportsFailedPass(t *testing.T) {
	db := mustOpenURL(t, dbtest.MustMigratedURL(t, "sqlite"))
	sqlDB, err := db.DB()
	if err != nil {
		t.Fatal(err)
	}
	sqlDB.Close() // every statement now fails
	logger, logs := newTestLogger()
	ctx, cancel := context.WithCancel(t.Context())
	reported := make(chan string, 10)
	w := &message.Worker{Queue: &message.Queue{Store: mustStore(t, db), Renderer: fakeRenderer{}, Now: newClock().Now}, Email: &fakeEmail{}, Logger: logger,
		JobFailed: func(_ context.Context, msg string, err error) {
			if err != nil {
				reported <- msg
			}
		}}
	done := make(chan struct{})
	go func() { w.Run(ctx); close(done) }()
	msg := <-reported
	cancel()
	<-done
	if msg != "message queue pass failed" {
		t.Errorf("JobFailed told %q, want the failed pass", msg)
	}
	if strings.Contains(logs.String(), "pass failed") {
		t.Errorf("the failed pass was logged as well:\n%s", logs.String())
	}
}
