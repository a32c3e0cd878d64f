package message_test

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"gorm.io/gorm"

	"gatehouse/identity"
	"gatehouse/identity/message"
	"gatehouse/migrations/dbtest"
)

// switchable is a transport that is down until up is set.
type switchable struct {
	mu sync.Mutex
	up bool
}

func (s *switchable) set(up bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.up = up
}

func (s *switchable) err(string) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if !s.up {
		return errors.New("dial tcp: connection refused")
	}
	return nil
}

// mustQueueMails queues one mail to each address.
func mustQueueMails(t testing.TB, q *message.Queue, to ...string) {
	t.Helper()
	for _, addr := range to {
		m := verifyMail
		m.To = addr
		if err := q.SendMail(t.Context(), m); err != nil {
			t.Fatalf("SendMail: %v", err)
		}
	}
}

// statuses is each row's recipient, status and attempts.
func statuses(t testing.TB, db *gorm.DB) []string {
	t.Helper()
	var out []string
	for _, r := range mustRows(t, db) {
		out = append(out, fmt.Sprintf("%s %s %d", r.Recipient, r.Status, r.Attempts))
	}
	return out
}

// TestRecoveryRetriesWaiting: once the SMTP server takes a message again
// after failing, the messages waiting for it go out in the same pass,
// however long their own backoff still had to run.
func TestRecoveryRetriesWaiting(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, db *gorm.DB) {
		clk := newClock()
		q, w, email, sms := newTestQueue(t, db, clk)
		logger, logs := newTestLogger()
		w.Logger = logger
		w.BaseBackoff, w.MaxBackoff, w.ProbeInterval = time.Minute, time.Hour, 24*time.Hour
		server := &switchable{}
		email.err, sms.err = server.err, func(string) error { return errors.New("provider down") }
		mustQueueMails(t, q, "a@example.com", "b@example.com", "c@example.com")
		if err := q.SendSMS(t.Context(), identity.SMS{To: "+14155550100", Text: "code 1"}); err != nil {
			t.Fatal(err)
		}
		mustDeliver(t, w, 0, 4)
		for range 3 { // backoffs grow to 2, 4, 8 minutes
			clk.Advance(time.Hour)
			mustDeliver(t, w, 0, 4)
		}

		server.set(true)
		clk.Advance(time.Second)
		mustQueueMails(t, q, "d@example.com") // due now; the others in minutes
		mustDeliver(t, w, 4, 0)
		want := []string{"a@example.com sent 5", "b@example.com sent 5", "c@example.com sent 5", "+14155550100 queued 4", "d@example.com sent 1"}
		if diff := cmp.Diff(sorted(want), sorted(statuses(t, db))); diff != "" {
			t.Errorf("rows (-want +got):\n%s", diff)
		}
		if !strings.Contains(logs.String(), `"msg":"message delivery works again; the waiting messages are retried now","message_id":`) ||
			!strings.Contains(logs.String(), `"retried":3`) {
			t.Errorf("no recovery log line with the count:\n%s", logs.String())
		}
	})
}

// TestRecoveryKeepsBackoffOfBadRecipient: a message that fails on its own
// (its recipient's server refuses it for a while) while others go through
// keeps to its backoff; it is not retried at every success.
func TestRecoveryKeepsBackoffOfBadRecipient(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, db *gorm.DB) {
		clk := newClock()
		q, w, email, _ := newTestQueue(t, db, clk)
		w.BaseBackoff, w.ProbeInterval = time.Minute, 24*time.Hour
		email.err = func(to string) error {
			if to == "greylisted@example.com" {
				return errors.New("451 4.7.1 greylisted, try again later")
			}
			return nil
		}
		mustQueueMails(t, q, "first@example.com")
		clk.Advance(time.Millisecond)
		mustQueueMails(t, q, "greylisted@example.com")
		mustDeliver(t, w, 1, 1)
		for i := range 5 {
			clk.Advance(time.Second)
			mustQueueMails(t, q, fmt.Sprintf("next%d@example.com", i))
			mustDeliver(t, w, 1, 0)
		}
		for _, r := range mustRows(t, db) {
			if r.Recipient == "greylisted@example.com" && r.Attempts != 1 {
				t.Errorf("greylisted recipient tried %d times in 5 seconds of other deliveries, want 1", r.Attempts)
			}
		}
	})
}

// TestProbe: while the SMTP server is down, one waiting message is tried
// every ProbeInterval however long its own backoff, so the queue learns of
// the server's return within that interval and then sends the rest; text
// messages, whose provider works, are not held up by it.
func TestProbe(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, db *gorm.DB) {
		clk := newClock()
		q, w, email, sms := newTestQueue(t, db, clk)
		w.BaseBackoff, w.MaxBackoff, w.ProbeInterval = time.Hour, time.Hour, 15*time.Second
		server := &switchable{}
		email.err = server.err
		mustQueueMails(t, q, "a@example.com", "b@example.com")
		mustDeliver(t, w, 0, 2) // next attempts an hour away

		clk.Advance(14 * time.Second)
		mustDeliver(t, w, 0, 0)
		clk.Advance(time.Second)
		mustDeliver(t, w, 0, 1) // the probe: one of them, still failing
		mustDeliver(t, w, 0, 0) // one probe per interval
		if err := q.SendSMS(t.Context(), identity.SMS{To: "+14155550100", Text: "code 1"}); err != nil {
			t.Fatal(err)
		}
		mustDeliver(t, w, 1, 0)

		server.set(true)
		clk.Advance(15 * time.Second)
		mustDeliver(t, w, 2, 0) // the probe succeeds, the other follows
		if n := len(email.Sent()); n != 2 {
			t.Errorf("%d e-mails sent, want 2", n)
		}
		if n := len(sms.Sent()); n != 1 {
			t.Errorf("%d texts sent, want 1", n)
		}
	})
}

// TestProbePassesOverStaleMessages: a probe that picks a message whose
// code has expired drops it and probes with the next one at once; the
// transport was not tried.
func TestProbePassesOverStaleMessages(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, db *gorm.DB) {
		clk := newClock()
		q, w, email, _ := newTestQueue(t, db, clk)
		w.BaseBackoff, w.MaxBackoff, w.ProbeInterval = time.Hour, time.Hour, 15*time.Second
		server := &switchable{}
		email.err = server.err
		code := verifyMail
		code.To, code.ExpiresAt = "code@example.com", clk.Now().Add(10*time.Second)
		if err := q.SendMail(t.Context(), code); err != nil {
			t.Fatal(err)
		}
		mustDeliver(t, w, 0, 1) // next attempt in 30 to 60 minutes
		w.BaseBackoff, w.MaxBackoff = 2*time.Hour, 2*time.Hour
		mustQueueMails(t, q, "notice@example.com")
		mustDeliver(t, w, 0, 1) // in 1 to 2 hours: the code is probed first

		server.set(true)
		clk.Advance(15 * time.Second)
		mustDeliver(t, w, 1, 1) // the code is dropped, the notice sent
		want := []string{"code@example.com failed 1", "notice@example.com sent 2"}
		if diff := cmp.Diff(want, statuses(t, db)); diff != "" {
			t.Errorf("rows (-want +got):\n%s", diff)
		}
	})
}

// TestRecoveryPerLogoutURI: back-channel logouts go to each relying party
// on its own; one RP's return retries its own waiting tokens, not another
// RP's.
func TestRecoveryPerLogoutURI(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, db *gorm.DB) {
		clk := newClock()
		q, w, _, _ := newTestQueue(t, db, clk)
		w.BaseBackoff, w.ProbeInterval = time.Hour, 24*time.Hour
		up := map[string]bool{}
		var mu sync.Mutex
		w.Logout = logoutFunc(func(_ context.Context, uri, _ string) error {
			mu.Lock()
			defer mu.Unlock()
			if !up[uri] {
				return errors.New("status 503")
			}
			return nil
		})
		for _, uri := range []string{"https://rp1.example/logout", "https://rp2.example/logout"} {
			if err := q.SendLogout(t.Context(), uri, "token"); err != nil {
				t.Fatal(err)
			}
		}
		mustDeliver(t, w, 0, 2)
		mu.Lock()
		up["https://rp1.example/logout"] = true
		mu.Unlock()
		clk.Advance(time.Second)
		if err := q.SendLogout(t.Context(), "https://rp1.example/logout", "token"); err != nil {
			t.Fatal(err)
		}
		mustDeliver(t, w, 2, 0)
		want := []string{"https://rp1.example/logout sent 2", "https://rp1.example/logout sent 1", "https://rp2.example/logout queued 1"}
		if diff := cmp.Diff(sorted(want), sorted(statuses(t, db))); diff != "" {
			t.Errorf("rows (-want +got):\n%s", diff)
		}
	})
}

type logoutFunc func(ctx context.Context, uri, token string) error

func (f logoutFunc) SendLogout(ctx context.Context, uri, token string) error {
	return f(ctx, uri, token)
}

// TestExpiredCodeDropped: a message whose code or link has expired is
// dropped unsent, however it came to wait that long, and the log says so
// without the code or link; a message without an expiry is still sent.
func TestExpiredCodeDropped(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, db *gorm.DB) {
		clk := newClock()
		q, w, email, sms := newTestQueue(t, db, clk)
		logger, logs := newTestLogger()
		w.Logger = logger
		server := &switchable{}
		email.err, sms.err = server.err, server.err
		code := verifyMail
		code.To, code.ExpiresAt = "code@example.com", clk.Now().Add(10*time.Minute)
		if err := q.SendMail(t.Context(), code); err != nil {
			t.Fatal(err)
		}
		if err := q.SendSMS(t.Context(), identity.SMS{To: "+14155550100", Text: "Your code is 493817", ExpiresAt: clk.Now().Add(10 * time.Minute)}); err != nil {
			t.Fatal(err)
		}
		notice := identity.Mail{Kind: identity.MailPasswordChanged, To: "notice@example.com", Name: "Ada"}
		if err := q.SendMail(t.Context(), notice); err != nil {
			t.Fatal(err)
		}
		mustDeliver(t, w, 0, 3)

		server.set(true)
		clk.Advance(10 * time.Minute) // the codes' lifetime is over
		mustDeliver(t, w, 1, 2)
		if sent := email.Sent(); len(sent) != 1 || sent[0].To != "notice@example.com" || len(sms.Sent()) != 0 {
			t.Errorf("sent %+v and %+v, want only the notice", sent, sms.Sent())
		}
		for _, r := range mustRows(t, db) {
			if r.Recipient == "notice@example.com" {
				continue
			}
			want := row{ID: r.ID, Kind: r.Kind, Recipient: r.Recipient, Status: "failed", Attempts: 1,
				NextAttemptAt: r.NextAttemptAt, CreatedAt: r.CreatedAt,
				LastError: "expired before delivery: its code or link no longer works; last error: dial tcp: connection refused"}
			if diff := cmp.Diff(want, r); diff != "" {
				t.Errorf("dropped row (-want +got):\n%s", diff)
			}
		}
		out := logs.String()
		if n := strings.Count(out, "message dropped unsent: its code or link expired"); n != 2 {
			t.Errorf("%d drop log lines, want 2:\n%s", n, out)
		}
		for _, secret := range []string{"493817", "SECRETLINKTOKEN"} {
			if strings.Contains(out, secret) {
				t.Errorf("log shows %q:\n%s", secret, out)
			}
		}
	})
}
