package message_test

import (
	"context"
	"sync"
	"testing"
	"time"

	"gatehouse/identity/message"
	"gatehouse/migrations/dbtest"
)

// TestDrainWaitsForPassUnderWay: a message Run has claimed and is still
// sending is not due for anyone else, so a second pass alone would find
// nothing and return at once. Drain waits for Run's pass: when it returns,
// the message has been sent.
func TestDrainWaitsForPassUnderWay(t *testing.T) {
	db := dbtest.MustOpen(t, "sqlite")
	clk := newClock()
	entered, release := make(chan struct{}), make(chan struct{})
	email := &fakeEmail{err: func(string) error {
		close(entered)
		<-release
		return nil
	}}
	w := &message.Worker{Queue: &message.Queue{Store: mustStore(t, db), Renderer: fakeRenderer{}, Now: clk.Now},
		Email: email, SMS: &fakeSMS{}, Now: clk.Now}
	if err := w.Queue.SendMail(t.Context(), verifyMail); err != nil {
		t.Fatal(err)
	}
	running := make(chan struct{})
	ctx, stop := context.WithCancel(t.Context())
	go func() { w.Run(ctx); close(running) }()
	defer func() { stop(); <-running }()
	var once sync.Once
	free := func() { once.Do(func() { close(release) }) }
	defer free() // before Run is waited for, also when the test fails
	<-entered    // Run's pass holds the message

	drained := make(chan error, 1)
	go func() { drained <- w.Drain(t.Context()) }()
	select {
	case err := <-drained:
		t.Fatalf("Drain returned (%v) while the message was still being sent", err)
	case <-time.After(100 * time.Millisecond): // a failure guard, not a pace
	}
	free()
	if err := <-drained; err != nil {
		t.Fatalf("Drain: %v", err)
	}
	if got := len(email.Sent()); got != 1 {
		t.Errorf("%d e-mails sent when Drain returned, want 1", got)
	}
}
