package sqlstore_test

import (
	"strings"
	"testing"

	"gorm.io/gorm"

	"gatehouse/identity"
	"gatehouse/identity/sqlstore"
	"gatehouse/migrations/dbtest"
)

// TestSearchUsersUsesIndexes: on PostgreSQL each filter of the search can
// be answered from its index of migration 00019. Plain scans are turned
// off, so a query whose expression drifted from its index's (the trigram
// index above all) shows a sequential scan in its plan.
func TestSearchUsersUsesIndexes(t *testing.T) {
	db := dbtest.MustOpen(t, "postgres")
	s := sqlstore.NewUserStore(db)
	mustSeed(t, s, seedUsers)
	var captured struct {
		sql  string
		vars []any
	}
	err := db.Callback().Query().After("gorm:query").Register("test:capture", func(d *gorm.DB) {
		captured.sql, captured.vars = d.Statement.SQL.String(), d.Statement.Vars
	})
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name  string
		q     identity.UserQuery
		index string
	}{
		{"q substring", identity.UserQuery{Q: "smith"}, "users_search_trgm_idx"},
		{"email prefix", identity.UserQuery{Email: "carol@"}, "users_email_prefix_idx"},
		{"role", identity.UserQuery{Role: "admin"}, "users_roles_idx"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if _, err := s.SearchUsers(t.Context(), tc.q); err != nil {
				t.Fatalf("SearchUsers: %v", err)
			}
			// The password hash never leaves the database for a search.
			if strings.Contains(captured.sql, "password_hash") {
				t.Errorf("search reads password_hash: %s", captured.sql)
			}
			plan, err := explain(t, db, captured.sql, captured.vars)
			if err != nil {
				t.Fatalf("EXPLAIN %s: %v", captured.sql, err)
			}
			if got := plan; !strings.Contains(got, tc.index) {
				t.Errorf("plan of %s does not use %s:\n%s", captured.sql, tc.index, got)
			}
		})
	}
}

// explain returns the plan of query with plain scans turned off. It runs
// on database/sql: gorm would read the "@" of "@>" as a named argument.
func explain(t *testing.T, db *gorm.DB, query string, args []any) (string, error) {
	sqlDB, err := db.DB()
	if err != nil {
		return "", err
	}
	tx, err := sqlDB.BeginTx(t.Context(), nil)
	if err != nil {
		return "", err
	}
	defer tx.Rollback()
	if _, err := tx.Exec("SET LOCAL enable_seqscan = off"); err != nil {
		return "", err
	}
	if _, err := tx.Exec("SET LOCAL enable_indexscan = off"); err != nil {
		return "", err
	}
	rows, err := tx.Query("EXPLAIN "+query, args...)
	if err != nil {
		return "", err
	}
	defer rows.Close()
	var plan []string
	for rows.Next() {
		var line string
		if err := rows.Scan(&line); err != nil {
			return "", err
		}
		plan = append(plan, line)
	}
	return strings.Join(plan, "\n"), rows.Err()
}
