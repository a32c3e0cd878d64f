package sqlstore_test

import (
	"context"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/google/uuid"
	"gorm.io/gorm"

	"gatehouse/identity"
	"gatehouse/identity/audit"
	auditsql "gatehouse/identity/audit/sqlstore"
	idsql "gatehouse/identity/sqlstore"
	"gatehouse/identity/usage"
	"gatehouse/identity/usage/sqlstore"
	"gatehouse/migrations/dbtest"
)

// day1 is a Monday; the script crosses into Tuesday at midnight UTC.
var day1 = time.Date(2026, 3, 2, 0, 0, 0, 0, time.UTC)

// script is a clock and an audit log whose entries happen when the
// script says.
type script struct {
	mu  sync.Mutex
	now time.Time
	log *audit.Log
}

func (s *script) Now() time.Time {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.now
}

func (s *script) at(t testing.TB, when time.Time, es ...audit.Entry) {
	t.Helper()
	s.mu.Lock()
	s.now = when
	s.mu.Unlock()
	for _, e := range es {
		if e.Outcome == "" {
			e.Outcome = audit.OutcomeSuccess
		}
		if err := s.log.Record(t.Context(), e); err != nil {
			t.Fatalf("Record(%s): %v", e.Action, err)
		}
	}
}

func signedIn(user, client, method string) audit.Entry {
	d := audit.Details{"amr": "pwd", "method": method, "session_id": "s"}
	if client != "" {
		d["client_id"] = client
	}
	return audit.Entry{ActorType: audit.ActorUser, ActorID: user, Subject: user, Action: audit.ActionLoginSucceeded, Details: d}
}

func failed(client string) audit.Entry {
	d := audit.Details{"reason": "bad_credentials"}
	if client != "" {
		d["client_id"] = client
	}
	return audit.Entry{ActorType: audit.ActorUser, Action: audit.ActionLoginFailed, Outcome: audit.OutcomeFailure, Details: d}
}

func event(action, user string) audit.Entry {
	return audit.Entry{ActorType: audit.ActorUser, ActorID: user, Subject: user, Action: action}
}

type fixture struct {
	db     *gorm.DB
	script *script
	store  *sqlstore.Store
	tokens *usage.Tokens
	worker *usage.Worker
}

func newFixture(t *testing.T, db *gorm.DB) *fixture {
	t.Helper()
	sc := &script{now: day1}
	trail := auditsql.New(db)
	sc.log = &audit.Log{Store: trail, Now: sc.Now}
	st := sqlstore.New(db, trail)
	tokens := &usage.Tokens{Store: st, Now: sc.Now}
	w := &usage.Worker{Store: st, Tokens: tokens, Now: sc.Now, Batch: 4,
		Failed: func(_ context.Context, msg string, err error) { t.Errorf("%s: %v", msg, err) }}
	return &fixture{db: db, script: sc, store: st, tokens: tokens, worker: w}
}

// play runs the scripted Monday and Tuesday: sign-ups, sign-ins through
// two clients and the pages with several methods, failures, a lockout, a
// reset, a verification and tokens.
func (f *fixture) play(t *testing.T) {
	sc := f.script
	sc.at(t, day1.Add(9*time.Hour),
		event(audit.ActionUserRegistered, "u1"), event(audit.ActionUserRegistered, "u2"), event(audit.ActionUserRegistered, "u3"),
		signedIn("u1", "app-a", usage.MethodPassword), signedIn("u1", "app-a", usage.MethodPassword),
		signedIn("u2", "app-a", usage.MethodPasskey), signedIn("u3", "app-b", usage.MethodTOTP),
		signedIn("u3", "", usage.MethodPassword),
		failed("app-a"), failed(""),
		event(audit.ActionEmailVerified, "u1"))
	f.tokens.Issued("app-a", "authorization_code")
	f.tokens.Issued("app-a", "authorization_code")
	f.tokens.Issued("app-b", "client_credentials")
	// Late Monday and early Tuesday: the same user counts on each day.
	sc.at(t, day1.Add(23*time.Hour+59*time.Minute), signedIn("u2", "app-b", usage.MethodCode))
	f.worker.Step(t.Context())
	sc.at(t, day1.Add(24*time.Hour+time.Minute),
		signedIn("u2", "app-b", usage.MethodRecovery), failed("app-b"),
		audit.Entry{ActorType: audit.ActorSystem, Subject: "u1", Action: audit.ActionLockoutStarted},
		event(audit.ActionPasswordReset, "u1"),
		audit.Entry{ActorType: audit.ActorUser, Subject: "u1", Action: audit.ActionPasswordReset, Outcome: audit.OutcomeFailure})
	f.tokens.Issued("app-a", "refresh_token")
	f.worker.Step(t.Context())
}

type row struct {
	Day, Metric, ClientID, Dimension string
	Count                            int64
}

func (f *fixture) rows(t *testing.T) map[row]bool {
	t.Helper()
	var rs []row
	if err := f.db.Raw(`SELECT day, metric, client_id, dimension, count FROM usage_counts
		WHERE metric NOT IN ('users_total', 'users_with_mfa')`).Scan(&rs).Error; err != nil {
		t.Fatal(err)
	}
	out := map[row]bool{}
	for _, r := range rs {
		out[r] = true
	}
	return out
}

// wantRows are the aggregates of play, counted by hand.
func wantRows() map[row]bool {
	mon, tue := "2026-03-02", "2026-03-03"
	rs := []row{
		{mon, "sign_ups", "", "", 3},
		{mon, "sign_ins", "", "", 6}, {mon, "sign_ins", "app-a", "", 3}, {mon, "sign_ins", "app-b", "", 2},
		{mon, "sign_ins_by_method", "", "password", 3}, {mon, "sign_ins_by_method", "app-a", "password", 2},
		{mon, "sign_ins_by_method", "", "passkey", 1}, {mon, "sign_ins_by_method", "app-a", "passkey", 1},
		{mon, "sign_ins_by_method", "", "totp", 1}, {mon, "sign_ins_by_method", "app-b", "totp", 1},
		{mon, "sign_ins_by_method", "", "code", 1}, {mon, "sign_ins_by_method", "app-b", "code", 1},
		{mon, "daily_active_users", "", "", 3}, {mon, "daily_active_users", "app-a", "", 2}, {mon, "daily_active_users", "app-b", "", 2},
		{mon, "sign_ins_failed", "", "", 2}, {mon, "sign_ins_failed", "app-a", "", 1},
		{mon, "emails_verified", "", "", 1},
		{mon, "tokens_issued", "", "", 3}, {mon, "tokens_issued", "app-a", "", 2}, {mon, "tokens_issued", "app-b", "", 1},
		{mon, "tokens_by_grant", "", "authorization_code", 2}, {mon, "tokens_by_grant", "app-a", "authorization_code", 2},
		{mon, "tokens_by_grant", "", "client_credentials", 1}, {mon, "tokens_by_grant", "app-b", "client_credentials", 1},
		{tue, "sign_ins", "", "", 1}, {tue, "sign_ins", "app-b", "", 1},
		{tue, "sign_ins_by_method", "", "recovery_code", 1}, {tue, "sign_ins_by_method", "app-b", "recovery_code", 1},
		{tue, "daily_active_users", "", "", 1}, {tue, "daily_active_users", "app-b", "", 1},
		{tue, "sign_ins_failed", "", "", 1}, {tue, "sign_ins_failed", "app-b", "", 1},
		{tue, "lockouts", "", "", 1}, {tue, "password_resets", "", "", 1},
		{tue, "tokens_issued", "", "", 1}, {tue, "tokens_issued", "app-a", "", 1},
		{tue, "tokens_by_grant", "", "refresh_token", 1}, {tue, "tokens_by_grant", "app-a", "refresh_token", 1},
	}
	out := map[row]bool{}
	for _, r := range rs {
		out[r] = true
	}
	return out
}

func TestAggregatesEqualTheEvents(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, db *gorm.DB) {
		f := newFixture(t, db)
		f.play(t)
		if diff := cmp.Diff(wantRows(), f.rows(t)); diff != "" {
			t.Errorf("aggregates mismatch (-want +got):\n%s", diff)
		}
		// Running again counts nothing twice.
		f.worker.Step(t.Context())
		f.worker.Step(t.Context())
		if diff := cmp.Diff(wantRows(), f.rows(t)); diff != "" {
			t.Errorf("aggregates after running again mismatch (-want +got):\n%s", diff)
		}
	})
}

func TestConcurrentWorkersCountOnce(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, db *gorm.DB) {
		f := newFixture(t, db)
		const n = 60
		var es []audit.Entry
		for i := range n {
			es = append(es, signedIn("u"+string(rune('a'+i%26)), "app-a", usage.MethodPassword))
		}
		f.script.at(t, day1.Add(time.Hour), es...)
		var wg sync.WaitGroup
		for range 4 {
			wg.Add(1)
			go func() {
				defer wg.Done()
				for {
					got, err := f.store.Aggregate(t.Context(), 7)
					if err != nil {
						t.Errorf("Aggregate: %v", err)
						return
					}
					if got == 0 {
						return
					}
				}
			}()
		}
		wg.Wait()
		got := f.rows(t)
		for _, want := range []row{
			{"2026-03-02", "sign_ins", "", "", n}, {"2026-03-02", "sign_ins", "app-a", "", n},
			{"2026-03-02", "daily_active_users", "", "", 26}, {"2026-03-02", "daily_active_users", "app-a", "", 26},
		} {
			if !got[want] {
				t.Errorf("missing %+v in %v", want, got)
			}
		}
		seq, err := f.store.Cursor(t.Context())
		if err != nil || seq != n {
			t.Errorf("Cursor() = %d, %v; want %d", seq, err, n)
		}
	})
}

func TestReportOfTheScript(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, db *gorm.DB) {
		f := newFixture(t, db)
		users := idsql.NewUserStore(db)
		for i := range 7 {
			id := uuid.Must(uuid.NewV7()).String()
			u := &identity.User{ID: id, Username: "user" + string(rune('a'+i)), Email: id + "@example.com",
				Status: identity.StatusActive, CreatedAt: day1, UpdatedAt: day1}
			if err := users.CreateUser(t.Context(), u, ""); err != nil {
				t.Fatal(err)
			}
			if i < 5 {
				if err := db.Exec(`INSERT INTO mfa_factors (id, user_id, kind, secret_sealed, created_at, confirmed_at) VALUES (?, ?, 'totp', 'x', ?, ?)`,
					uuid.NewString(), id, day1, day1).Error; err != nil {
					t.Fatal(err)
				}
			}
		}
		f.play(t)
		svc := &usage.Service{Store: f.store, MinCell: 1, Now: f.script.Now}
		r, err := svc.Report(t.Context(), usage.Query{From: day1, To: day1.AddDate(0, 0, 2)})
		if err != nil {
			t.Fatal(err)
		}
		c := func(n int64) usage.Count { return usage.Count{Value: n} }
		wantTotals := map[usage.Metric]usage.Count{
			usage.SignUps: c(3), usage.SignIns: c(7), usage.SignInsFailed: c(3), usage.DailyActiveUsers: c(3),
			usage.Lockouts: c(1), usage.PasswordResets: c(1), usage.EmailsVerified: c(1), usage.TokensIssued: c(4),
		}
		if diff := cmp.Diff(wantTotals, r.Totals); diff != "" {
			t.Errorf("Totals mismatch (-want +got):\n%s", diff)
		}
		wantDAU := []usage.Point{{Start: day1, Count: c(3)}, {Start: day1.AddDate(0, 0, 1), Count: c(1)}}
		if diff := cmp.Diff(wantDAU, r.Daily[usage.DailyActiveUsers]); diff != "" {
			t.Errorf("daily active users mismatch (-want +got):\n%s", diff)
		}
		wantClients := []usage.Share{{Key: "app-a", Label: "app-a", Count: c(3)}, {Key: "app-b", Label: "app-b", Count: c(3)},
			{Key: "", Label: "Gatehouse pages", Count: c(1)}}
		if diff := cmp.Diff(wantClients, r.SignInsByClient); diff != "" {
			t.Errorf("SignInsByClient mismatch (-want +got):\n%s", diff)
		}
		wantMethods := []usage.Share{{Key: "password", Label: "password", Count: c(3)}, {Key: "code", Label: "code", Count: c(1)},
			{Key: "passkey", Label: "passkey", Count: c(1)}, {Key: "recovery_code", Label: "recovery_code", Count: c(1)},
			{Key: "totp", Label: "totp", Count: c(1)}}
		if diff := cmp.Diff(wantMethods, r.SignInsByMethod); diff != "" {
			t.Errorf("SignInsByMethod mismatch (-want +got):\n%s", diff)
		}
		if r.UsersTotal != c(7) || r.UsersWithMFA != c(5) {
			t.Errorf("users = %v, with MFA %v; want 7 and 5", r.UsersTotal, r.UsersWithMFA)
		}
		if r.ActiveUsers != c(3) || len(r.WeeklyActiveUsers) != 1 || r.WeeklyActiveUsers[0].Count != c(3) {
			t.Errorf("active users = %v, weekly %v; want 3", r.ActiveUsers, r.WeeklyActiveUsers)
		}

		// A period with a whole week inside and days at both edges.
		r, err = svc.Report(t.Context(), usage.Query{From: day1.AddDate(0, 0, -3), To: day1.AddDate(0, 0, 10)})
		if err != nil {
			t.Fatal(err)
		}
		if r.ActiveUsers != c(3) || len(r.MonthlyActiveUsers) != 2 || r.MonthlyActiveUsers[1].Count != c(3) || r.MonthlyActiveUsers[0].Count != c(0) {
			t.Errorf("active users = %v, monthly %v; want 3, and 0 then 3", r.ActiveUsers, r.MonthlyActiveUsers)
		}

		// One client: its figures only.
		r, err = svc.Report(t.Context(), usage.Query{From: day1, To: day1.AddDate(0, 0, 2), ClientID: "app-b"})
		if err != nil {
			t.Fatal(err)
		}
		if r.Totals[usage.SignIns] != c(3) || r.Totals[usage.TokensIssued] != c(1) || r.ActiveUsers != c(2) {
			t.Errorf("app-b: sign-ins %v, tokens %v, active %v; want 3, 1, 2", r.Totals[usage.SignIns], r.Totals[usage.TokensIssued], r.ActiveUsers)
		}

		// The default minimum cell hides every figure of this small script.
		svc.MinCell = 5
		r, err = svc.Report(t.Context(), usage.Query{From: day1, To: day1.AddDate(0, 0, 2)})
		if err != nil {
			t.Fatal(err)
		}
		if got := r.Totals[usage.SignIns]; got != c(7) {
			t.Errorf("suppressed: total sign-ins = %v, want 7", got)
		}
		for _, s := range r.SignInsByClient {
			if !s.Count.Suppressed || s.Count.Value != 0 {
				t.Errorf("suppressed: client share %+v shown", s)
			}
		}
		if r.UsersWithMFA != c(5) || !r.Totals[usage.SignUps].Suppressed || r.Daily[usage.Lockouts][0].Count != c(0) {
			t.Errorf("suppressed: with MFA %v, sign-ups %v, Monday's lockouts %v", r.UsersWithMFA, r.Totals[usage.SignUps], r.Daily[usage.Lockouts][0].Count)
		}
	})
}
