// Command usage measures the usage report (identity/usage.Service.Report)
// over a year of aggregates for a million users: it creates a fresh
// PostgreSQL database, migrates it, copies synthetic aggregate rows
// straight into usage_counts and usage_sketches (a year of days, -clients
// clients, a day's sketch holding that day's active users out of -users),
// runs VACUUM ANALYZE, then reports for the last 7, 30, 90 and 365 days, for
// every client and for one, and prints the p50 and p95 latency of each.
//
//	go run ./bench/usage -users 1000000
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
	"runtime/pprof"
	"slices"
	"strconv"
	"time"

	"github.com/axiomhq/hyperloglog"
	"github.com/jackc/pgx/v5"

	auditsql "gatehouse/identity/audit/sqlstore"
	"gatehouse/identity/usage"
	usagesql "gatehouse/identity/usage/sqlstore"
	"gatehouse/migrations"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	err := run(ctx, os.Args[1:], os.Stdout)
	stop()
	if err != nil {
		fmt.Fprintln(os.Stderr, "usage:", err)
		os.Exit(1)
	}
}

func run(ctx context.Context, args []string, out io.Writer) error {
	fs := flag.NewFlagSet("usage", flag.ContinueOnError)
	server := fs.String("postgres", "postgres://postgres@127.0.0.1:5432/postgres?sslmode=disable", "server URL; a fresh database is created on it and dropped at the end")
	users := fs.Int("users", 1_000_000, "users")
	clients := fs.Int("clients", 20, "clients")
	days := fs.Int("days", 365, "days of history")
	runs := fs.Int("runs", 100, "reports of each kind")
	keep := fs.Bool("keep", false, "keep the database")
	profile := fs.String("cpuprofile", "", "write a CPU profile of the reports to this file")
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
	today := usage.Day(time.Now())
	start := time.Now()
	n, err := load(ctx, dbURL, today, *users, *clients, *days)
	if err != nil {
		return fmt.Errorf("load: %w", err)
	}
	fmt.Fprintf(out, "loaded %d count rows and %d sketches in %v\n", n.counts, n.sketches, time.Since(start).Round(time.Second))
	// As autovacuum would: the visibility map lets the reads be
	// index-only scans.
	for _, table := range []string{"usage_counts", "usage_sketches"} {
		if err := db.WithContext(ctx).Exec("VACUUM ANALYZE " + table).Error; err != nil {
			return err
		}
	}
	if *profile != "" {
		f, err := os.Create(*profile)
		if err != nil {
			return err
		}
		defer f.Close()
		if err := pprof.StartCPUProfile(f); err != nil {
			return err
		}
		defer pprof.StopCPUProfile()
	}
	svc := &usage.Service{Store: usagesql.New(db, auditsql.New(db)), MinCell: 5, Now: time.Now}
	fmt.Fprintf(out, "%-28s %8s %8s %8s\n", "report", "p50 ms", "p95 ms", "max ms")
	for _, client := range []string{"", clientID(0)} {
		for _, period := range []int{7, 30, 90, 365} {
			q := usage.LastDays(today, period, client)
			var lat []time.Duration
			for range *runs {
				t0 := time.Now()
				if _, err := svc.Report(ctx, q); err != nil {
					return err
				}
				lat = append(lat, time.Since(t0))
			}
			name := fmt.Sprintf("%d days, every client", period)
			if client != "" {
				name = fmt.Sprintf("%d days, one client", period)
			}
			report(out, name, lat)
		}
	}
	return nil
}

type loaded struct{ counts, sketches int }

type spanKey struct {
	span          usage.Span
	client, start string
}

func clientID(i int) string { return "client-" + strconv.Itoa(i) }

// load copies days of aggregates ending today: per day and client every
// metric, method and grant, and a sketch of the day's active users (a
// fifth of the users on weekdays, fewer at weekends, each client a
// share of them), and the weeks' and months' sketches merged from them.
func load(ctx context.Context, dbURL string, today time.Time, users, clients, days int) (loaded, error) {
	conn, err := pgx.Connect(ctx, dbURL)
	if err != nil {
		return loaded{}, err
	}
	defer conn.Close(ctx)
	r := rand.New(rand.NewPCG(1, 2))
	var counts, sketches [][]any
	methods := []string{usage.MethodPassword, usage.MethodPasskey, usage.MethodTOTP, usage.MethodCode, usage.MethodRecovery}
	grants := []string{"authorization_code", "refresh_token", "client_credentials"}
	wide := map[spanKey]*hyperloglog.Sketch{}
	for d := range days {
		day := today.AddDate(0, 0, -d)
		key := usage.DayKey(day)
		active := users / 5
		if wd := day.Weekday(); wd == time.Saturday || wd == time.Sunday {
			active = users / 12
		}
		offset := r.IntN(users)
		all := hyperloglog.New14()
		perClient := make([]*hyperloglog.Sketch, clients)
		for c := range perClient {
			perClient[c] = hyperloglog.New14()
		}
		for i := range active {
			u := []byte("user-" + strconv.Itoa((offset+i*7)%users))
			all.Insert(u)
			perClient[i%clients].Insert(u)
		}
		add := func(client string, scale int) error {
			m := func(metric usage.Metric, dim string, n int) {
				counts = append(counts, []any{key, string(metric), client, dim, int64(n)})
			}
			for _, metric := range usage.Metrics() {
				m(metric, "", scale+r.IntN(scale/10+1))
			}
			for i, meth := range methods {
				m(usage.SignInsByMethodMetric, meth, scale/(i+2))
			}
			for i, g := range grants {
				m(usage.TokensByGrantMetric, g, scale/(i+1))
			}
			return nil
		}
		add("", active)
		enc, err := all.MarshalBinary()
		if err != nil {
			return loaded{}, err
		}
		sketches = append(sketches, []any{string(usage.SpanDay), "", key, enc, int64(all.Estimate())})
		for c := range clients {
			add(clientID(c), active/clients)
			enc, err := perClient[c].MarshalBinary()
			if err != nil {
				return loaded{}, err
			}
			sketches = append(sketches, []any{string(usage.SpanDay), clientID(c), key, enc, int64(perClient[c].Estimate())})
		}
		for c, sk := range append([]*hyperloglog.Sketch{all}, perClient...) {
			name := ""
			if c > 0 {
				name = clientID(c - 1)
			}
			for _, span := range []struct {
				span  usage.Span
				start time.Time
			}{{usage.SpanWeek, usage.WeekStart(day)}, {usage.SpanMonth, usage.MonthStart(day)}} {
				k := spanKey{span.span, name, usage.DayKey(span.start)}
				if wide[k] == nil {
					wide[k] = hyperloglog.New14()
				}
				if err := wide[k].Merge(sk); err != nil {
					return loaded{}, err
				}
			}
		}
		counts = append(counts,
			[]any{key, string(usage.UsersTotalGauge), "", "", int64(users - d*100)},
			[]any{key, string(usage.UsersWithMFAGauge), "", "", int64(users/3 - d*50)})
	}
	for k, sk := range wide {
		enc, err := sk.MarshalBinary()
		if err != nil {
			return loaded{}, err
		}
		sketches = append(sketches, []any{string(k.span), k.client, k.start, enc, int64(sk.Estimate())})
	}
	if _, err := conn.CopyFrom(ctx, pgx.Identifier{"usage_counts"}, []string{"day", "metric", "client_id", "dimension", "count"},
		pgx.CopyFromRows(counts)); err != nil {
		return loaded{}, err
	}
	if _, err := conn.CopyFrom(ctx, pgx.Identifier{"usage_sketches"}, []string{"span", "client_id", "start", "sketch", "estimate"},
		pgx.CopyFromRows(sketches)); err != nil {
		return loaded{}, err
	}
	return loaded{counts: len(counts), sketches: len(sketches)}, nil
}

func createDatabase(ctx context.Context, server string) (string, func(), error) {
	conn, err := pgx.Connect(ctx, server)
	if err != nil {
		return "", nil, err
	}
	b := make([]byte, 4)
	crand.Read(b)
	name := "usagebench_" + hex.EncodeToString(b)
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

func report(out io.Writer, name string, d []time.Duration) {
	slices.Sort(d)
	at := func(p float64) time.Duration { return d[min(len(d)-1, int(p*float64(len(d))))] }
	fmt.Fprintf(out, "%-28s %8.2f %8.2f %8.2f\n", name, ms(at(0.50)), ms(at(0.95)), ms(d[len(d)-1]))
}

func ms(d time.Duration) float64 { return float64(d.Microseconds()) / 1000 }
