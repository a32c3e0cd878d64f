package message_test

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"gorm.io/gorm"

	"gatehouse/identity"
	"gatehouse/identity/message"
	"gatehouse/identity/message/sqlstore"
	"gatehouse/migrations"
	"gatehouse/migrations/dbtest"
)

// newTestQueue returns a queue and a worker on db sharing clk.
func newTestQueue(t testing.TB, db *gorm.DB, clk *clock) (*message.Queue, *message.Worker, *fakeEmail, *fakeSMS) {
	q := &message.Queue{Store: mustStore(t, db), Renderer: fakeRenderer{}, Now: clk.Now}
	email, sms := &fakeEmail{}, &fakeSMS{}
	w := &message.Worker{Queue: q, Email: email, SMS: sms, Now: clk.Now}
	return q, w, email, sms
}

func TestSendMailDeliversOnce(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, db *gorm.DB) {
		clk := newClock()
		q, w, email, _ := newTestQueue(t, db, clk)
		ctx := t.Context()
		if err := q.SendMail(ctx, verifyMail); err != nil {
			t.Fatalf("SendMail: %v", err)
		}
		queued := mustOneRow(t, db)
		wantQueued := row{
			ID: queued.ID, Kind: "email", Recipient: "ada@example.com", Subject: "Subject verify_email",
			BodyText:      "Hello Ada, code 493817, link https://login.example.com/verify?t=SECRETLINKTOKEN",
			BodyHTML:      `<p>Hello Ada, code <b>493817</b>, <a href="https://login.example.com/verify?t=SECRETLINKTOKEN">link</a></p>`,
			Status:        "queued",
			NextAttemptAt: clk.Now(), CreatedAt: clk.Now(),
		}
		if diff := cmp.Diff(wantQueued, queued); diff != "" {
			t.Errorf("queued row mismatch (-want +got):\n%s", diff)
		}

		clk.Advance(time.Second)
		mustDeliver(t, w, 1, 0)
		want := []sentEmail{{ID: queued.ID, To: "ada@example.com", Subject: wantQueued.Subject,
			Text: wantQueued.BodyText, HTML: wantQueued.BodyHTML}}
		if diff := cmp.Diff(want, email.Sent()); diff != "" {
			t.Errorf("sent e-mails mismatch (-want +got):\n%s", diff)
		}
		wantSent := row{
			ID: queued.ID, Kind: "email", Recipient: "ada@example.com", Status: "sent", Attempts: 1,
			NextAttemptAt: queued.NextAttemptAt, SentAt: clk.Now(), CreatedAt: queued.CreatedAt,
		}
		if diff := cmp.Diff(wantSent, mustOneRow(t, db)); diff != "" {
			t.Errorf("sent row mismatch (-want +got):\n%s", diff)
		}

		clk.Advance(time.Hour)
		mustDeliver(t, w, 0, 0)
		if n := len(email.Sent()); n != 1 {
			t.Errorf("after a second pass %d e-mails were sent, want 1", n)
		}
	})
}

func TestSendSMSDelivers(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, db *gorm.DB) {
		clk := newClock()
		q, w, email, sms := newTestQueue(t, db, clk)
		if err := q.SendSMS(t.Context(), identity.SMS{To: "+14155550100", Text: "Your code is 493817"}); err != nil {
			t.Fatalf("SendSMS: %v", err)
		}
		mustDeliver(t, w, 1, 0)
		r := mustOneRow(t, db)
		if diff := cmp.Diff([]sentSMS{{ID: r.ID, To: "+14155550100", Text: "Your code is 493817"}}, sms.Sent()); diff != "" {
			t.Errorf("sent SMS mismatch (-want +got):\n%s", diff)
		}
		if len(email.Sent()) != 0 {
			t.Errorf("an SMS went out as e-mail: %+v", email.Sent())
		}
		if r.Kind != "sms" || r.Status != "sent" || r.BodyText != "" {
			t.Errorf("row = %+v, want a sent sms with its body blanked", r)
		}
	})
}

func TestQueueRejects(t *testing.T) {
	db := dbtest.MustOpen(t, "sqlite")
	renderErr := errors.New("template broke")
	tests := []struct {
		name    string
		send    func(q *message.Queue) error
		wantErr string
		wantIs  error
	}{
		{
			name: "mail without address",
			send: func(q *message.Queue) error {
				return q.SendMail(t.Context(), identity.Mail{Kind: identity.MailPasswordReset})
			},
			wantErr: "message: queue password_reset: recipient is not an e-mail address",
		},
		{
			name: "render error",
			send: func(q *message.Queue) error {
				q.Renderer = fakeRenderer{render: func(identity.Mail) (string, string, string, error) { return "", "", "", renderErr }}
				return q.SendMail(t.Context(), verifyMail)
			},
			wantErr: "message: render verify_email: template broke",
			wantIs:  renderErr,
		},
		{
			name: "national number",
			send: func(q *message.Queue) error {
				return q.SendSMS(t.Context(), identity.SMS{To: "4155550100", Text: "hi"})
			},
			wantErr: "message: queue sms: recipient is not an E.164 number",
		},
		{
			name:    "empty text",
			send:    func(q *message.Queue) error { return q.SendSMS(t.Context(), identity.SMS{To: "+14155550100"}) },
			wantErr: "message: queue sms: empty text",
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			q := &message.Queue{Store: mustStore(t, db), Renderer: fakeRenderer{}}
			err := tc.send(q)
			if err == nil || err.Error() != tc.wantErr {
				t.Errorf("error = %v, want %q", err, tc.wantErr)
			}
			if tc.wantIs != nil && !errors.Is(err, tc.wantIs) {
				t.Errorf("error %v does not wrap %v", err, tc.wantIs)
			}
		})
	}
	if rows := mustRows(t, db); len(rows) != 0 {
		t.Errorf("rejected messages were queued: %+v", rows)
	}
}

// TestRetryWithBackoffUntilMaxAge: a message that keeps failing is
// retried with a growing, capped, jittered delay, however many attempts
// that takes, and given up (without one more attempt) once MaxAge old.
// Probes are left out here (a day apart); TestProbe covers them.
func TestRetryWithBackoffUntilMaxAge(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, db *gorm.DB) {
		clk := newClock()
		q, w, email, _ := newTestQueue(t, db, clk)
		logger, logs := newTestLogger()
		w.Logger = logger
		w.MaxAge, w.BaseBackoff, w.MaxBackoff, w.ProbeInterval = 40*time.Minute, time.Minute, 4*time.Minute, 24*time.Hour
		calls := 0
		email.err = func(string) error {
			calls++
			return fmt.Errorf("451 4.3.0 try again later (call %d)", calls)
		}
		if err := q.SendMail(t.Context(), verifyMail); err != nil {
			t.Fatalf("SendMail: %v", err)
		}
		created := clk.Now()

		// Delays are drawn from [d/2, d] with d = 1m, 2m, 4m, then 4m
		// (capped) until the message is 40 minutes old.
		ceilings := []time.Duration{time.Minute, 2 * time.Minute, 4 * time.Minute}
		attempt := 0
		for clk.Now().Sub(created) < w.MaxAge {
			attempt++
			mustDeliver(t, w, 0, 1)
			r := mustOneRow(t, db)
			if r.Status != "queued" || r.Attempts != attempt {
				t.Fatalf("after attempt %d: status %q, attempts %d; want queued, %d", attempt, r.Status, r.Attempts, attempt)
			}
			d := 4 * time.Minute
			if attempt <= len(ceilings) {
				d = ceilings[attempt-1]
			}
			if delay := r.NextAttemptAt.Sub(clk.Now()); delay < d/2 || delay > d {
				t.Errorf("after attempt %d: retry in %v, want between %v and %v", attempt, delay, d/2, d)
			}
			if want := fmt.Sprintf("451 4.3.0 try again later (call %d)", attempt); r.LastError != want {
				t.Errorf("after attempt %d: last_error = %q, want %q", attempt, r.LastError, want)
			}
			if r.BodyText == "" {
				t.Errorf("after attempt %d: body blanked while the message is still queued", attempt)
			}

			// Not due yet: nothing happens.
			clk.Set(r.NextAttemptAt.Add(-time.Microsecond))
			mustDeliver(t, w, 0, 0)
			clk.Set(r.NextAttemptAt)
		}
		if attempt <= 8 {
			t.Errorf("%d attempts in 40 minutes, want more than the 8 an attempt limit used to allow", attempt)
		}

		mustDeliver(t, w, 0, 1) // due, but too old: given up unsent
		r := mustOneRow(t, db)
		want := row{
			ID: r.ID, Kind: "email", Recipient: "ada@example.com", Status: "failed", Attempts: attempt,
			NextAttemptAt: r.NextAttemptAt, CreatedAt: r.CreatedAt,
			LastError: fmt.Sprintf("not delivered within its maximum age; last error: 451 4.3.0 try again later (call %d)", attempt),
		}
		if diff := cmp.Diff(want, r); diff != "" {
			t.Errorf("failed row mismatch (-want +got):\n%s", diff)
		}
		clk.Advance(24 * time.Hour)
		mustDeliver(t, w, 0, 0)
		if calls != attempt {
			t.Errorf("sender called %d times, want %d", calls, attempt)
		}

		out := logs.String()
		for _, secret := range []string{verifyMail.Code, "SECRETLINKTOKEN", "Hello Ada"} {
			if strings.Contains(out, secret) {
				t.Errorf("log shows %q:\n%s", secret, out)
			}
		}
		for _, want := range []string{`"message_id":"` + r.ID + `"`, `"kind":"email"`, "not delivered within its maximum age", "will retry"} {
			if !strings.Contains(out, want) {
				t.Errorf("log lacks %s:\n%s", want, out)
			}
		}
	})
}

func TestUndeliverableFailsAtOnce(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, db *gorm.DB) {
		clk := newClock()
		q, w, _, sms := newTestQueue(t, db, clk)
		sms.err = func(string) error { return fmt.Errorf("twilio: status 400: %w", message.ErrUndeliverable) }
		if err := q.SendSMS(t.Context(), identity.SMS{To: "+14155550100", Text: "code 493817"}); err != nil {
			t.Fatalf("SendSMS: %v", err)
		}
		mustDeliver(t, w, 0, 1)
		r := mustOneRow(t, db)
		if r.Status != "failed" || r.Attempts != 1 || r.BodyText != "" || !strings.Contains(r.LastError, "status 400") {
			t.Errorf("row = %+v, want failed after one attempt, body blanked, the error kept", r)
		}
	})
}

// mustOpenURL opens and migrates the database at url; each call is a new
// handle (a new process, as far as the database can tell).
func mustOpenURL(t testing.TB, url string) *gorm.DB {
	t.Helper()
	db, err := migrations.Open(url)
	if err != nil {
		t.Fatalf("open: %v", err)
	}
	t.Cleanup(func() { closeDB(db) })
	if _, err := migrations.Up(context.Background(), db); err != nil {
		t.Fatalf("migrate: %v", err)
	}
	return db
}

func closeDB(db *gorm.DB) {
	if sqlDB, err := db.DB(); err == nil {
		sqlDB.Close()
	}
}

// TestConcurrentWorkersSendEachOnce runs two workers, each on its own
// database handle like two instances, over one database at once.
func TestConcurrentWorkersSendEachOnce(t *testing.T) {
	for _, dialect := range dbtest.Dialects {
		t.Run(dialect, func(t *testing.T) {
			url := dbtest.MustMigratedURL(t, dialect)
			dbA, dbB := mustOpenURL(t, url), mustOpenURL(t, url)
			clk := newClock()
			q := &message.Queue{Store: mustStore(t, dbA), Renderer: fakeRenderer{}, Now: clk.Now}
			const n = 40
			for i := range n {
				m := verifyMail
				m.To = fmt.Sprintf("user%02d@example.com", i)
				if err := q.SendMail(t.Context(), m); err != nil {
					t.Fatalf("SendMail: %v", err)
				}
			}

			// The first worker to send holds its message until the other
			// has sent one, so the two certainly overlap.
			var (
				mu       sync.Mutex
				count    = map[string]int{}
				first    = -1
				released = make(chan struct{})
				release  sync.Once
			)
			sender := func(i int) *fakeEmail {
				return &fakeEmail{err: func(to string) error {
					mu.Lock()
					wait := first == -1
					if wait {
						first = i
					}
					count[to]++
					mu.Unlock()
					if wait {
						select {
						case <-released:
						case <-time.After(10 * time.Second): // a failure guard, not a pace
							t.Error("the other worker sent nothing while one held a message")
						}
					} else if i != first {
						release.Do(func() { close(released) })
					}
					return nil
				}}
			}
			workers := []*message.Worker{
				{Queue: &message.Queue{Store: mustStore(t, dbA), Now: clk.Now}, Email: sender(0), SMS: &fakeSMS{}, Now: clk.Now},
				{Queue: &message.Queue{Store: mustStore(t, dbB), Now: clk.Now}, Email: sender(1), SMS: &fakeSMS{}, Now: clk.Now},
			}
			var wg sync.WaitGroup
			sent := make([]int, len(workers))
			for i, w := range workers {
				wg.Go(func() {
					s, f, err := w.DeliverDue(t.Context())
					if err != nil || f != 0 {
						t.Errorf("worker %d: DeliverDue = (%d, %d, %v)", i, s, f, err)
					}
					sent[i] = s
				})
			}
			wg.Wait()

			if sent[0]+sent[1] != n || sent[0] == 0 || sent[1] == 0 {
				t.Errorf("workers sent %v, want %d in all and some each", sent, n)
			}
			for i := range n {
				to := fmt.Sprintf("user%02d@example.com", i)
				if count[to] != 1 {
					t.Errorf("%s got %d e-mails, want 1", to, count[to])
				}
			}
			for _, r := range mustRows(t, dbA) {
				if r.Status != "sent" || r.Attempts != 1 {
					t.Errorf("row %s: status %q, attempts %d; want sent, 1", r.Recipient, r.Status, r.Attempts)
				}
			}
		})
	}
}

// TestRestartLosesNothing queues messages, "crashes" with one of them
// claimed mid-send, and delivers everything from a new handle and worker.
func TestRestartLosesNothing(t *testing.T) {
	for _, dialect := range dbtest.Dialects {
		t.Run(dialect, func(t *testing.T) {
			url := dbtest.MustMigratedURL(t, dialect)
			clk := newClock()

			first := mustOpenURL(t, url)
			q := &message.Queue{Store: mustStore(t, first), Renderer: fakeRenderer{}, Now: clk.Now}
			for _, to := range []string{"a@example.com", "b@example.com", "c@example.com"} {
				m := verifyMail
				m.To = to
				if err := q.SendMail(t.Context(), m); err != nil {
					t.Fatalf("SendMail: %v", err)
				}
			}
			if err := q.SendSMS(t.Context(), identity.SMS{To: "+14155550100", Text: "code 1"}); err != nil {
				t.Fatalf("SendSMS: %v", err)
			}
			st, err := sqlstore.New(first)
			if err != nil {
				t.Fatal(err)
			}
			lease := message.DefaultSendTimeout + message.LeaseMargin
			crashed, ok, err := st.Claim(t.Context(), clk.Now(), clk.Now().Add(lease))
			if err != nil || !ok {
				t.Fatalf("claim = %v, %v", ok, err)
			}
			closeDB(first)

			second := mustOpenURL(t, url)
			email, sms := &fakeEmail{}, &fakeSMS{}
			w := &message.Worker{Queue: &message.Queue{Store: mustStore(t, second), Now: clk.Now}, Email: email, SMS: sms, Now: clk.Now}
			mustDeliver(t, w, 3, 0) // the claimed one waits for its lease
			clk.Advance(lease)
			mustDeliver(t, w, 1, 0)

			var got []string
			for _, e := range email.Sent() {
				got = append(got, e.To)
			}
			for _, s := range sms.Sent() {
				got = append(got, s.To)
			}
			slices.Sort(got)
			want := []string{"+14155550100", "a@example.com", "b@example.com", "c@example.com"}
			if diff := cmp.Diff(want, got); diff != "" {
				t.Errorf("delivered mismatch (-want +got):\n%s", diff)
			}
			for _, r := range mustRows(t, second) {
				wantAttempts := 1
				if r.ID == crashed.ID {
					wantAttempts = 2
				}
				if r.Status != "sent" || r.Attempts != wantAttempts {
					t.Errorf("row %s: status %q, attempts %d; want sent, %d", r.Recipient, r.Status, r.Attempts, wantAttempts)
				}
			}
		})
	}
}

func TestRunWakesOnSend(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, db *gorm.DB) {
		clk := newClock()
		q := &message.Queue{Store: mustStore(t, db), Renderer: fakeRenderer{}, Now: clk.Now}
		delivered := make(chan string, 1)
		email := &fakeEmail{err: func(to string) error { delivered <- to; return nil }}
		// Polling an hour apart: only the wake-up can deliver in time.
		w := &message.Worker{Queue: q, Email: email, SMS: &fakeSMS{}, Now: clk.Now, PollInterval: time.Hour}

		ctx, cancel := context.WithCancel(t.Context())
		done := make(chan struct{})
		go func() { defer close(done); w.Run(ctx) }()
		defer func() { cancel(); <-done }()

		if err := q.SendMail(t.Context(), verifyMail); err != nil {
			t.Fatalf("SendMail: %v", err)
		}
		select {
		case to := <-delivered:
			if to != verifyMail.To {
				t.Errorf("delivered to %q, want %q", to, verifyMail.To)
			}
		case <-time.After(10 * time.Second): // a failure guard, not a pace
			t.Fatal("Run did not deliver a freshly queued message")
		}
	})
}

func TestPurge(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, db *gorm.DB) {
		clk := newClock()
		q, w, email, _ := newTestQueue(t, db, clk)
		w.MaxAge = 30 * 24 * time.Hour // the old queued one is still tried
		send := func(to string) {
			m := verifyMail
			m.To = to
			if err := q.SendMail(t.Context(), m); err != nil {
				t.Fatalf("SendMail: %v", err)
			}
		}
		send("old-sent@example.com")
		send("old-failed@example.com")
		email.err = func(to string) error {
			if to == "old-failed@example.com" {
				return message.ErrUndeliverable
			}
			return nil
		}
		mustDeliver(t, w, 1, 1)
		email.err = func(string) error { return errors.New("down") }
		send("old-queued@example.com")
		mustDeliver(t, w, 0, 1)
		clk.Advance(10 * 24 * time.Hour)
		email.err = nil
		send("new-sent@example.com")
		mustDeliver(t, w, 2, 0) // the new one and the retried old one

		n, err := q.Purge(t.Context(), clk.Now().Add(-message.DefaultRetention))
		if err != nil {
			t.Fatalf("Purge: %v", err)
		}
		if n != 3 {
			t.Errorf("Purge deleted %d rows, want 3", n)
		}
		var left []string
		for _, r := range mustRows(t, db) {
			left = append(left, r.Recipient)
		}
		if diff := cmp.Diff([]string{"new-sent@example.com"}, left); diff != "" {
			t.Errorf("rows left mismatch (-want +got):\n%s", diff)
		}
	})
}

// TestBackoff: the default schedule starts at 5 s, doubles, and is
// capped at 2 minutes; each delay is drawn from the upper half of its
// step.
func TestBackoff(t *testing.T) {
	w := &message.Worker{}
	tests := []struct {
		attempt int
		ceiling time.Duration
	}{
		{1, 5 * time.Second},
		{2, 10 * time.Second},
		{3, 20 * time.Second},
		{4, 40 * time.Second},
		{5, 80 * time.Second},
		{6, 2 * time.Minute},
		{500, 2 * time.Minute},
	}
	for _, tc := range tests {
		t.Run(fmt.Sprint(tc.attempt), func(t *testing.T) {
			seen := map[time.Duration]bool{}
			for range 200 {
				got := w.Backoff(tc.attempt)
				if got < tc.ceiling/2 || got > tc.ceiling {
					t.Fatalf("backoff(%d) = %v, want between %v and %v", tc.attempt, got, tc.ceiling/2, tc.ceiling)
				}
				seen[got] = true
			}
			if len(seen) < 100 {
				t.Errorf("backoff(%d) took %d distinct values in 200 draws: too little jitter", tc.attempt, len(seen))
			}
		})
	}
}

func TestShortError(t *testing.T) {
	tests := []struct {
		name string
		err  error
		want string
	}{
		{"nil", nil, ""},
		{"one line", errors.New("421 busy\r\nsecond line"), "421 busy  second line"},
		{"long", errors.New(strings.Repeat("é", 200)), strings.Repeat("é", 150)},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if diff := cmp.Diff(tc.want, message.ShortError(tc.err)); diff != "" {
				t.Errorf("message.ShortError mismatch (-want +got):\n%s", diff)
			}
		})
	}
}
