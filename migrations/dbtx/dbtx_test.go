package dbtx_test

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"gorm.io/gorm"

	"gatehouse/migrations/dbtest"
	"gatehouse/migrations/dbtx"
)

// mustTable creates a scratch table and returns a function that inserts
// a row through dbtx.DB, as a store does.
func mustTable(t *testing.T, db *gorm.DB) func(ctx context.Context, id string) error {
	t.Helper()
	if err := db.Exec(`CREATE TABLE dbtx_rows (id TEXT PRIMARY KEY)`).Error; err != nil {
		t.Fatal(err)
	}
	return func(ctx context.Context, id string) error {
		return dbtx.DB(ctx, db).Exec(`INSERT INTO dbtx_rows (id) VALUES (?)`, id).Error
	}
}

func rows(t *testing.T, db *gorm.DB) []string {
	t.Helper()
	var ids []string
	if err := db.Raw(`SELECT id FROM dbtx_rows ORDER BY id`).Scan(&ids).Error; err != nil {
		t.Fatal(err)
	}
	return ids
}

func TestRunCommitsOrRollsBack(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, db *gorm.DB) {
		insert := mustTable(t, db)
		tr := dbtx.New(db)
		boom := errors.New("boom")
		err := tr.Run(t.Context(), func(ctx context.Context) error {
			if err := insert(ctx, "a"); err != nil {
				return err
			}
			// A nested Run joins: its write is undone with the outer one.
			if err := tr.Run(ctx, func(ctx context.Context) error { return insert(ctx, "b") }); err != nil {
				return err
			}
			return boom
		})
		if !errors.Is(err, boom) {
			t.Fatalf("Run = %v, want boom", err)
		}
		if got := rows(t, db); len(got) != 0 {
			t.Fatalf("after a failed Run rows = %v, want none", got)
		}
		err = tr.Run(t.Context(), func(ctx context.Context) error {
			if err := insert(ctx, "a"); err != nil {
				return err
			}
			return tr.Run(ctx, func(ctx context.Context) error { return insert(ctx, "b") })
		})
		if err != nil {
			t.Fatal(err)
		}
		if got := rows(t, db); len(got) != 2 {
			t.Fatalf("after Run rows = %v, want a and b", got)
		}
	})
}

func TestRunRollsBackOnPanic(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, db *gorm.DB) {
		insert := mustTable(t, db)
		func() {
			defer func() { _ = recover() }()
			_ = dbtx.New(db).Run(t.Context(), func(ctx context.Context) error {
				if err := insert(ctx, "a"); err != nil {
					t.Fatal(err)
				}
				panic("boom")
			})
		}()
		if got := rows(t, db); len(got) != 0 {
			t.Fatalf("after a panic rows = %v, want none", got)
		}
		// The database is usable again: the connection was given back.
		if err := insert(t.Context(), "b"); err != nil {
			t.Fatal(err)
		}
	})
}

// TestOutsideTransactionFailsLoudly: a store called with a context that
// does not carry the transaction its goroutine runs fails at once with
// ErrOutsideTransaction, on SQLite (one connection, which would otherwise
// wait for ever) as on PostgreSQL (which would commit it on its own).
func TestOutsideTransactionFailsLoudly(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, db *gorm.DB) {
		insert := mustTable(t, db)
		tr := dbtx.New(db)
		outer, cancel := context.WithTimeout(t.Context(), 10*time.Second)
		defer cancel()
		start := time.Now()
		err := tr.Run(outer, func(ctx context.Context) error {
			if err := insert(ctx, "inside"); err != nil {
				return err
			}
			checks := map[string]error{
				"Exec":        insert(outer, "outside"),
				"Find":        dbtx.DB(context.Background(), db).Raw(`SELECT id FROM dbtx_rows`).Scan(&[]string{}).Error,
				"Transaction": dbtx.DB(outer, db).Transaction(func(*gorm.DB) error { return nil }),
				"Run":         tr.Run(outer, func(context.Context) error { return nil }),
			}
			_, connErr := dbtx.Conn(outer, db)
			checks["Conn"] = connErr
			for name, err := range checks {
				if !errors.Is(err, dbtx.ErrOutsideTransaction) {
					t.Errorf("%s outside the transaction = %v, want ErrOutsideTransaction", name, err)
				}
			}
			return nil
		})
		if err != nil {
			t.Fatalf("Run = %v", err)
		}
		if d := time.Since(start); d > 5*time.Second {
			t.Errorf("the refused calls took %v: they waited instead of failing", d)
		}
		if got := rows(t, db); len(got) != 1 || got[0] != "inside" {
			t.Errorf("rows = %v, want only the one written inside", got)
		}
		// After the transaction the outer context works again.
		if err := insert(outer, "after"); err != nil {
			t.Errorf("insert after the transaction: %v", err)
		}
	})
}

// TestOtherGoroutinesUnaffected: a transaction refuses only its own
// goroutine's stray calls; another request's call waits for the
// connection (SQLite) or runs beside it (PostgreSQL), as before.
func TestOtherGoroutinesUnaffected(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, db *gorm.DB) {
		insert := mustTable(t, db)
		other := make(chan error, 1)
		err := dbtx.New(db).Run(t.Context(), func(ctx context.Context) error {
			go func() { other <- insert(context.Background(), "other") }()
			return insert(ctx, "inside")
		})
		if err != nil {
			t.Fatal(err)
		}
		if err := <-other; err != nil {
			t.Fatalf("another goroutine's insert = %v, want it to succeed", err)
		}
		if got := rows(t, db); len(got) != 2 {
			t.Errorf("rows = %v, want both", got)
		}
	})
}

// TestEndedTransactionRefused: a context kept after its transaction ended
// (Commit or Rollback) is refused instead of using a finished *sql.Tx.
func TestEndedTransactionRefused(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, db *gorm.DB) {
		insert := mustTable(t, db)
		ctx, err := dbtx.Begin(t.Context(), db)
		if err != nil {
			t.Fatal(err)
		}
		if err := dbtx.Commit(ctx); err != nil {
			t.Fatal(err)
		}
		if err := insert(ctx, "late"); err == nil {
			t.Error("insert with an ended transaction's context succeeded")
		}
		if err := dbtx.Rollback(ctx); err == nil {
			t.Error("second end of a transaction succeeded")
		}
	})
}

// TestBeginRefusesNesting: Begin on a context that already carries a
// transaction on the database says so, instead of waiting for a second
// connection; Run is the way to join.
func TestBeginRefusesNesting(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, db *gorm.DB) {
		ctx, err := dbtx.Begin(t.Context(), db)
		if err != nil {
			t.Fatal(err)
		}
		defer dbtx.Rollback(ctx)
		if _, err := dbtx.Begin(ctx, db); err == nil || !strings.Contains(err.Error(), "already carries a transaction") {
			t.Errorf("nested Begin = %v, want an error naming the running transaction", err)
		}
	})
}

// TestPoolRefusesInsideTransaction: work that must commit on its own (the
// janitor's batches) gets the pool outside a unit of work and an error
// inside one, whether or not its context carries the transaction.
func TestPoolRefusesInsideTransaction(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, db *gorm.DB) {
		if _, err := dbtx.Pool(t.Context(), db); err != nil {
			t.Fatalf("Pool outside a transaction = %v", err)
		}
		outer := t.Context()
		err := dbtx.New(db).Run(outer, func(ctx context.Context) error {
			for name, c := range map[string]context.Context{"carrying": ctx, "not carrying": outer} {
				if _, err := dbtx.Pool(c, db); !errors.Is(err, dbtx.ErrOutsideTransaction) {
					t.Errorf("Pool with a context %s the transaction = %v, want ErrOutsideTransaction", name, err)
				}
			}
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}
	})
}
