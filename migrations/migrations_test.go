package migrations_test

import (
	"errors"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"gorm.io/gorm"

	"gatehouse/migrations"
	"gatehouse/migrations/dbtest"
)

// mustOpenEmpty returns an unmigrated database of the dialect.
func mustOpenEmpty(t testing.TB, dialect string) *gorm.DB {
	t.Helper()
	db, err := migrations.Open(dbtest.MustURL(t, dialect))
	if err != nil {
		t.Fatalf("Open(%s): %v", dialect, err)
	}
	t.Cleanup(func() {
		if sqlDB, err := db.DB(); err == nil {
			sqlDB.Close()
		}
	})
	return db
}

// fileVersions reads the version prefixes of a dialect's migration files.
func fileVersions(t testing.TB, dir string) []int64 {
	t.Helper()
	entries, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	var out []int64
	for _, e := range entries {
		if e.IsDir() || filepath.Ext(e.Name()) != ".sql" {
			continue
		}
		prefix, _, ok := strings.Cut(e.Name(), "_")
		v, err := strconv.ParseInt(prefix, 10, 64)
		if !ok || err != nil {
			t.Errorf("%s/%s: name does not start with a version number and '_'", dir, e.Name())
			continue
		}
		out = append(out, v)
	}
	return out
}

// TestSameVersionFiles needs no database: both directories hold the same
// versions.
func TestSameVersionFiles(t *testing.T) {
	pg, lite := fileVersions(t, "postgres"), fileVersions(t, "sqlite")
	if len(pg) == 0 {
		t.Fatal("no PostgreSQL migrations found")
	}
	if diff := cmp.Diff(pg, lite); diff != "" {
		t.Errorf("migration versions differ (-postgres +sqlite):\n%s", diff)
	}
}

// schema returns every table of the current schema (goose's own excepted)
// with its sorted column names.
func schema(t testing.TB, db *gorm.DB) map[string][]string {
	t.Helper()
	var tables []string
	q := `SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%'`
	if migrations.IsPostgres(db) {
		q = `SELECT table_name FROM information_schema.tables WHERE table_schema = current_schema() AND table_type = 'BASE TABLE'`
	}
	if err := db.Raw(q).Scan(&tables).Error; err != nil {
		t.Fatalf("list tables: %v", err)
	}
	out := map[string][]string{}
	for _, table := range tables {
		if table == "goose_db_version" {
			continue
		}
		var cols []string
		q := `SELECT name FROM pragma_table_info(?)`
		if migrations.IsPostgres(db) {
			q = `SELECT column_name FROM information_schema.columns WHERE table_schema = current_schema() AND table_name = ?`
		}
		if err := db.Raw(q, table).Scan(&cols).Error; err != nil {
			t.Fatalf("list columns of %s: %v", table, err)
		}
		sort.Strings(cols)
		out[table] = cols
	}
	return out
}

func TestUpFromEmpty(t *testing.T) {
	versions := map[string][]int64{}
	schemas := map[string]map[string][]string{}
	for _, dialect := range dbtest.Dialects {
		t.Run(dialect, func(t *testing.T) {
			ctx := t.Context()
			db := mustOpenEmpty(t, dialect)

			if err := migrations.Current(ctx, db); !errors.Is(err, migrations.ErrPending) {
				t.Errorf("Current before Up error = %v, want %v", err, migrations.ErrPending)
			}
			before, err := migrations.List(ctx, db)
			if err != nil {
				t.Fatalf("List before Up: %v", err)
			}
			if len(before) == 0 {
				t.Fatal("List before Up returned no migrations")
			}
			var all []int64
			for _, st := range before {
				if st.Applied {
					t.Errorf("List before Up: version %d (%s) applied on an empty database", st.Version, st.Source)
				}
				all = append(all, st.Version)
			}

			applied, err := migrations.Up(ctx, db)
			if err != nil {
				t.Fatalf("Up: %v", err)
			}
			if diff := cmp.Diff(all, applied); diff != "" {
				t.Errorf("Up from empty applied (-want +got):\n%s", diff)
			}
			if err := migrations.Current(ctx, db); err != nil {
				t.Errorf("Current after Up error = %v, want nil", err)
			}
			after, err := migrations.List(ctx, db)
			if err != nil {
				t.Fatalf("List after Up: %v", err)
			}
			for _, st := range after {
				if !st.Applied {
					t.Errorf("List after Up: version %d (%s) not applied", st.Version, st.Source)
				}
			}

			again, err := migrations.Up(ctx, db)
			if err != nil {
				t.Fatalf("second Up: %v", err)
			}
			if len(again) != 0 {
				t.Errorf("second Up applied %v, want nothing", again)
			}

			versions[dialect] = all
			schemas[dialect] = schema(t, db)
			if _, ok := schemas[dialect]["oauth_requests"]; !ok {
				t.Errorf("tables after Up = %v, want oauth_requests among them", schemas[dialect])
			}
		})
	}

	if len(versions) != len(dbtest.Dialects) {
		return // a dialect was skipped; its subtest says why
	}
	if diff := cmp.Diff(versions["postgres"], versions["sqlite"]); diff != "" {
		t.Errorf("migration versions differ (-postgres +sqlite):\n%s", diff)
	}
	if diff := cmp.Diff(schemas["postgres"], schemas["sqlite"]); diff != "" {
		t.Errorf("schema after Up differs (-postgres +sqlite):\n%s", diff)
	}
}
