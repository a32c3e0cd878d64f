package sqlstore_test

import (
	"sync"
	"testing"
	"time"

	"gorm.io/gorm"

	"gatehouse/identity/audit"
	"gatehouse/identity/audit/sqlstore"
)

// t0 has nanoseconds so tests see the truncation to microseconds.
var t0 = time.Date(2026, 1, 2, 3, 4, 5, 123456789, time.UTC)

// clock returns t0, t0+1m, t0+2m, … on successive calls; safe for
// concurrent use.
type clock struct {
	mu sync.Mutex
	n  int
}

func (c *clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.n++
	return t0.Add(time.Duration(c.n-1) * time.Minute)
}

// at returns the (truncated) time of the i-th recorded entry, from 1.
func at(i int) time.Time { return audit.NormalTime(t0.Add(time.Duration(i-1) * time.Minute)) }

func newLog(t testing.TB, db *gorm.DB) *audit.Log {
	t.Helper()
	return &audit.Log{Store: sqlstore.New(db), Now: (&clock{}).Now}
}

// mustRecord records es in order.
func mustRecord(t testing.TB, l *audit.Log, es ...audit.Entry) {
	t.Helper()
	for _, e := range es {
		if err := l.Record(t.Context(), e); err != nil {
			t.Fatalf("Record(%s): %v", e.Action, err)
		}
	}
}

// sample returns n varied entries.
func sample(n int) []audit.Entry {
	base := []audit.Entry{
		{ActorType: audit.ActorUser, ActorID: "u1", Subject: "u1", Action: audit.ActionLoginSucceeded, Outcome: audit.OutcomeSuccess,
			IP: "192.0.2.1", UserAgent: "Mozilla/5.0 (X11; Linux) Gecko/20100101 Firefox/140.0", RequestID: "req-1", Details: audit.Details{"amr": "pwd otp", "connector_id": "local"}},
		{ActorType: audit.ActorUser, ActorID: "u2", Subject: "u2", Action: audit.ActionLoginFailed, Outcome: audit.OutcomeFailure,
			IP: "2001:db8::1", Details: audit.Details{"reason": "bad_password"}},
		{ActorType: audit.ActorAdmin, ActorID: "a1", Subject: "u1", Action: audit.ActionRolesChanged, Outcome: audit.OutcomeSuccess,
			Details: audit.Details{"roles": `["admin","ops"]`, "note": "Zoë – ünïcode \"quoted\"\n"}},
		{ActorType: audit.ActorAdmin, ActorID: "a1", Subject: "c1", Action: audit.ActionClientCreated, Outcome: audit.OutcomeSuccess},
		{ActorType: audit.ActorClient, ActorID: "c1", Subject: "u1", Action: audit.ActionTokenRevoked, Outcome: audit.OutcomeSuccess, Details: audit.Details{"jti": "abc"}},
		{ActorType: audit.ActorUser, ActorID: "u1", Subject: "u1", Action: audit.ActionLogout, Outcome: audit.OutcomeSuccess},
		{ActorType: audit.ActorSystem, Subject: "u2", Action: audit.ActionLockoutStarted, Outcome: audit.OutcomeSuccess, Details: audit.Details{"until": "2026-01-02T04:00:00Z"}},
	}
	out := make([]audit.Entry, n)
	for i := range out {
		out[i] = base[i%len(base)]
	}
	return out
}

// mustVerify runs Verify and fails on an error.
func mustVerify(t testing.TB, l *audit.Log) audit.Report {
	t.Helper()
	r, err := l.Verify(t.Context())
	if err != nil {
		t.Fatalf("Verify: %v", err)
	}
	return r
}

// mustExec runs raw SQL that tampers with the tables.
func mustExec(t testing.TB, db *gorm.DB, sql string, args ...any) {
	t.Helper()
	if err := db.Exec(sql, args...).Error; err != nil {
		t.Fatalf("Exec(%s): %v", sql, err)
	}
}
