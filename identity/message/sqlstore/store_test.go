package sqlstore_test

import (
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"gorm.io/gorm"

	"gatehouse/identity/message"
	"gatehouse/identity/message/sqlstore"
	"gatehouse/migrations/dbtest"
)

var t0 = time.Date(2030, 1, 2, 3, 4, 5, 0, time.UTC)

func mustStore(t testing.TB, db *gorm.DB) *sqlstore.Store {
	t.Helper()
	st, err := sqlstore.New(db)
	if err != nil {
		t.Fatal(err)
	}
	return st
}

func mustEnqueue(t testing.TB, st *sqlstore.Store, m message.Message) {
	t.Helper()
	if err := st.Enqueue(t.Context(), m); err != nil {
		t.Fatalf("Enqueue: %v", err)
	}
}

// TestLeaseLostOutcomeIgnored: the attempt count fences the outcomes, so
// a worker whose lease ran out cannot overwrite the outcome of the worker
// that claimed the row after it.
func TestLeaseLostOutcomeIgnored(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, db *gorm.DB) {
		st := mustStore(t, db)
		mustEnqueue(t, st, message.Message{ID: "m1", Kind: "email", To: "ada@example.com", Text: "hi", CreatedAt: t0})
		stale, _, err := st.Claim(t.Context(), t0, t0.Add(time.Minute))
		if err != nil {
			t.Fatal(err)
		}
		now := t0.Add(time.Minute)
		fresh, ok, err := st.Claim(t.Context(), now, now.Add(time.Minute))
		if err != nil || !ok || fresh.Attempts != 2 {
			t.Fatalf("second claim = %+v, %v, %v; want attempt 2", fresh, ok, err)
		}
		if owned, err := st.MarkFailed(t.Context(), stale, "late"); err != nil || owned {
			t.Errorf("MarkFailed by the stale worker = %v, %v; want false, nil", owned, err)
		}
		if owned, err := st.MarkSent(t.Context(), fresh, now); err != nil || !owned {
			t.Errorf("MarkSent by the new owner = %v, %v; want true, nil", owned, err)
		}
		var status, lastError string
		if err := db.Raw(`SELECT status, last_error FROM outbound_messages`).Row().Scan(&status, &lastError); err != nil {
			t.Fatal(err)
		}
		if status != "sent" || lastError != "" {
			t.Errorf("row = %q, %q; want sent with no error", status, lastError)
		}
	})
}

// TestStoresExpiry: the expiry given with a message is kept with it, and
// none is stored for a message without one; the claim returns what was
// queued.
func TestStoresExpiry(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, db *gorm.DB) {
		st := mustStore(t, db)
		at := t0.Add(10 * time.Minute)
		want := []message.Message{
			{ID: "m1", Kind: "email", To: "ada@example.com", Subject: "S", Text: "T", HTML: "<p>H</p>", CreatedAt: t0, ExpiresAt: at},
			{ID: "m2", Kind: "sms", To: "+14155550100", Text: "code", CreatedAt: t0.Add(time.Second)},
		}
		for _, m := range want {
			mustEnqueue(t, st, m)
		}
		var got []message.Message
		for range 2 {
			now := t0.Add(time.Minute)
			c, ok, err := st.Claim(t.Context(), now, now.Add(time.Minute))
			if err != nil || !ok {
				t.Fatalf("Claim = %v, %v", ok, err)
			}
			c.Attempts--
			got = append(got, c)
		}
		if diff := cmp.Diff(want, got); diff != "" {
			t.Errorf("claimed (-want +got):\n%s", diff)
		}
	})
}
