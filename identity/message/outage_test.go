package message_test

import (
	"fmt"
	"io"
	"log"
	"net"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/emersion/go-smtp"
	"gorm.io/gorm"

	"gatehouse/identity"
	"gatehouse/identity/message"
	"gatehouse/migrations/dbtest"
)

// gatedListener turns every connection away with 421, as a mail server
// that is shutting down or overloaded does (RFC 5321 §3.8), while down is
// set.
type gatedListener struct {
	net.Listener
	down atomic.Bool
}

func (g *gatedListener) Accept() (net.Conn, error) {
	for {
		c, err := g.Listener.Accept()
		if err != nil || !g.down.Load() {
			return c, err
		}
		io.WriteString(c, "421 4.3.2 Service not available, closing transmission channel\r\n")
		c.Close()
	}
}

// startGatedSMTP runs a real SMTP server on 127.0.0.1, down at first.
func startGatedSMTP(t testing.TB) (string, *gatedListener, *smtpBackend) {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	g := &gatedListener{Listener: ln}
	g.down.Store(true)
	be := &smtpBackend{}
	srv := smtp.NewServer(be)
	srv.Domain = "localhost"
	srv.ReadTimeout, srv.WriteTimeout = 10*time.Second, 10*time.Second
	srv.ErrorLog = log.New(io.Discard, "", 0)
	go srv.Serve(g)
	t.Cleanup(func() { srv.Close() })
	return ln.Addr().String(), g, be
}

// received is the set of recipients the server got a message for.
func received(be *smtpBackend) map[string]bool {
	got := map[string]bool{}
	for _, m := range be.Messages() {
		for _, to := range m.To {
			got[to] = true
		}
	}
	return got
}

// TestSMTPOutage: a real SMTP server on loopback refuses every connection
// for two minutes, then takes mail again. The worker runs with the default
// schedule on an injected clock, polled every second of it. Every waiting
// message is delivered within ProbeInterval of the server's return, both
// when mail keeps coming during the outage and when one lone message
// waits (its own backoff may have grown to two minutes by then), and a
// verification mail whose code expired during the outage is dropped, not
// sent.
func TestSMTPOutage(t *testing.T) {
	tests := []struct {
		name  string
		every time.Duration // a new message this often during the outage; 0: one only
	}{
		{"mail keeps coming", 4 * time.Second},
		{"one message", 0},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			dbtest.Each(t, func(t *testing.T, db *gorm.DB) { testSMTPOutage(t, db, tc.every) })
		})
	}
}

func testSMTPOutage(t *testing.T, db *gorm.DB, every time.Duration) {
	addr, gate, be := startGatedSMTP(t)
	clk := newClock()
	q := &message.Queue{Store: mustStore(t, db), Renderer: fakeRenderer{}, Now: clk.Now}
	logger, logs := newTestLogger()
	w := &message.Worker{Queue: q, Email: mustSMTPSender(t, "smtp", nil, addr, nil), SMS: &fakeSMS{}, Now: clk.Now, Logger: logger}
	start := clk.Now()
	poll := func() {
		t.Helper()
		clk.Advance(time.Second)
		if _, _, err := w.DeliverDue(t.Context()); err != nil {
			t.Fatalf("DeliverDue: %v", err)
		}
	}

	code := verifyMail
	code.To, code.ExpiresAt = "code@example.com", start.Add(time.Minute)
	if err := q.SendMail(t.Context(), code); err != nil {
		t.Fatal(err)
	}
	var want []string
	for clk.Now().Sub(start) < 2*time.Minute {
		n := len(want)
		if n == 0 || every > 0 && clk.Now().Sub(start) >= time.Duration(n)*every {
			to := fmt.Sprintf("user%02d@example.com", n)
			if err := q.SendMail(t.Context(), identity.Mail{Kind: identity.MailPasswordChanged, To: to, Name: "User"}); err != nil {
				t.Fatal(err)
			}
			want = append(want, to)
		}
		poll()
	}
	if n := len(be.Messages()); n != 0 {
		t.Fatalf("%d messages got through a server that refused every connection", n)
	}
	var waiting time.Duration // the longest own backoff left
	for _, r := range mustRows(t, db) {
		if r.Status == "queued" {
			waiting = max(waiting, r.NextAttemptAt.Sub(clk.Now()))
		}
	}

	gate.down.Store(false)
	back := clk.Now()
	for len(received(be)) < len(want) && clk.Now().Sub(back) < 10*time.Minute {
		poll()
	}
	took := clk.Now().Sub(back)
	t.Logf("messages queued during a 2-minute outage: %d; own backoff left: up to %v; all delivered %v after the server came back",
		len(want), waiting, took)
	got := received(be)
	for _, to := range want {
		if !got[to] {
			t.Errorf("%s never got its message", to)
		}
	}
	if got["code@example.com"] {
		t.Error("the verification mail was sent after its code had expired")
	}
	if limit := message.DefaultProbeInterval + time.Second; took > limit {
		t.Errorf("delivered %v after the server came back, want within the probe interval (%v)", took, limit)
	}
	if !strings.Contains(logs.String(), "message dropped unsent: its code or link expired") {
		t.Errorf("no log line for the dropped verification mail:\n%s", logs.String())
	}
	if strings.Contains(logs.String(), "SECRETLINKTOKEN") {
		t.Errorf("the log shows the link:\n%s", logs.String())
	}
}
