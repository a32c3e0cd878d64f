package message_test

import (
	"context"
	"errors"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"gorm.io/gorm"

	"gatehouse/identity/message"
	"gatehouse/migrations/dbtest"
	"gatehouse/migrations/dbtx"
)

// fakeSender records the items of one kind it is handed.
type fakeSender struct {
	mu  sync.Mutex
	got []message.Message
	err error
}

func (f *fakeSender) Deliver(ctx context.Context, m message.Message) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.err != nil {
		return f.err
	}
	f.got = append(f.got, m)
	return nil
}

// TestOutboxNewKind: a new kind of outgoing item (here an analytics
// event) is a kind name, a Sender and Queue.Post: it is queued with the
// transaction that caused it, or not at all, and the worker delivers it
// with the retries every message has.
func TestOutboxNewKind(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, db *gorm.DB) {
		allowKind(t, db, "event")
		clk := newClock()
		q, w, _, _ := newTestQueue(t, db, clk)
		events := &fakeSender{}
		w.Senders = map[string]message.Sender{"event": events}
		tx := dbtx.New(db)
		const body = `{"type":"user.signed_in","user_id":"u1"}`

		boom := errors.New("boom")
		err := tx.Run(t.Context(), func(ctx context.Context) error {
			if err := q.Post(ctx, "event", "analytics", body, time.Time{}); err != nil {
				return err
			}
			return boom
		})
		if !errors.Is(err, boom) {
			t.Fatalf("Run = %v, want boom", err)
		}
		if rows := mustRows(t, db); len(rows) != 0 {
			t.Fatalf("a rolled-back change queued %d items", len(rows))
		}

		if err := tx.Run(t.Context(), func(ctx context.Context) error {
			return q.Post(ctx, "event", "analytics", body, time.Time{})
		}); err != nil {
			t.Fatal(err)
		}
		events.err = errors.New("collector down")
		mustDeliver(t, w, 0, 1)
		if r := mustOneRow(t, db); r.Status != "queued" || r.Attempts != 1 || r.Kind != "event" {
			t.Fatalf("after a failed delivery row = %+v, want queued for a retry", r)
		}
		events.err = nil
		clk.Advance(message.DefaultMaxBackoff)
		mustDeliver(t, w, 1, 0)
		want := []message.Message{{Kind: "event", To: "analytics", Text: body, Attempts: 2}}
		if diff := cmp.Diff(want, events.got, ignoreIDAndTimes); diff != "" {
			t.Errorf("delivered (-want +got):\n%s", diff)
		}
		if r := mustOneRow(t, db); r.Status != "sent" || r.BodyText != "" {
			t.Errorf("row = %+v, want sent with its body blanked", r)
		}
	})
}

// allowKind does what the migration that comes with a new kind does: add
// it to the kinds the outbound_messages_kind constraint accepts. SQLite
// cannot change a constraint in place (the migration rebuilds the table);
// this test's connection, the only one, skips CHECK constraints instead.
func allowKind(t testing.TB, db *gorm.DB, kind string) {
	t.Helper()
	q := `PRAGMA ignore_check_constraints = ON`
	if db.Dialector.Name() == "postgres" {
		q = `ALTER TABLE outbound_messages DROP CONSTRAINT outbound_messages_kind,
			ADD CONSTRAINT outbound_messages_kind CHECK (kind IN ('email', 'sms', 'logout', '` + kind + `'))`
	}
	if err := db.Exec(q).Error; err != nil {
		t.Fatal(err)
	}
}

// TestPostRefusesBuiltInKinds: the built-in kinds keep their own methods,
// which check their recipients.
func TestPostRefusesBuiltInKinds(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, db *gorm.DB) {
		q, _, _, _ := newTestQueue(t, db, newClock())
		for _, kind := range []string{"", "email", "sms", "logout"} {
			if err := q.Post(t.Context(), kind, "x", "y", time.Time{}); err == nil {
				t.Errorf("Post(%q) succeeded", kind)
			}
		}
	})
}

var ignoreIDAndTimes = cmp.FilterPath(func(p cmp.Path) bool {
	switch p.Last().String() {
	case ".ID", ".CreatedAt", ".ExpiresAt":
		return true
	}
	return false
}, cmp.Ignore())
