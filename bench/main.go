package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"slices"
	"strings"
	"syscall"
	"time"
)

// options are the parsed flags.
type options struct {
	base, scenario         string
	clientID, clientSecret string
	duration, warmup       time.Duration
	concurrency, tokens    int
	json, header           bool

	// login-flood
	users                            int
	redirectURI                      string
	loginTimeout, probeEvery, within time.Duration

	fault faultOptions
}

// secretEnv may carry the client secret instead of -client-secret.
const secretEnv = "BENCH_CLIENT_SECRET"

// setupTimeout bounds a scenario's setup: introspect's access tokens, or
// the accounts of login and login-mfa.
const setupTimeout = 5 * time.Minute

// Table columns; bench/run.sh prints the header with -header.
const (
	headerFormat = "%-18s %10s %8s %12s %10s %10s %10s\n"
	lineFormat   = "%-18s %10d %8d %12.1f %8.2fms %8.2fms %8.2fms\n"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	code := Main(ctx, os.Args[1:], os.Stdout, os.Stderr)
	stop()
	os.Exit(code)
}

// Main parses flags, builds the scenario, runs it and prints the result.
// It returns 2 for bad flags, 1 when setup failed, no request was answered
// or any answer was an error, and 0 otherwise.
func Main(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	opts, err := parseFlags(args, stderr)
	if errors.Is(err, flag.ErrHelp) {
		return 0
	}
	if err != nil {
		fmt.Fprintln(stderr, err)
		return 2
	}
	if opts.fault.list != "" {
		return mainFault(ctx, opts, stdout, stderr)
	}
	if opts.header {
		fmt.Fprintf(stdout, headerFormat, "scenario", "requests", "errors", "req/s", "p50", "p95", "p99")
		return 0
	}
	if opts.scenario == "login-flood" {
		return mainFlood(ctx, opts, stdout, stderr)
	}
	rt := newTransport(opts.concurrency)
	defer rt.CloseIdleConnections()

	setupCtx, cancel := context.WithTimeout(ctx, setupTimeout)
	sc, err := buildScenario(setupCtx, rt, opts)
	cancel()
	if err != nil {
		fmt.Fprintln(stderr, err)
		return 1
	}
	res := run(ctx, rt, sc, opts)
	if err := report(stdout, stderr, res, opts.json); err != nil {
		fmt.Fprintln(stderr, err)
		return 1
	}
	if ctx.Err() != nil || res.Requests == 0 || res.Errors > 0 {
		return 1
	}
	return 0
}

// mainFlood runs the login-flood scenario. It fails when any sign-in got
// an answer other than success or 503 with Retry-After, or took longer
// than -within.
func mainFlood(ctx context.Context, opts options, stdout, stderr io.Writer) int {
	res, err := runFlood(ctx, opts)
	if err != nil {
		fmt.Fprintln(stderr, err)
		return 1
	}
	for _, s := range res.ErrorSamples {
		fmt.Fprintf(stderr, "bench: login-flood: other answer: %s\n", s)
	}
	if opts.json {
		err = json.NewEncoder(stdout).Encode(res)
	} else {
		err = reportFlood(stdout, res)
	}
	if err != nil {
		fmt.Fprintln(stderr, err)
		return 1
	}
	code := 0
	if res.Other > 0 || res.ProbeErrors > 0 {
		code = 1
	}
	if res.LoginMaxMS > ms(opts.within) {
		fmt.Fprintf(stderr, "bench: login-flood: the slowest sign-in took %.0fms, more than -within %v\n", res.LoginMaxMS, opts.within)
		code = 1
	}
	if ctx.Err() != nil {
		code = 1
	}
	return code
}

func report(stdout, stderr io.Writer, res result, asJSON bool) error {
	for _, s := range res.ErrorSamples {
		fmt.Fprintf(stderr, "bench: %s: error answer: %s\n", res.Scenario, s)
	}
	if res.WarmupErrors > 0 {
		fmt.Fprintf(stderr, "bench: %s: %d error answers during warmup (not counted)\n", res.Scenario, res.WarmupErrors)
	}
	if asJSON {
		return json.NewEncoder(stdout).Encode(res)
	}
	_, err := fmt.Fprintf(stdout, lineFormat, res.Scenario, res.Requests, res.Errors, res.RPS, res.P50MS, res.P95MS, res.P99MS)
	return err
}

func parseFlags(args []string, stderr io.Writer) (options, error) {
	var o options
	fs := flag.NewFlagSet("bench", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.Usage = func() {
		fmt.Fprintf(stderr, "usage: go run ./bench -url http://127.0.0.1:8080 -scenario NAME [flags]\n"+
			"       go run ./bench -fault all|NAME,... -gatehouse BINARY [flags]\n\n"+
			"Closed-loop load against a local Gatehouse; prints one result line.\n"+
			"With -fault, runs fault scenarios against servers of its own and prints a report each.\n\n")
		fs.PrintDefaults()
	}
	fs.StringVar(&o.base, "url", "http://127.0.0.1:8080", "base URL of the server (loopback only)")
	fs.StringVar(&o.scenario, "scenario", "discovery", strings.Join(scenarioNames, ", "))
	fs.StringVar(&o.clientID, "client-id", "", "client_credentials client (client_credentials, introspect)")
	fs.StringVar(&o.clientSecret, "client-secret", "", "its secret (default $"+secretEnv+", which keeps it out of ps)")
	fs.DurationVar(&o.duration, "duration", 10*time.Second, "measured phase")
	fs.DurationVar(&o.warmup, "warmup", 2*time.Second, "phase before it whose answers are checked but not counted")
	fs.IntVar(&o.concurrency, "concurrency", 64, "workers, each with one request in flight")
	fs.IntVar(&o.tokens, "tokens", 1000, "introspect: distinct access tokens to obtain first and cycle through")
	fs.BoolVar(&o.json, "json", false, "print a JSON object instead of a table line")
	fs.BoolVar(&o.header, "header", false, "print the table header line and exit")
	fs.IntVar(&o.users, "users", 200, "login, login-mfa, login-flood: accounts registered first (login-flood: then signed in all at once)")
	fs.StringVar(&o.redirectURI, "redirect-uri", "", "login, login-mfa, login-flood: a redirect URI of -client-id, a first-party authorization_code client")
	fs.DurationVar(&o.loginTimeout, "login-timeout", time.Minute, "login-flood: how long one sign-in may take before it is given up")
	fs.DurationVar(&o.probeEvery, "probe-every", 10*time.Millisecond, "login-flood: interval of the discovery probes")
	fs.DurationVar(&o.within, "within", 5*time.Second, "login-flood: every sign-in must be answered within this")
	o.fault.register(fs)
	if err := fs.Parse(args); err != nil {
		return o, err
	}
	if fs.NArg() > 0 {
		return o, fmt.Errorf("bench: unexpected argument %q", fs.Arg(0))
	}
	if o.header {
		return o, nil
	}
	if o.fault.list != "" {
		return o, o.fault.validate(o.users)
	}
	if o.clientSecret == "" {
		o.clientSecret = os.Getenv(secretEnv)
	}
	return o, o.validate()
}

func (o *options) validate() error {
	var err error
	if o.base, err = parseTarget(o.base); err != nil {
		return err
	}
	var problems []string
	if !slices.Contains(scenarioNames, o.scenario) {
		problems = append(problems, fmt.Sprintf("unknown -scenario %q (want %s)", o.scenario, strings.Join(scenarioNames, ", ")))
	}
	if o.duration <= 0 {
		problems = append(problems, "-duration must be positive")
	}
	if o.warmup < 0 {
		problems = append(problems, "-warmup must not be negative")
	}
	if o.concurrency < 1 || o.concurrency > 10000 {
		problems = append(problems, "-concurrency must be between 1 and 10000")
	}
	if o.tokens < 1 || o.tokens > 1000000 {
		problems = append(problems, "-tokens must be between 1 and 1000000")
	}
	signIns := o.scenario == "login" || o.scenario == "login-mfa"
	needsClient := o.scenario == "client_credentials" || o.scenario == "introspect" || signIns
	if needsClient && (o.clientID == "" || o.clientSecret == "") {
		problems = append(problems, "-client-id and -client-secret are required for "+o.scenario)
	}
	if signIns && (o.redirectURI == "" || o.users < o.concurrency) {
		problems = append(problems, "-redirect-uri and -users of at least -concurrency are required for "+o.scenario)
	}
	if o.scenario == "login-flood" {
		if o.clientID == "" || o.redirectURI == "" {
			problems = append(problems, "-client-id and -redirect-uri are required for login-flood")
		}
		if o.users < 1 || o.users > 10000 {
			problems = append(problems, "-users must be between 1 and 10000")
		}
		if o.loginTimeout <= 0 || o.probeEvery <= 0 || o.within <= 0 {
			problems = append(problems, "-login-timeout, -probe-every and -within must be positive")
		}
	}
	if len(problems) > 0 {
		return errors.New("bench: " + strings.Join(problems, "; "))
	}
	return nil
}
