package sqlstore_test

import (
	"errors"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"gorm.io/gorm"

	"gatehouse/identity/audit"
	"gatehouse/identity/audit/sqlstore"
	"gatehouse/migrations"
	"gatehouse/migrations/dbtest"
	"gatehouse/migrations/dbtime"
)

func TestRecordAndVerify(t *testing.T) {
	stored := map[string][]audit.Entry{}
	dbtest.Each(t, func(t *testing.T, db *gorm.DB) {
		l := newLog(t, db)
		if r := mustVerify(t, l); !r.OK || r.Checked != 0 {
			t.Errorf("Verify on an empty chain = %+v, want OK with 0 checked", r)
		}
		mustRecord(t, l, sample(7)...)

		r := mustVerify(t, l)
		want := audit.Report{OK: true, Checked: 7, Head: r.Head}
		if diff := cmp.Diff(want, r); diff != "" {
			t.Errorf("Verify mismatch (-want +got):\n%s", diff)
		}
		if r.Head.Seq != 7 {
			t.Errorf("Head.Seq = %d, want 7", r.Head.Seq)
		}

		got, err := l.List(t.Context(), audit.Filter{})
		if err != nil {
			t.Fatalf("List: %v", err)
		}
		if len(got) != 7 {
			t.Fatalf("List returned %d entries, want 7", len(got))
		}
		first := got[len(got)-1]
		wantFirst := sample(1)[0]
		wantFirst.Seq, wantFirst.Time, wantFirst.PrevHash, wantFirst.Hash = 1, at(1), "", first.Hash
		if diff := cmp.Diff(wantFirst, first); diff != "" {
			t.Errorf("first entry mismatch (-want +got):\n%s", diff)
		}
		if got[0].PrevHash != got[1].Hash {
			t.Errorf("seq 7 PrevHash = %q, want seq 6 Hash %q", got[0].PrevHash, got[1].Hash)
		}
		dialect := "sqlite"
		if migrations.IsPostgres(db) {
			dialect = "postgres"
		}
		stored[dialect] = got
	})
	// The same entries at the same times hash the same in both databases.
	if len(stored) == 2 {
		if diff := cmp.Diff(stored["sqlite"], stored["postgres"]); diff != "" {
			t.Errorf("entries differ between dialects (-sqlite +postgres):\n%s", diff)
		}
	}
}

func TestVerifyDetectsTampering(t *testing.T) {
	tests := []struct {
		name        string
		tamper      func(t *testing.T, db *gorm.DB)
		wantSeq     int64
		wantProblem audit.Problem
	}{
		{
			name: "edited action",
			tamper: func(t *testing.T, db *gorm.DB) {
				mustExec(t, db, `UPDATE audit_entries SET action = ? WHERE seq = 3`, audit.ActionLoginSucceeded)
			},
			wantSeq: 3, wantProblem: audit.ProblemHashMismatch,
		},
		{
			name: "edited details",
			tamper: func(t *testing.T, db *gorm.DB) {
				mustExec(t, db, `UPDATE audit_entries SET details = '{"reason":"ok"}' WHERE seq = 2`)
			},
			wantSeq: 2, wantProblem: audit.ProblemHashMismatch,
		},
		{
			name: "edited row re-hashed",
			tamper: func(t *testing.T, db *gorm.DB) {
				// A forger who knows the encoding re-hashes the edited row;
				// the next row's link then breaks.
				got, err := sqlstore.New(db).Chain(t.Context(), 1, 1)
				if err != nil || len(got) != 1 {
					t.Fatalf("Chain(1, 1) = %v, %v", got, err)
				}
				e := got[0]
				e.Outcome = audit.OutcomeSuccess
				mustExec(t, db, `UPDATE audit_entries SET outcome = ?, hash = ? WHERE seq = 2`, e.Outcome, e.ComputeHash())
			},
			wantSeq: 3, wantProblem: audit.ProblemPrevMismatch,
		},
		{
			name:    "deleted middle row",
			tamper:  func(t *testing.T, db *gorm.DB) { mustExec(t, db, `DELETE FROM audit_entries WHERE seq = 3`) },
			wantSeq: 3, wantProblem: audit.ProblemGap,
		},
		{
			name: "swapped rows",
			tamper: func(t *testing.T, db *gorm.DB) {
				mustExec(t, db, `UPDATE audit_entries SET seq = -2 WHERE seq = 2`)
				mustExec(t, db, `UPDATE audit_entries SET seq = 2 WHERE seq = 3`)
				mustExec(t, db, `UPDATE audit_entries SET seq = 3 WHERE seq = -2`)
			},
			wantSeq: 2, wantProblem: audit.ProblemPrevMismatch,
		},
		{
			name:    "deleted newest row",
			tamper:  func(t *testing.T, db *gorm.DB) { mustExec(t, db, `DELETE FROM audit_entries WHERE seq = 5`) },
			wantSeq: 5, wantProblem: audit.ProblemTruncated,
		},
	}
	dbtest.Each(t, func(t *testing.T, db *gorm.DB) {
		for _, tc := range tests {
			t.Run(tc.name, func(t *testing.T) {
				mustExec(t, db, `DELETE FROM audit_entries`)
				mustExec(t, db, `UPDATE audit_head SET seq = 0, hash = '' WHERE id = 1`)
				l := newLog(t, db)
				mustRecord(t, l, sample(5)...)
				tc.tamper(t, db)
				r := mustVerify(t, l)
				if r.OK || r.Seq != tc.wantSeq || r.Problem != tc.wantProblem {
					t.Errorf("Verify = %+v, want seq %d %q", r, tc.wantSeq, tc.wantProblem)
				}
			})
		}
	})
}

func TestPrune(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, db *gorm.DB) {
		ctx := t.Context()
		l := newLog(t, db)
		mustRecord(t, l, sample(6)...) // seq i at at(i)

		n, err := l.Prune(ctx, at(4))
		if err != nil || n != 3 {
			t.Fatalf("Prune(at(4)) = %d, %v, want 3, nil", n, err)
		}
		r := mustVerify(t, l)
		if !r.OK || r.Checked != 3 || r.Checkpoint.Seq != 3 {
			t.Errorf("Verify after prune = %+v, want OK, 3 checked from checkpoint seq 3", r)
		}
		if n, err := l.Prune(ctx, at(4)); err != nil || n != 0 {
			t.Errorf("second Prune(at(4)) = %d, %v, want 0, nil", n, err)
		}

		mustRecord(t, l, sample(1)...) // seq 7
		if r := mustVerify(t, l); !r.OK || r.Checked != 4 {
			t.Errorf("Verify after one more append = %+v, want OK with 4 checked", r)
		}

		mustExec(t, db, `UPDATE audit_entries SET subject = 'someone' WHERE seq = 5`)
		if r := mustVerify(t, l); r.OK || r.Seq != 5 || r.Problem != audit.ProblemHashMismatch {
			t.Errorf("Verify after tampering seq 5 = %+v, want seq 5 %q", r, audit.ProblemHashMismatch)
		}
		mustExec(t, db, `DELETE FROM audit_entries WHERE seq = 4`)
		if r := mustVerify(t, l); r.OK || r.Seq != 4 || r.Problem != audit.ProblemGap {
			t.Errorf("Verify after deleting seq 4 = %+v, want seq 4 %q", r, audit.ProblemGap)
		}
	})
}

func TestPruneEverything(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, db *gorm.DB) {
		l := newLog(t, db)
		mustRecord(t, l, sample(3)...)
		if n, err := l.Prune(t.Context(), at(100)); err != nil || n != 3 {
			t.Fatalf("Prune(at(100)) = %d, %v, want 3, nil", n, err)
		}
		if r := mustVerify(t, l); !r.OK || r.Checked != 0 || r.Checkpoint.Seq != 3 {
			t.Errorf("Verify = %+v, want OK, 0 checked from checkpoint seq 3", r)
		}
		mustRecord(t, l, sample(2)...)
		if r := mustVerify(t, l); !r.OK || r.Checked != 2 {
			t.Errorf("Verify after appends = %+v, want OK with 2 checked", r)
		}
	})
}

func TestConcurrentAppend(t *testing.T) {
	const writers, each = 8, 10
	for _, dialect := range dbtest.Dialects {
		t.Run(dialect, func(t *testing.T) {
			url := dbtest.MustMigratedURL(t, dialect)
			handles := []*gorm.DB{mustOpen(t, url)}
			if _, err := migrations.Up(t.Context(), handles[0]); err != nil {
				t.Fatalf("Up: %v", err)
			}
			if dialect == "postgres" {
				// A second instance on the same database.
				handles = append(handles, mustOpen(t, url))
			}
			c := &clock{}
			var wg sync.WaitGroup
			errs := make(chan error, writers*each)
			for w := range writers {
				l := &audit.Log{Store: sqlstore.New(handles[w%len(handles)]), Now: c.Now}
				wg.Go(func() {
					for i := range each {
						e := sample(1)[0]
						e.RequestID = fmt.Sprintf("w%d-%d", w, i)
						if err := l.Record(t.Context(), e); err != nil {
							errs <- err
						}
					}
				})
			}
			wg.Wait()
			close(errs)
			for err := range errs {
				t.Errorf("Record: %v", err)
			}

			l := newLog(t, handles[0])
			r := mustVerify(t, l)
			if !r.OK || r.Checked != writers*each || r.Head.Seq != writers*each {
				t.Errorf("Verify = %+v, want OK with %d checked", r, writers*each)
			}
			got, err := l.List(t.Context(), audit.Filter{Limit: audit.MaxLimit})
			if err != nil {
				t.Fatalf("List: %v", err)
			}
			ids := map[string]bool{}
			for i, e := range got {
				if want := int64(writers*each - i); e.Seq != want {
					t.Fatalf("List()[%d].Seq = %d, want %d (gap-free)", i, e.Seq, want)
				}
				ids[e.RequestID] = true
			}
			if len(ids) != writers*each {
				t.Errorf("distinct request ids = %d, want %d", len(ids), writers*each)
			}
		})
	}
}

func mustOpen(t testing.TB, url string) *gorm.DB {
	t.Helper()
	db, err := migrations.Open(url)
	if err != nil {
		t.Fatalf("Open: %v", err)
	}
	t.Cleanup(func() {
		if sqlDB, err := db.DB(); err == nil {
			sqlDB.Close()
		}
	})
	return db
}

func TestList(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, db *gorm.DB) {
		l := newLog(t, db)
		// 1 u1 login, 2 u2 login.failed, 3 a1→u1 roles, 4 a1→c1 client,
		// 5 c1→u1 token, 6 u1 logout, 7 system→u2 lockout.
		mustRecord(t, l, sample(7)...)
		tests := []struct {
			name   string
			filter audit.Filter
			want   []int64
		}{
			{"all", audit.Filter{}, []int64{7, 6, 5, 4, 3, 2, 1}},
			{"user as subject or actor", audit.Filter{UserID: "u1"}, []int64{6, 5, 3, 1}},
			{"user as actor only", audit.Filter{UserID: "a1"}, []int64{4, 3}},
			{"actor", audit.Filter{ActorID: "c1"}, []int64{5}},
			{"action", audit.Filter{Action: audit.ActionLoginFailed}, []int64{2}},
			{"time range", audit.Filter{Since: at(3), Until: at(5)}, []int64{4, 3}},
			{"since with nanoseconds", audit.Filter{Since: at(6).Add(-time.Nanosecond)}, []int64{7, 6}},
			{"user and action", audit.Filter{UserID: "u1", Action: audit.ActionLogout}, []int64{6}},
			{"first page", audit.Filter{UserID: "u1", Limit: 2}, []int64{6, 5}},
			{"second page", audit.Filter{UserID: "u1", Limit: 2, BeforeSeq: 5}, []int64{3, 1}},
			{"past the end", audit.Filter{UserID: "u1", BeforeSeq: 1}, nil},
		}
		for _, tc := range tests {
			t.Run(tc.name, func(t *testing.T) {
				got, err := l.List(t.Context(), tc.filter)
				if err != nil {
					t.Fatalf("List: %v", err)
				}
				var seqs []int64
				for _, e := range got {
					seqs = append(seqs, e.Seq)
				}
				if diff := cmp.Diff(tc.want, seqs); diff != "" {
					t.Errorf("List(%+v) seqs mismatch (-want +got):\n%s", tc.filter, diff)
				}
			})
		}
	})
}

func TestSecretDetails(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, db *gorm.DB) {
		ctx := t.Context()
		l := newLog(t, db)
		e := audit.Entry{ActorType: audit.ActorUser, ActorID: "u1", Subject: "u1", Action: audit.ActionLoginFailed, Outcome: audit.OutcomeFailure,
			Details: audit.Details{"password": "hunter2", "Client_Secret": "s3cr3t", "reason": "bad_password"}}
		mustRecord(t, l, e)
		got, err := l.List(ctx, audit.Filter{})
		if err != nil || len(got) != 1 {
			t.Fatalf("List = %v, %v, want one entry", got, err)
		}
		want := audit.Details{"reason": "bad_password", audit.RedactedKey: "Client_Secret,password"}
		if diff := cmp.Diff(want, got[0].Details); diff != "" {
			t.Errorf("stored details mismatch (-want +got):\n%s", diff)
		}

		// The store itself refuses secrets that bypass Log.Record.
		e.Time = at(2)
		if err := sqlstore.New(db).Append(ctx, &e); !errors.Is(err, audit.ErrSecretDetail) {
			t.Errorf("Append with a password detail error = %v, want %v", err, audit.ErrSecretDetail)
		}
		bad := audit.Entry{ActorType: "robot", Action: audit.ActionLogout, Outcome: audit.OutcomeSuccess}
		if err := l.Record(ctx, bad); !errors.Is(err, audit.ErrInvalid) {
			t.Errorf("Record with actor type robot error = %v, want %v", err, audit.ErrInvalid)
		}
		if r := mustVerify(t, l); !r.OK || r.Checked != 1 {
			t.Errorf("Verify = %+v, want OK with 1 checked", r)
		}
	})
}

// TestPruneCheckpointUsesInjectedClock: the checkpoint's creation time
// comes from the store's Now.
func TestPruneCheckpointUsesInjectedClock(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, db *gorm.DB) {
		pruned := time.Date(2031, 5, 6, 7, 8, 9, 0, time.UTC)
		st := sqlstore.New(db)
		st.Now = func() time.Time { return pruned }
		l := &audit.Log{Store: st, Now: (&clock{}).Now}
		mustRecord(t, l, sample(3)...)
		if _, err := l.Prune(t.Context(), at(3)); err != nil {
			t.Fatal(err)
		}
		var created []dbtime.Time
		if err := db.Raw(`SELECT created_at FROM audit_checkpoints`).Scan(&created).Error; err != nil {
			t.Fatal(err)
		}
		if len(created) != 1 || !created[0].Time().Equal(pruned) {
			t.Errorf("checkpoint created_at = %v, want [%v]", created, pruned)
		}
	})
}

// TestPruneInBatches: a prune larger than PruneBatch deletes the same
// prefix in several bounded transactions, and the rest still verifies.
func TestPruneInBatches(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, db *gorm.DB) {
		st := sqlstore.New(db)
		st.PruneBatch = 2
		l := &audit.Log{Store: st, Now: (&clock{}).Now}
		mustRecord(t, l, sample(7)...)
		n, err := l.Prune(t.Context(), at(6))
		if err != nil || n != 5 {
			t.Fatalf("Prune(at(6)) = %d, %v, want 5, nil", n, err)
		}
		var checkpoints []int64
		if err := db.Raw(`SELECT seq FROM audit_checkpoints ORDER BY seq`).Scan(&checkpoints).Error; err != nil {
			t.Fatal(err)
		}
		if diff := cmp.Diff([]int64{2, 4, 5}, checkpoints); diff != "" {
			t.Errorf("checkpoints (-want +got):\n%s", diff)
		}
		if r := mustVerify(t, l); !r.OK || r.Checked != 2 || r.Checkpoint.Seq != 5 {
			t.Errorf("Verify after prune = %+v, want OK, 2 checked from checkpoint seq 5", r)
		}
	})
}
