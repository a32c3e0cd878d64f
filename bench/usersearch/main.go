// Command usersearch measures the administrators' user search
// (identity/sqlstore.UserStore.SearchUsers) at scale: it creates a fresh
// PostgreSQL database, migrates it, loads -users realistic users with
// COPY, runs ANALYZE, then a fixed mix of searches, and prints the p50,
// p95 and p99 latency of each kind.
//
//	go run ./bench/usersearch -users 1000000
package main

import (
	"context"
	crand "crypto/rand"
	"encoding/hex"
	"flag"
	"fmt"
	"io"
	"math/rand/v2"
	"net/url"
	"os"
	"os/signal"
	"slices"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"

	"gatehouse/identity"
	"gatehouse/identity/sqlstore"
	"gatehouse/migrations"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	err := run(ctx, os.Args[1:], os.Stdout)
	stop()
	if err != nil {
		fmt.Fprintln(os.Stderr, "usersearch:", err)
		os.Exit(1)
	}
}

func run(ctx context.Context, args []string, out io.Writer) error {
	fs := flag.NewFlagSet("usersearch", flag.ContinueOnError)
	server := fs.String("postgres", "postgres://postgres@127.0.0.1:5432/postgres?sslmode=disable", "server URL; a fresh database is created on it and dropped at the end")
	users := fs.Int("users", 1_000_000, "users to load")
	runs := fs.Int("runs", 200, "searches of each kind")
	keep := fs.Bool("keep", false, "keep the database")
	if err := fs.Parse(args); err != nil {
		return err
	}
	dbURL, drop, err := createDatabase(ctx, *server)
	if err != nil {
		return err
	}
	if !*keep {
		defer drop()
	}
	db, err := migrations.Open(dbURL)
	if err != nil {
		return err
	}
	if _, err := migrations.Up(ctx, db); err != nil {
		return fmt.Errorf("migrate: %w", err)
	}
	// Building the indexes once after the load is much faster than
	// keeping them up to date row by row (above all the trigram index):
	// the migrated definitions are saved, dropped and built again.
	var indexes []struct{ Name, Def string }
	err = db.WithContext(ctx).Raw(`SELECT indexname AS name, indexdef AS def FROM pg_indexes
		WHERE tablename = 'users' AND indexname <> 'users_pkey'`).Scan(&indexes).Error
	if err != nil {
		return err
	}
	for _, ix := range indexes {
		if err := db.WithContext(ctx).Exec("DROP INDEX " + ix.Name).Error; err != nil {
			return err
		}
	}
	start := time.Now()
	if err := load(ctx, dbURL, *users); err != nil {
		return err
	}
	fmt.Fprintf(out, "loaded %d users in %s\n", *users, time.Since(start).Round(time.Second))
	start = time.Now()
	for _, ix := range indexes {
		if err := db.WithContext(ctx).Exec(ix.Def).Error; err != nil {
			return fmt.Errorf("rebuild %s: %w", ix.Name, err)
		}
	}
	fmt.Fprintf(out, "built %d indexes in %s\n", len(indexes), time.Since(start).Round(time.Second))
	start = time.Now()
	if err := db.WithContext(ctx).Exec("ANALYZE users").Error; err != nil {
		return err
	}
	fmt.Fprintf(out, "analyzed in %s\n\n", time.Since(start).Round(time.Millisecond))
	if err := measure(ctx, sqlstore.NewUserStore(db), *users, *runs, out); err != nil {
		return err
	}
	// Which indexes the mix used: a search index never scanned means its
	// query fell back to reading the table. Idle connections report
	// their statistics within 10 seconds.
	time.Sleep(11 * time.Second)
	var used []struct {
		Name  string
		Scans int64
	}
	err = db.WithContext(ctx).Raw(`SELECT indexrelname AS name, idx_scan AS scans FROM pg_stat_user_indexes
		WHERE relname = 'users' ORDER BY indexrelname`).Scan(&used).Error
	if err != nil {
		return err
	}
	fmt.Fprintln(out, "\nindex scans:")
	for _, u := range used {
		fmt.Fprintf(out, "  %-28s %d\n", u.Name, u.Scans)
	}
	return nil
}

// createDatabase creates an empty database on the server and returns its
// URL and a function that drops it.
func createDatabase(ctx context.Context, server string) (string, func(), error) {
	conn, err := pgx.Connect(ctx, server)
	if err != nil {
		return "", nil, err
	}
	b := make([]byte, 4)
	crand.Read(b)
	name := "usersearch_" + hex.EncodeToString(b)
	if _, err := conn.Exec(ctx, "CREATE DATABASE "+name); err != nil {
		conn.Close(ctx)
		return "", nil, err
	}
	u, err := url.Parse(server)
	if err != nil {
		return "", nil, err
	}
	u.Path = "/" + name
	drop := func() {
		conn.Exec(context.Background(), "DROP DATABASE "+name+" WITH (FORCE)")
		conn.Close(context.Background())
	}
	return u.String(), drop, nil
}

var (
	givenNames  = []string{"Anna", "Ben", "Chloé", "David", "Emma", "Farid", "Grace", "Hiro", "Ines", "Jonas", "Katarzyna", "Liam", "María", "Noah", "Olga", "Priya", "Quentin", "Rosa", "Sven", "Tomás", "Uma", "Viktor", "Wei", "Ximena", "Yusuf", "Zoë"}
	familyNames = []string{"Smith", "Müller", "García", "Nguyen", "Kowalski", "Rossi", "Dubois", "Tanaka", "Okafor", "Johansson", "Silva", "Novak", "Khan", "O'Brien", "Petrov", "Cohen", "Jensen", "Moreau", "Schmidt", "Ivanova"}
	domains     = []string{"example.com", "mail.example.org", "corp.example.net", "uni.example.edu", "post.example.de"}
	roleSets    = []string{`[]`, `[]`, `[]`, `[]`, `[]`, `[]`, `[]`, `["support"]`, `["billing"]`, `["admin"]`, `["support","billing"]`}
)

// load copies n users into the users table in one COPY.
func load(ctx context.Context, dbURL string, n int) error {
	conn, err := pgx.Connect(ctx, dbURL)
	if err != nil {
		return err
	}
	defer conn.Close(ctx)
	r := rand.New(rand.NewPCG(1, 2))
	base := time.Date(2020, 1, 1, 0, 0, 0, 0, time.UTC)
	i := 0
	src := pgx.CopyFromFunc(func() ([]any, error) {
		if i == n {
			return nil, nil
		}
		i++
		given, family := givenNames[r.IntN(len(givenNames))], familyNames[r.IntN(len(familyNames))]
		username := fmt.Sprintf("%s.%s%d", given, family, i)
		email := fmt.Sprintf("%s.%s%d@%s", given, family, i, domains[r.IntN(len(domains))])
		created := base.Add(time.Duration(i) * 2 * time.Minute)
		var lastLogin any
		if r.IntN(5) != 0 { // a fifth never signed in
			lastLogin = created.Add(time.Duration(r.Int64N(int64(200 * 24 * time.Hour))))
		}
		status := "active"
		if r.IntN(50) == 0 {
			status = "disabled"
		}
		phone := ""
		if r.IntN(2) == 0 {
			phone = fmt.Sprintf("+4915%09d", r.IntN(1_000_000_000))
		}
		return []any{uuid.New(), username, lowerASCII(username), email, lowerASCII(email), given, family, phone,
			roleSets[r.IntN(len(roleSets))], status, created, created, lastLogin}, nil
	})
	_, err = conn.CopyFrom(ctx, pgx.Identifier{"users"},
		[]string{"id", "username", "username_lower", "email", "email_lower", "given_name", "family_name", "phone",
			"roles", "status", "created_at", "updated_at", "last_login_at"}, src)
	return err
}

func lowerASCII(s string) string {
	b := []byte(s)
	for i, c := range b {
		if 'A' <= c && c <= 'Z' {
			b[i] = c + 'a' - 'A'
		}
	}
	return string(b)
}

// kind is one sort of search in the mix; query returns the i-th search.
type kind struct {
	name  string
	query func(i int) identity.UserQuery
}

func measure(ctx context.Context, s *sqlstore.UserStore, n, runs int, out io.Writer) error {
	r := rand.New(rand.NewPCG(3, 4))
	kinds := []kind{
		{"q substring (name+digits)", func(int) identity.UserQuery {
			return identity.UserQuery{Q: fmt.Sprintf("%s%d", familyNames[r.IntN(len(familyNames))], r.IntN(n)+1)}
		}},
		{"q common substring", func(int) identity.UserQuery {
			return identity.UserQuery{Q: givenNames[r.IntN(len(givenNames))]}
		}},
		{"q phone digits", func(int) identity.UserQuery {
			return identity.UserQuery{Q: fmt.Sprintf("%06d", r.IntN(1_000_000))}
		}},
		{"email prefix", func(int) identity.UserQuery {
			return identity.UserQuery{Email: lowerASCII(givenNames[r.IntN(len(givenNames))] + "." + familyNames[r.IntN(len(familyNames))])}
		}},
		{"role filter", func(int) identity.UserQuery {
			return identity.UserQuery{Role: []string{"admin", "support", "billing"}[r.IntN(3)]}
		}},
		{"status filter", func(int) identity.UserQuery { return identity.UserQuery{Status: identity.StatusDisabled} }},
		{"sort last login desc", func(int) identity.UserQuery {
			return identity.UserQuery{Sort: identity.SortLastLogin, Descending: true}
		}},
		{"sort username", func(int) identity.UserQuery { return identity.UserQuery{Sort: identity.SortUsername} }},
	}
	fmt.Fprintf(out, "%-28s %6s %9s %9s %9s %6s\n", "kind", "runs", "p50", "p95", "p99", "<50ms")
	for _, k := range kinds {
		var d []time.Duration
		for i := range runs {
			q := k.query(i)
			t0 := time.Now()
			if _, err := s.SearchUsers(ctx, q); err != nil {
				return fmt.Errorf("%s: %w", k.name, err)
			}
			d = append(d, time.Since(t0))
		}
		report(out, k.name, d)
	}
	// Deep pages: walk a cursor 200 pages of 50 (10,000 users) into a
	// search and time each page, so the last pages show the cost at depth.
	for _, q := range []identity.UserQuery{{}, {Sort: identity.SortLastLogin}, {Role: "support"}} {
		var d []time.Duration
		for range 200 {
			t0 := time.Now()
			page, err := s.SearchUsers(ctx, q)
			if err != nil {
				return fmt.Errorf("deep pages: %w", err)
			}
			d = append(d, time.Since(t0))
			if page.NextCursor == "" {
				break
			}
			q.Cursor = page.NextCursor
		}
		name := "deep pages sort " + string(q.Sort)
		if q.Sort == "" {
			name = "deep pages sort created"
		}
		if q.Role != "" {
			name = "deep pages role filter"
		}
		report(out, name, d)
	}
	return nil
}

func report(out io.Writer, name string, d []time.Duration) {
	slices.Sort(d)
	pct := func(p float64) time.Duration { return d[min(len(d)-1, int(p*float64(len(d))))] }
	ok := "yes"
	if pct(0.95) >= 50*time.Millisecond {
		ok = "NO"
	}
	fmt.Fprintf(out, "%-28s %6d %7.2fms %7.2fms %7.2fms %6s\n", name, len(d),
		ms(pct(0.50)), ms(pct(0.95)), ms(pct(0.99)), ok)
}

func ms(d time.Duration) float64 { return float64(d.Microseconds()) / 1000 }
