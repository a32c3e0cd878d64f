package main

import (
	"context"
	"fmt"
	"net/http"
	"strconv"
	"syscall"
	"time"
)

// floodRedirectURI is the flood client's redirect URI; nothing listens
// there, the browsers stop at the redirect.
const floodRedirectURI = "http://127.0.0.1:9/callback"

// shutdownOutcome is what became of the process after SIGTERM.
type shutdownOutcome struct {
	inFlight int           // the server's count right before the signal
	exited   bool          // within the wait
	code     int           // exit status, when exited
	took     time.Duration // from the signal to the exit
}

// runSigtermFlood: the login-flood scenario's accounts all sign in at
// once, and SIGTERM reaches the server -sigterm-after later. Every
// sign-in must be answered (signed in, or 503), none with a 500, and the
// process must exit 0 within http.shutdown_timeout.
func runSigtermFlood(ctx context.Context, fr *faultRun, r *faultReport) error {
	fo := fr.opts.fault
	srv, _, cleanup, err := fr.setup(ctx, r, "", "GATEHOUSE_HTTP_SHUTDOWN_TIMEOUT="+fo.shutdownWait.String())
	if err != nil {
		return err
	}
	defer cleanup()
	if err := srv.startReady(ctx); err != nil {
		return err
	}
	id, _, err := srv.createClient(ctx, "--name", "flood", "--redirect-uri", floodRedirectURI, "--scope", "openid", "--first-party")
	if err != nil {
		return err
	}
	opts := fr.opts
	opts.scenario, opts.base, opts.clientID, opts.redirectURI = "login-flood", srv.url, id, floodRedirectURI
	rt := newTransport(opts.users + 64)
	rt.ResponseHeaderTimeout = opts.loginTimeout
	defer rt.CloseIdleConnections()
	setupCtx, cancel := context.WithTimeout(ctx, 10*time.Minute)
	browsers, err := prepareFlood(setupCtx, rt, opts)
	cancel()
	if err != nil {
		return err
	}
	// What counts is the answer to the POST itself. Following its
	// redirect would send a new request after SIGTERM, which a server
	// that has stopped accepting connections rightly refuses.
	for _, b := range browsers {
		b.client.CheckRedirect = func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }
	}

	var out shutdownOutcome
	signalled := make(chan error, 1)
	answers := signInAll(ctx, browsers, opts, func() {
		go func() { signalled <- terminate(ctx, srv, fo, &out) }()
	})
	if err := <-signalled; err != nil {
		return err
	}

	statuses := map[string]int{}
	smp := &samples{seen: map[string]bool{}}
	for _, a := range answers {
		label := statusLabel(a.status)
		if a.status == http.StatusServiceUnavailable && a.outcome != "busy" {
			label = "503 without Retry-After"
		}
		statuses[label]++
		if label != "303" && label != "503" {
			smp.add(a.outcome)
		}
	}
	r.figure("flood", "%d sign-ins at once; SIGTERM %s after they went out, %d requests in flight on the server", len(answers), fo.sigtermAfter, out.inFlight)
	r.figure("answers", "%s (303: signed in, 503: busy or cancelled by the shutdown)", formatCounts(statuses))
	for _, s := range smp.list {
		r.figure("other answer", "%s", s)
	}
	exit := "still running"
	if out.exited {
		exit = fmt.Sprintf("status %d after %s", out.code, seconds(out.took))
	}
	r.figure("exit", "%s; http.shutdown_timeout %s", exit, fo.shutdownWait)

	r.checkThat("exit status", out.exited && out.code == 0, exitLabel(out), "0")
	took := out.took
	if !out.exited {
		took = -1
	}
	r.checkAtMost("SIGTERM to exit", took, fo.shutdownWait)
	r.checkCount("answers 500", statuses["500"], 0)
	r.checkCount("sign-ins without an answer", statuses["no answer"], 0)
	r.checkCount("answers other than 303 and 503 with Retry-After", countOther(statuses, "303", "503"), 0)
	r.checkCount(`log lines "database is closed"`, srv.logCount("database is closed"), 0)
	return nil
}

// terminate waits -sigterm-after, reads the server's in-flight count,
// sends SIGTERM and waits for the exit: the shutdown timeout and half a
// minute more, after which it kills the process.
func terminate(ctx context.Context, srv *server, fo faultOptions, out *shutdownOutcome) error {
	if err := sleepCtx(ctx, fo.sigtermAfter); err != nil {
		return err
	}
	out.inFlight = srv.inFlight(ctx)
	start := time.Now()
	if err := srv.signal(syscall.SIGTERM); err != nil {
		return fmt.Errorf("bench: SIGTERM: %w", err)
	}
	out.exited = srv.waitExit(fo.shutdownWait + 30*time.Second)
	out.took = time.Since(start)
	if out.exited {
		out.code = srv.exitCode()
	}
	return nil
}

func exitLabel(out shutdownOutcome) string {
	if !out.exited {
		return "did not exit"
	}
	return strconv.Itoa(out.code)
}
