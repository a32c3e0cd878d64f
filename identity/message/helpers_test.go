package message_test

import (
	"bytes"
	"context"
	"fmt"
	"log/slog"
	"sync"
	"testing"
	"time"

	"gorm.io/gorm"

	"gatehouse/identity"
	"gatehouse/identity/message"
	"gatehouse/identity/message/sqlstore"
)

// fakeRenderer renders with a function, or with a fixed layout.
type fakeRenderer struct {
	render func(m identity.Mail) (subject, text, html string, err error)
}

func (r fakeRenderer) RenderMail(m identity.Mail) (string, string, string, error) {
	if r.render != nil {
		return r.render(m)
	}
	return "Subject " + string(m.Kind),
		fmt.Sprintf("Hello %s, code %s, link %s", m.Name, m.Code, m.Link),
		fmt.Sprintf("<p>Hello %s, code <b>%s</b>, <a href=%q>link</a></p>", m.Name, m.Code, m.Link),
		nil
}

// clock is an injected time that only moves when told.
type clock struct {
	mu sync.Mutex
	t  time.Time
}

func newClock() *clock {
	return &clock{t: time.Date(2030, 1, 2, 3, 4, 5, 0, time.UTC)}
}

func (c *clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *clock) Set(t time.Time) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = t
}

func (c *clock) Advance(d time.Duration) { c.Set(c.Now().Add(d)) }

// sentEmail is one call of fakeEmail.SendEmail.
type sentEmail struct {
	ID, To, Subject, Text, HTML string
}

// fakeEmail records e-mails; err, when set, decides each call's outcome.
type fakeEmail struct {
	mu   sync.Mutex
	sent []sentEmail
	err  func(to string) error
}

func (f *fakeEmail) SendEmail(ctx context.Context, to, subject, text, html string) error {
	if f.err != nil {
		if err := f.err(to); err != nil {
			return err
		}
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	f.sent = append(f.sent, sentEmail{ID: message.MessageIDFrom(ctx), To: to, Subject: subject, Text: text, HTML: html})
	return nil
}

func (f *fakeEmail) Sent() []sentEmail {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]sentEmail(nil), f.sent...)
}

// sentSMS is one call of fakeSMS.SendSMS.
type sentSMS struct {
	ID, To, Text string
}

type fakeSMS struct {
	mu   sync.Mutex
	sent []sentSMS
	err  func(to string) error
}

func (f *fakeSMS) SendSMS(ctx context.Context, to, text string) error {
	if f.err != nil {
		if err := f.err(to); err != nil {
			return err
		}
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	f.sent = append(f.sent, sentSMS{ID: message.MessageIDFrom(ctx), To: to, Text: text})
	return nil
}

func (f *fakeSMS) Sent() []sentSMS {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]sentSMS(nil), f.sent...)
}

// syncBuffer is a log destination safe for concurrent writers.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

func newTestLogger() (*slog.Logger, *syncBuffer) {
	buf := &syncBuffer{}
	return slog.New(slog.NewJSONHandler(buf, &slog.HandlerOptions{Level: slog.LevelDebug})), buf
}

// row is one row of outbound_messages as the tests read it.
type row struct {
	ID, Kind, Recipient, Subject, BodyText, BodyHTML, Status string
	Attempts                                                 int
	NextAttemptAt, LockedUntil, SentAt, CreatedAt            time.Time // zero for NULL
	LastError                                                string
}

// mustStore returns the queue's store over db.
func mustStore(t testing.TB, db *gorm.DB) *sqlstore.Store {
	t.Helper()
	st, err := sqlstore.New(db)
	if err != nil {
		t.Fatal(err)
	}
	return st
}

// mustRows returns every row, oldest first.
func mustRows(t testing.TB, db *gorm.DB) []row {
	t.Helper()
	sqlDB, err := db.DB()
	if err != nil {
		t.Fatal(err)
	}
	rs, err := sqlDB.QueryContext(context.Background(), `SELECT id, kind, recipient, subject, body_text, body_html,
		status, attempts, next_attempt_at, locked_until, sent_at, created_at, last_error
		FROM outbound_messages ORDER BY created_at, id`)
	if err != nil {
		t.Fatalf("select rows: %v", err)
	}
	defer rs.Close()
	var out []row
	for rs.Next() {
		var r row
		if err := rs.Scan(&r.ID, &r.Kind, &r.Recipient, &r.Subject, &r.BodyText, &r.BodyHTML, &r.Status, &r.Attempts,
			scanTime{&r.NextAttemptAt}, scanTime{&r.LockedUntil}, scanTime{&r.SentAt}, scanTime{&r.CreatedAt},
			&r.LastError); err != nil {
			t.Fatalf("scan row: %v", err)
		}
		out = append(out, r)
	}
	if err := rs.Err(); err != nil {
		t.Fatalf("rows: %v", err)
	}
	return out
}

// mustOneRow returns the only row.
func mustOneRow(t testing.TB, db *gorm.DB) row {
	t.Helper()
	rows := mustRows(t, db)
	if len(rows) != 1 {
		t.Fatalf("got %d rows, want 1: %+v", len(rows), rows)
	}
	return rows[0]
}

// mustDeliver runs DeliverDue and checks its counts.
func mustDeliver(t testing.TB, w *message.Worker, wantSent, wantFailed int) {
	t.Helper()
	sent, failed, err := w.DeliverDue(context.Background())
	if err != nil {
		t.Fatalf("DeliverDue: %v", err)
	}
	if sent != wantSent || failed != wantFailed {
		t.Fatalf("DeliverDue = (sent %d, failed %d), want (%d, %d)", sent, failed, wantSent, wantFailed)
	}
}

var verifyMail = identity.Mail{
	Kind: identity.MailVerifyEmail, To: "ada@example.com", Name: "Ada",
	Link: "https://login.example.com/verify?t=SECRETLINKTOKEN", Code: "493817", ExpiresIn: "10 minutes",
}

// scanTime reads a time column from either database: time.Time, or the
// queue's fixed-width text on SQLite. NULL is the zero time.
type scanTime struct{ t *time.Time }

func (s scanTime) Scan(src any) error {
	var err error
	switch v := src.(type) {
	case nil:
		*s.t = time.Time{}
	case time.Time:
		*s.t = v.UTC()
	case string:
		*s.t, err = time.Parse(time.RFC3339Nano, v)
	case []byte:
		*s.t, err = time.Parse(time.RFC3339Nano, string(v))
	default:
		err = fmt.Errorf("cannot scan %T into a time", src)
	}
	return err
}
