package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"time"
)

// The fault runner: with -fault the program starts `gatehouse serve`
// itself (the binary given by -gatehouse) on a fresh PostgreSQL schema for
// each scenario, puts a TCP proxy or an SMTP sink of its own between the
// server and what it depends on, breaks them while it loads the server
// with the generator's scenarios, and checks the server's answers against
// targets. bench/faults.sh builds both programs and runs it.

// faultOptions are the flags of the fault runner.
type faultOptions struct {
	list, gatehouse, postgres  string
	sigtermAfter, shutdownWait time.Duration
	dbOutage, dbDown           time.Duration
	smtpOutage, mailWait       time.Duration
	smtpRefuse                 string
	mails                      int
}

// Targets, from the reliability requirements.
const (
	dbRecoveryTarget   = 2 * time.Second  // database back: steady success, or ready
	mailRecoveryTarget = 30 * time.Second // SMTP back: every waiting message delivered
)

// A faultScenario breaks one thing and checks how the server copes.
type faultScenario struct {
	name, about string
	run         func(ctx context.Context, fr *faultRun, r *faultReport) error
}

// faultScenarios in the order "all" runs them.
var faultScenarios = []faultScenario{
	{"sigterm-flood", "SIGTERM in the middle of a login flood", runSigtermFlood},
	{"db-outage", "the database cut for a while under steady load", runDBOutage},
	{"db-down-at-start", "serve started while the database refuses connections", runDBDownAtStart},
	{"smtp-outage", "password-reset e-mails during an SMTP outage", runSMTPOutage},
	{"kill9-reset", "kill -9 right after acknowledged password resets", runKill9Reset},
}

func (f *faultOptions) register(fs *flag.FlagSet) {
	names := make([]string, len(faultScenarios))
	for i, s := range faultScenarios {
		names[i] = s.name
	}
	fs.StringVar(&f.list, "fault", "", "run fault scenarios against a server of its own instead: all, or a comma-separated list of "+strings.Join(names, ", "))
	fs.StringVar(&f.gatehouse, "gatehouse", "", "fault: the gatehouse binary to run")
	fs.StringVar(&f.postgres, "postgres", "postgres://postgres@127.0.0.1:5432/test?sslmode=disable", "fault: the PostgreSQL database each scenario makes a fresh schema in")
	fs.DurationVar(&f.sigtermAfter, "sigterm-after", 500*time.Millisecond, "sigterm-flood: SIGTERM this long after the sign-ins went out")
	fs.DurationVar(&f.shutdownWait, "shutdown-timeout", 15*time.Second, "sigterm-flood: the server's http.shutdown_timeout")
	fs.DurationVar(&f.dbOutage, "db-outage", 10*time.Second, "db-outage: how long the database is cut")
	fs.DurationVar(&f.dbDown, "db-down", 5*time.Second, "db-down-at-start: how long the database refuses after serve starts")
	fs.DurationVar(&f.smtpOutage, "smtp-outage", 2*time.Minute, "smtp-outage: how long the SMTP server refuses")
	fs.StringVar(&f.smtpRefuse, "smtp-refuse", "close", "smtp-outage: how the SMTP server refuses: close (connections closed at once) or busy (421)")
	fs.IntVar(&f.mails, "mails", 20, "smtp-outage, kill9-reset: password resets requested, one per account")
	fs.DurationVar(&f.mailWait, "mail-wait", 10*time.Minute, "smtp-outage, kill9-reset: how long to wait for the e-mails once the SMTP server or the server is back")
}

// scenarios returns the scenarios -fault names.
func (f *faultOptions) scenarios() ([]faultScenario, error) {
	if f.list == "all" {
		return faultScenarios, nil
	}
	var out []faultScenario
	for name := range strings.SplitSeq(f.list, ",") {
		i := slices.IndexFunc(faultScenarios, func(s faultScenario) bool { return s.name == strings.TrimSpace(name) })
		if i < 0 {
			return nil, fmt.Errorf("unknown -fault scenario %q", name)
		}
		out = append(out, faultScenarios[i])
	}
	return out, nil
}

func (f *faultOptions) validate(users int) error {
	var problems []string
	if _, err := f.scenarios(); err != nil {
		problems = append(problems, err.Error())
	}
	if f.gatehouse == "" {
		problems = append(problems, "-gatehouse is required with -fault")
	}
	if _, err := parseRefusal(f.smtpRefuse); err != nil {
		problems = append(problems, "-smtp-refuse must be close or busy")
	}
	if f.sigtermAfter < 0 || f.shutdownWait < time.Second || f.dbOutage <= 0 || f.dbDown < 0 || f.smtpOutage <= 0 || f.mailWait <= 0 {
		problems = append(problems, "-sigterm-after, -db-down must not be negative; -db-outage, -smtp-outage, -mail-wait must be positive; -shutdown-timeout at least 1s")
	}
	if f.mails < 1 || f.mails > 1000 {
		problems = append(problems, "-mails must be between 1 and 1000")
	}
	if users < 1 || users > 10000 {
		problems = append(problems, "-users must be between 1 and 10000")
	}
	if len(problems) > 0 {
		return errors.New("bench: " + strings.Join(problems, "; "))
	}
	return nil
}

// faultRun is what every scenario of one run shares.
type faultRun struct {
	opts options
	work string // a directory of its own per scenario in here
}

// setup creates a fresh schema and a server on it for r, with settings
// (GATEHOUSE_*=value) on top of the defaults. The server reaches the
// database through the proxy at via when via is not empty. It does not
// start the server. cleanup stops it, reports its warnings and drops the
// schema.
func (fr *faultRun) setup(ctx context.Context, r *faultReport, via string, settings ...string) (*server, *pgSchema, func(), error) {
	schema, err := createSchema(ctx, fr.opts.fault.postgres)
	if err != nil {
		return nil, nil, nil, err
	}
	srv, err := newServer(fr.opts.fault.gatehouse, r.logDir, schema.url(via), settings...)
	if err != nil {
		schema.drop(context.WithoutCancel(ctx))
		return nil, nil, nil, err
	}
	cleanup := func() {
		srv.stop()
		r.figure("server log", "at warn or above: %s", formatCounts(srv.warnings()))
		schema.drop(context.WithoutCancel(ctx))
	}
	return srv, schema, cleanup, nil
}

// mainFault runs the scenarios -fault names, prints a report for each and
// a summary, and returns 1 if any failed.
func mainFault(ctx context.Context, opts options, stdout, stderr io.Writer) int {
	list, _ := opts.fault.scenarios()
	work, err := os.MkdirTemp("", "gatehouse-faults.")
	if err != nil {
		fmt.Fprintln(stderr, err)
		return 1
	}
	fr := &faultRun{opts: opts, work: work}
	var reports []*faultReport
	for _, sc := range list {
		r := &faultReport{scenario: sc.name, logDir: filepath.Join(work, sc.name)}
		fmt.Fprintf(stderr, "bench: %s: %s (load average %s)\n", sc.name, sc.about, loadAverage())
		r.err = sc.run(ctx, fr, r)
		if ctx.Err() != nil && r.err == nil {
			r.err = ctx.Err()
		}
		r.write(stdout)
		reports = append(reports, r)
		if ctx.Err() != nil {
			break
		}
	}
	if len(reports) > 1 {
		writeSummary(stdout, reports)
	}
	for _, r := range reports {
		if !r.passed() {
			fmt.Fprintf(stderr, "bench: server logs kept in %s\n", work)
			return 1
		}
	}
	os.RemoveAll(work)
	return 0
}

// loadAverage returns the 1, 5 and 15 minute load averages, or "?".
func loadAverage() string {
	b, err := os.ReadFile("/proc/loadavg")
	if f := strings.Fields(string(b)); err == nil && len(f) >= 3 {
		return strings.Join(f[:3], " ")
	}
	return "?"
}

// sleepCtx waits d or until ctx is done.
func sleepCtx(ctx context.Context, d time.Duration) error {
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-time.After(d):
		return nil
	}
}
