package main

import (
	"context"
	"fmt"
	"net/http"
	"strconv"
	"sync"
	"syscall"
	"time"
)

const (
	pathForgot = "/forgot-password"
	// resetSubject is in the subject of every password-reset e-mail.
	resetSubject = "reset your password"
	// queueIdle is how long nothing may be waiting in the server's queue
	// before the wait for e-mails gives up early: what is neither
	// delivered nor queued by then will not come.
	queueIdle = 15 * time.Second
	// pendingSQL counts the messages the server still means to send.
	pendingSQL = `SELECT count(*) FROM outbound_messages WHERE status IN ('queued', 'sending')`
)

// mailSettings points the server's e-mail at the sink.
func mailSettings(sink *smtpSink) []string {
	return []string{
		"GATEHOUSE_EMAIL_SMTP_URL=smtp://" + sink.addr,
		"GATEHOUSE_EMAIL_FROM=Gatehouse <no-reply@bench.example.com>",
	}
}

// resetUsers creates n accounts with verified addresses through the CLI
// (which sends no e-mail) and returns their login names.
func resetUsers(ctx context.Context, srv *server, n int) ([]string, error) {
	logins := make([]string, n)
	for i := range logins {
		logins[i] = "reset-" + strconv.Itoa(i)
		if err := srv.createUser(ctx, logins[i]); err != nil {
			return nil, err
		}
	}
	return logins, nil
}

// openResetForm loads the forgot-password page in a new browser and
// fills in login.
func openResetForm(ctx context.Context, rt http.RoundTripper, base, login string) (*floodBrowser, error) {
	c := newBrowserClient(rt, base+"/", time.Minute)
	c.CheckRedirect = func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }
	_, form, err := getForm(ctx, c, base+pathForgot)
	if err != nil {
		return nil, fmt.Errorf("bench: forgot-password page: %w", err)
	}
	form.Set("login", login)
	return &floodBrowser{client: c, login: login, form: form}, nil
}

// requestReset posts b's forgot-password form and returns the status, 0
// when there was no answer.
func requestReset(ctx context.Context, b *floodBrowser, base string) int {
	resp, _, err := postForm(ctx, b.client, base+pathForgot, b.form)
	if err != nil {
		return 0
	}
	return resp.StatusCode
}

// delivered returns, for each address in want, when its first reset
// e-mail arrived at the sink.
func delivered(sink *smtpSink, want map[string]bool) map[string]time.Time {
	got := map[string]time.Time{}
	for _, m := range sink.received(resetSubject) {
		if _, seen := got[m.to]; want[m.to] && !seen {
			got[m.to] = m.at
		}
	}
	return got
}

// awaitResets waits until every address in want has its reset e-mail,
// until nothing has been waiting in the server's queue for queueIdle, or
// until limit passes; it says which.
func awaitResets(ctx context.Context, sink *smtpSink, schema *pgSchema, want map[string]bool, limit time.Duration) string {
	start := time.Now()
	idleSince := time.Time{}
	for next := time.Now(); ; {
		if len(delivered(sink, want)) == len(want) {
			return "all delivered"
		}
		if time.Since(start) > limit {
			return "gave up after -mail-wait " + limit.String()
		}
		if time.Now().After(next) {
			next = time.Now().Add(time.Second)
			switch n, err := schema.count(ctx, pendingSQL); {
			case err != nil || n > 0:
				idleSince = time.Time{}
			case idleSince.IsZero():
				idleSince = time.Now()
			case time.Since(idleSince) > queueIdle:
				return fmt.Sprintf("nothing waiting in the server's queue for %s", queueIdle)
			}
		}
		if sleepCtx(ctx, 100*time.Millisecond) != nil {
			return "interrupted"
		}
	}
}

// addresses maps logins to their e-mail addresses as a set.
func addresses(logins []string) map[string]bool {
	set := make(map[string]bool, len(logins))
	for _, l := range logins {
		set[l+"@bench.example.com"] = true
	}
	return set
}

// queueFigures describes what waits in the server's queue.
func queueFigures(ctx context.Context, schema *pgSchema) string {
	waiting, err := schema.count(ctx, pendingSQL)
	if err != nil {
		return "unknown (" + err.Error() + ")"
	}
	attempts, err := schema.count(ctx, `SELECT coalesce(max(attempts), 0) FROM outbound_messages WHERE status IN ('queued', 'sending')`)
	if err != nil {
		return fmt.Sprintf("%d message(s) waiting", waiting)
	}
	return fmt.Sprintf("%d message(s) waiting, the most tried %d time(s)", waiting, attempts)
}

// runSMTPOutage: the SMTP sink refuses for -smtp-outage while -mails
// accounts ask for a password reset, spread over the outage; then it
// accepts again. Every acknowledged reset must be delivered within 30 s of
// the restore.
func runSMTPOutage(ctx context.Context, fr *faultRun, r *faultReport) error {
	fo := fr.opts.fault
	refusal, _ := parseRefusal(fo.smtpRefuse)
	sink, err := startSMTPSink(sinkAccept)
	if err != nil {
		return err
	}
	defer sink.close()
	srv, schema, cleanup, err := fr.setup(ctx, r, "", mailSettings(sink)...)
	if err != nil {
		return err
	}
	defer cleanup()
	if err := srv.startReady(ctx); err != nil {
		return err
	}
	logins, err := resetUsers(ctx, srv, fo.mails)
	if err != nil {
		return err
	}
	rt := newTransport(8)
	defer rt.CloseIdleConnections()

	sink.set(refusal)
	cut := time.Now()
	statuses := map[string]int{}
	for i, login := range logins {
		if err := sleepCtx(ctx, time.Until(cut.Add(fo.smtpOutage*time.Duration(i)/time.Duration(len(logins))))); err != nil {
			return err
		}
		b, err := openResetForm(ctx, rt, srv.url, login)
		if err != nil {
			return err
		}
		statuses[statusLabel(requestReset(ctx, b, srv.url))]++
	}
	if err := sleepCtx(ctx, time.Until(cut.Add(fo.smtpOutage))); err != nil {
		return err
	}
	atRestore := queueFigures(ctx, schema)
	refused, early := sink.refusals(), len(sink.received(resetSubject))
	restore := time.Now()
	sink.set(sinkAccept)
	want := addresses(logins)
	why := awaitResets(ctx, sink, schema, want, fo.mailWait)

	got := delivered(sink, want)
	first, last := time.Duration(-1), time.Duration(-1)
	for _, at := range got {
		d := at.Sub(restore)
		if first < 0 || d < first {
			first = d
		}
		last = max(last, d)
	}
	r.figure("outage", "SMTP refused (%s) for %s; %d resets requested %s apart: %s",
		fo.smtpRefuse, fo.smtpOutage, len(logins), fo.smtpOutage/time.Duration(len(logins)), formatCounts(statuses))
	r.figure("at restore", "%d connection(s) refused, %d reset e-mail(s) taken; queue: %s", refused, early, atRestore)
	r.figure("delivery", "%d of %d delivered, first %s and last %s after the restore (%s)",
		len(got), len(logins), durationOrNever(first), durationOrNever(last), why)
	r.checkCount("resets acknowledged (200)", statuses["200"], len(logins))
	r.checkCount("resets delivered", len(got), len(logins))
	if len(got) < len(logins) {
		last = -1
	}
	r.checkAtMost("restore to the last delivery", last, mailRecoveryTarget)
	return nil
}

// runKill9Reset: -mails accounts ask for a password reset at once, the
// server is killed with SIGKILL as soon as the last answer is in, and
// restarted on the same database with the sink accepting. Every
// acknowledged reset must be delivered.
func runKill9Reset(ctx context.Context, fr *faultRun, r *faultReport) error {
	fo := fr.opts.fault
	sink, err := startSMTPSink(sinkAccept)
	if err != nil {
		return err
	}
	defer sink.close()
	srv, schema, cleanup, err := fr.setup(ctx, r, "", mailSettings(sink)...)
	if err != nil {
		return err
	}
	defer cleanup()
	if err := srv.startReady(ctx); err != nil {
		return err
	}
	logins, err := resetUsers(ctx, srv, fo.mails)
	if err != nil {
		return err
	}
	rt := newTransport(len(logins))
	defer rt.CloseIdleConnections()
	browsers := make([]*floodBrowser, len(logins))
	for i, login := range logins {
		if browsers[i], err = openResetForm(ctx, rt, srv.url, login); err != nil {
			return err
		}
	}

	statuses := make([]int, len(browsers))
	var wg sync.WaitGroup
	for i, b := range browsers {
		wg.Go(func() { statuses[i] = requestReset(ctx, b, srv.url) })
	}
	wg.Wait()
	lastAnswer := time.Now()
	if err := srv.signal(syscall.SIGKILL); err != nil {
		return fmt.Errorf("bench: SIGKILL: %w", err)
	}
	killedAfter := time.Since(lastAnswer)
	srv.waitExit(10 * time.Second)

	acked, counts := map[string]bool{}, map[string]int{}
	for i, st := range statuses {
		counts[statusLabel(st)]++
		if st == http.StatusOK {
			acked[logins[i]+"@bench.example.com"] = true
		}
	}
	byKill := len(delivered(sink, acked))
	queue := "unknown"
	rows, err := schema.count(ctx, `SELECT count(*) FROM outbound_messages WHERE kind = 'email'`)
	waiting, err2 := schema.count(ctx, pendingSQL)
	if err == nil && err2 == nil {
		queue = fmt.Sprintf("%d e-mail(s) in the server's queue table, %d of them waiting", rows, waiting)
	}
	restart := time.Now()
	if err := srv.startReady(ctx); err != nil {
		return err
	}
	why := awaitResets(ctx, sink, schema, acked, fo.mailWait)
	got := delivered(sink, acked)
	last := time.Duration(-1)
	for _, at := range got {
		last = max(last, at.Sub(restart))
	}
	r.figure("burst", "%d resets requested at once: %s; SIGKILL %s after the last answer",
		len(logins), formatCounts(counts), killedAfter.Round(time.Microsecond))
	r.figure("at the kill", "%d delivered; %s", byKill, queue)
	r.figure("after restart", "%d more delivered, the last %s after the restart (%s)",
		len(got)-byKill, durationOrNever(last), why)
	r.checkCount("resets acknowledged (200)", len(acked), len(logins))
	r.checkCount("acknowledged resets lost", len(acked)-len(got), 0)
	return nil
}
