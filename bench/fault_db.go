package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"time"

	"gatehouse/internal/proxytest"
)

// Phases of the db-outage scenario around the cut.
const (
	outageLead  = 3 * time.Second // steady load before the cut
	outageTrail = 5 * time.Second // and after the restore
)

// dbScenarios are the steady-load scenarios that need the database;
// discovery does not.
var dbScenarios = []string{"client_credentials", "introspect"}

// postgresHost returns the host:port of the -postgres URL, which the
// proxy forwards to.
func postgresHost(raw string) (string, error) {
	u, err := url.Parse(raw)
	if err != nil || u.Host == "" {
		return "", fmt.Errorf("bench: -postgres %q: no host", raw)
	}
	if u.Port() == "" {
		return u.Host + ":5432", nil
	}
	return u.Host, nil
}

// runDBOutage: under steady load (client_credentials, introspection of
// the tokens it issued, discovery) the proxy between the server and
// PostgreSQL drops every connection and refuses new ones for -db-outage,
// then forwards again. During the outage the database routes must answer
// only 503, never 401 or 500, and within 2 s of the restore they must
// answer 200 again and keep doing so.
func runDBOutage(ctx context.Context, fr *faultRun, r *faultReport) error {
	fo := fr.opts.fault
	target, err := postgresHost(fo.postgres)
	if err != nil {
		return err
	}
	proxy, err := proxytest.New(target, proxytest.Forward)
	if err != nil {
		return err
	}
	defer proxy.Close()
	srv, _, cleanup, err := fr.setup(ctx, r, proxy.Addr())
	if err != nil {
		return err
	}
	defer cleanup()
	if err := srv.startReady(ctx); err != nil {
		return err
	}
	id, secret, err := srv.createClient(ctx, "--name", "steady", "--grant-type", "client_credentials", "--scope", "openid")
	if err != nil {
		return err
	}
	opts := fr.opts
	opts.base, opts.clientID, opts.clientSecret, opts.tokens, opts.concurrency = srv.url, id, secret, 100, 4
	rt := newTransport(len(dbScenarios)*steadyWorkers + steadyWorkers)
	defer rt.CloseIdleConnections()
	var scs []*scenario
	for _, name := range append(slices.Clone(dbScenarios), "discovery") {
		opts.scenario = name
		sc, err := buildScenario(ctx, rt, opts)
		if err != nil {
			return err
		}
		scs = append(scs, sc)
	}

	load := startSteadyLoad(ctx, rt, scs)
	if err := sleepCtx(ctx, outageLead); err != nil {
		load.stop()
		return err
	}
	proxy.Set(proxytest.Down)
	cut := time.Now()
	sleepCtx(ctx, fo.dbOutage)
	restore := time.Now()
	if err := proxy.Set(proxytest.Forward); err != nil {
		load.stop()
		return err
	}
	sleepCtx(ctx, outageTrail)
	events := load.stop()
	if ctx.Err() != nil {
		return ctx.Err()
	}
	reportOutage(r, analyseOutage(events, cut, restore), fo.dbOutage)
	r.figure("outage log", `%d line(s) "database unavailable"`, srv.logCount("database unavailable"))
	return nil
}

// reportOutage turns the analysed answers of db-outage into figures and
// checks.
func reportOutage(r *faultReport, st outageStats, outage time.Duration) {
	r.figure("outage", "database cut for %s after %s of steady load (%d workers per route, %s apart), %s after", outage, outageLead, steadyWorkers, steadyPause, outageTrail)
	scenarios := append(slices.Clone(dbScenarios), "discovery")
	for _, sc := range scenarios {
		r.figure(sc, "before %s | outage %s | across %s | after %s",
			formatCounts(st.counts[phaseBefore][sc]), formatCounts(st.counts[phaseOutage][sc]),
			formatCounts(st.counts[phaseAcross][sc]), formatCounts(st.counts[phaseAfter][sc]))
	}
	r.figure("slowest", "answer during the outage %s, after it %s", seconds(st.slowest[phaseOutage]), seconds(st.slowest[phaseAfter]))
	var firstOK, steady time.Duration
	var recovery []string
	for _, sc := range dbScenarios {
		f, s := st.firstOK[sc], st.steady[sc]
		recovery = append(recovery, fmt.Sprintf("%s first 200 %s, steady %s", sc, durationOrNever(f), durationOrNever(s)))
		firstOK, steady = worst(firstOK, f), worst(steady, s)
	}
	r.figure("recovery", "%s (from the restore)", strings.Join(recovery, "; "))

	before := 0
	for _, sc := range scenarios {
		before += countOther(st.counts[phaseBefore][sc], "200")
	}
	r.checkCount("answers before the cut other than 200", before, 0)
	for _, sc := range dbScenarios {
		c := st.counts[phaseOutage][sc]
		n, other := c["503"], countOther(c, "503")
		r.checkThat(sc+" during the outage", n > 0 && other == 0, formatCounts(c), "only 503")
	}
	r.checkCount("discovery during the outage other than 200", countOther(st.counts[phaseOutage]["discovery"], "200"), 0)
	bad := 0
	for _, byScenario := range st.counts {
		for _, c := range byScenario {
			bad += c["401"] + c["500"] + c["no answer"]
		}
	}
	r.checkCount("401, 500 or no answer at any time", bad, 0)
	r.checkAtMost("restore to the first 200 (slowest route)", firstOK, dbRecoveryTarget)
	r.checkAtMost("restore to steady success (slowest route)", steady, dbRecoveryTarget)
}

// worst returns the later of two recovery times, where a negative one
// (never) is the worst.
func worst(a, b time.Duration) time.Duration {
	if a < 0 || b < 0 {
		return -1
	}
	return max(a, b)
}

func durationOrNever(d time.Duration) string {
	if d < 0 {
		return "never"
	}
	return seconds(d)
}

// runDBDownAtStart: serve starts while the proxy to PostgreSQL refuses
// connections and keeps refusing for -db-down. Meanwhile /healthz must
// answer 200, /readyz and the routes that need the database 503; once the
// proxy forwards, /readyz must answer 200 within 2 s (the fresh schema's
// migrations included).
func runDBDownAtStart(ctx context.Context, fr *faultRun, r *faultReport) error {
	fo := fr.opts.fault
	target, err := postgresHost(fo.postgres)
	if err != nil {
		return err
	}
	proxy, err := proxytest.New(target, proxytest.Down)
	if err != nil {
		return err
	}
	defer proxy.Close()
	srv, _, cleanup, err := fr.setup(ctx, r, proxy.Addr())
	if err != nil {
		return err
	}
	defer cleanup()
	start := time.Now()
	if err := srv.start(); err != nil {
		return err
	}
	listening, err := srv.waitFor(ctx, 10*time.Second, "listening", func() bool {
		code, _, _ := srv.get(ctx, "/healthz")
		return code == http.StatusOK
	})
	if errors.Is(err, errExited) {
		// The server not waiting for its database is a finding, not a
		// broken run.
		r.figure("start", "serve exited with status %d while the database was down", srv.exitCode())
		r.checkThat("serve keeps running while the database is down", false, fmt.Sprintf("exit status %d", srv.exitCode()), "running")
		return nil
	}
	if err != nil {
		return err
	}
	r.figure("start", "listening %s after the start, database refused", seconds(listening))
	// The first attempt has failed once /readyz says so.
	srv.waitFor(ctx, 10*time.Second, "reporting the database unreachable", func() bool {
		_, reason := srv.readyStatus(ctx)
		return reason == "database unreachable"
	})
	if err := sleepCtx(ctx, fo.dbDown-time.Since(start)); err != nil {
		return err
	}

	health, _, _ := srv.get(ctx, "/healthz")
	ready, reason := srv.readyStatus(ctx)
	token, tokenErr := bogusToken(ctx, srv)
	login, _, _ := srv.get(ctx, "/login")
	r.figure("while down", "after %s: /healthz %s, /readyz %s (%s), POST /oauth2/token %s (%s), GET /login %s; %d start attempt(s) logged",
		seconds(time.Since(start)), statusLabel(health), statusLabel(ready), reason, statusLabel(token), tokenErr, statusLabel(login),
		srv.logCount("cannot start yet"))
	r.checkCount("/healthz while the database is down", health, http.StatusOK)
	r.checkCount("/readyz while the database is down", ready, http.StatusServiceUnavailable)
	r.checkCount("POST /oauth2/token while the database is down", token, http.StatusServiceUnavailable)
	r.checkCount("GET /login while the database is down", login, http.StatusServiceUnavailable)

	if err := proxy.Set(proxytest.Forward); err != nil {
		return err
	}
	took, err := srv.waitFor(ctx, readyTimeout, "ready", func() bool {
		code, _ := srv.readyStatus(ctx)
		return code == http.StatusOK
	})
	if err != nil {
		took = -1
	}
	token, tokenErr = bogusToken(ctx, srv)
	r.figure("database up", "/readyz 200 %s after the proxy forwarded again (migrating a fresh schema included); then POST /oauth2/token with an unknown client %s (%s)",
		durationOrNever(took), statusLabel(token), tokenErr)
	r.checkAtMost("database up to /readyz 200", took, dbRecoveryTarget)
	return nil
}

// bogusToken asks for a client_credentials token as a client that does
// not exist and returns the status and the OAuth error code.
func bogusToken(ctx context.Context, srv *server) (int, string) {
	h := http.Header{
		"Authorization": {basicAuth("no-such-client", "no-such-secret")},
		"Content-Type":  {"application/x-www-form-urlencoded"},
		"Accept":        {"application/json"},
	}
	code, body, err := srv.do(ctx, http.MethodPost, pathToken, h, strings.NewReader(string(ccBody)))
	if err != nil {
		return 0, err.Error()
	}
	var e struct {
		Error string `json:"error"`
	}
	if json.Unmarshal(body, &e) != nil || e.Error == "" {
		return code, "no OAuth error"
	}
	return code, e.Error
}
