package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"gatehouse/config"
	"gatehouse/identity"
	"gatehouse/migrations/dbtest"
)

const msgBusyPage = "We are very busy right now, please try again in a moment."

// withOneHashWorker gives the server a single password hashing worker
// that callers wait for at most queueTimeout, and lifts the sign-in rate
// limits, which would otherwise answer a flood from one address first.
func withOneHashWorker(queueTimeout time.Duration) func(*config.Config) {
	return func(c *config.Config) {
		c.Password.HashWorkers = 1
		c.Password.HashQueueTimeout = config.Duration(queueTimeout)
		c.RateLimits.LoginPerIP = "100000/1m"
		c.RateLimits.LoginPerAccount = "100000/1m"
	}
}

// holdWorkers occupies every worker of pool until the returned function
// is called (or the test ends).
func holdWorkers(t testing.TB, pool *identity.Pool) (release func()) {
	t.Helper()
	n := pool.Stats().Workers
	started, done := make(chan struct{}, n), make(chan struct{})
	var wg sync.WaitGroup
	for range n {
		wg.Go(func() {
			if err := pool.Do(context.Background(), func() { started <- struct{}{}; <-done }); err != nil {
				t.Errorf("holding a worker: %v", err)
			}
		})
	}
	for range n {
		<-started
	}
	var once sync.Once
	release = func() { once.Do(func() { close(done); wg.Wait() }) }
	t.Cleanup(release)
	return release
}

// waitFor polls cond until it holds, failing the test if it ends first.
func waitFor(t testing.TB, what string, cond func() bool) {
	t.Helper()
	tick := time.NewTicker(time.Millisecond)
	defer tick.Stop()
	for !cond() {
		select {
		case <-t.Context().Done():
			t.Fatalf("gave up waiting until %s", what)
		case <-tick.C:
		}
	}
}

// signInForm is one browser's login form, filled in and ready to post.
type signInForm struct {
	login  string
	client *http.Client // the browser's cookies; redirects are not followed
	action string
	values url.Values
}

func newSignInForm(t testing.TB, srv *testServer, login string) signInForm {
	t.Helper()
	b := newBrowser(t, rpCallback)
	p, _ := b.get(t, srv.URL+"/login")
	action, values, _ := findForm(t, p, "login-submit")
	values.Set("login", login)
	values.Set("password", testUserPassword)
	target, err := p.URL.Parse(action)
	if err != nil {
		t.Fatal(err)
	}
	noFollow := func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }
	return signInForm{login: login, client: &http.Client{Jar: b.Jar, CheckRedirect: noFollow}, action: target.String(), values: values}
}

// signInAnswer is what a browser got for its sign-in.
type signInAnswer struct {
	status     int
	location   string
	retryAfter string
	body       string
	err        error // the request failed (cancelled)
}

func (f signInForm) post(ctx context.Context) signInAnswer {
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, f.action, strings.NewReader(f.values.Encode()))
	if err != nil {
		return signInAnswer{err: err}
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	resp, err := f.client.Do(req)
	if err != nil {
		return signInAnswer{err: err}
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	return signInAnswer{status: resp.StatusCode, location: resp.Header.Get("Location"),
		retryAfter: resp.Header.Get("Retry-After"), body: string(body), err: err}
}

// signedIn reports whether a is the redirect of a successful sign-in.
func (a signInAnswer) signedIn() bool {
	return a.err == nil && a.status == http.StatusSeeOther && a.location == "/"
}

// busy reports whether a is the friendly 503 with Retry-After.
func (a signInAnswer) busy() bool {
	wait, err := strconv.Atoi(a.retryAfter)
	return a.err == nil && a.status == http.StatusServiceUnavailable && err == nil && wait >= 1 &&
		strings.Contains(a.body, msgBusyPage)
}

func (a signInAnswer) String() string {
	if a.err != nil {
		return "error " + a.err.Error()
	}
	return fmt.Sprintf("%d Location %q Retry-After %q: %.300s", a.status, a.location, a.retryAfter, a.body)
}

// postAll posts every form at the same moment and returns the answers in
// the same order.
func postAll(ctx context.Context, forms []signInForm) []signInAnswer {
	answers := make([]signInAnswer, len(forms))
	start := make(chan struct{})
	var wg sync.WaitGroup
	for i, f := range forms {
		wg.Go(func() {
			<-start
			answers[i] = f.post(ctx)
		})
	}
	close(start)
	wg.Wait()
	return answers
}

func countSessions(t testing.TB, srv *testServer) int {
	t.Helper()
	var n int
	if err := srv.App.DB.Gorm().Raw("SELECT COUNT(*) FROM browser_sessions").Scan(&n).Error; err != nil {
		t.Fatal(err)
	}
	return n
}

var busyMetric = regexp.MustCompile(`(?m)^gatehouse_password_hash_busy_total (\d+)$`)

// floodUsers creates n users and a login form for each.
func floodUsers(t testing.TB, srv *testServer, n int) []signInForm {
	t.Helper()
	forms := make([]signInForm, n)
	for i := range forms {
		login := fmt.Sprintf("flood%02d", i)
		srv.createUser(t, login, testUserPassword)
		forms[i] = newSignInForm(t, srv, login)
	}
	return forms
}

// TestLoginFlood: with one hashing worker and a queue timeout of a
// millisecond, many simultaneous sign-ins are each answered either with
// the sign-in's redirect or with the friendly 503 and Retry-After, never
// with a 500 or a hang. Every refused browser gets in by trying again,
// no refusal counts as a failed attempt, and the database holds exactly
// one session per successful answer.
func TestLoginFlood(t *testing.T) {
	for _, dialect := range dbtest.Dialects {
		t.Run(dialect, func(t *testing.T) {
			srv := startServer(t, dialect, withOneHashWorker(time.Millisecond))
			forms := floodUsers(t, srv, 16)
			pool := srv.App.Identity.Core.Hasher.Pool()
			refused := 0

			// With the worker taken, everyone is refused at once.
			release := holdWorkers(t, pool)
			for i, a := range postAll(t.Context(), forms) {
				if !a.busy() {
					t.Errorf("%s with every worker busy: got %v, want the busy page", forms[i].login, a)
				}
				refused++
			}
			release()
			if n := countSessions(t, srv); n != 0 {
				t.Errorf("%d sessions after refused sign-ins, want 0", n)
			}

			// With the worker free, whoever gets it first is signed in
			// each round; the others try again.
			signedIn := 0
			for pending := forms; len(pending) > 0; {
				var again []signInForm
				for i, a := range postAll(t.Context(), pending) {
					switch {
					case a.signedIn():
						signedIn++
					case a.busy():
						refused++
						again = append(again, pending[i])
					default:
						t.Fatalf("%s: got %v, want the sign-in redirect or the busy page", pending[i].login, a)
					}
				}
				if len(again) == len(pending) {
					t.Fatalf("no sign-in of %d got the free worker", len(pending))
				}
				pending = again
			}
			if n := countSessions(t, srv); n != signedIn || n != len(forms) {
				t.Errorf("%d sessions for %d successful sign-ins of %d users", n, signedIn, len(forms))
			}
			m := busyMetric.FindStringSubmatch(do(t, mustRequest(t, http.MethodGet, srv.AdminURL+"/metrics")).Body)
			if m == nil || m[1] != strconv.Itoa(refused) {
				t.Errorf("gatehouse_password_hash_busy_total = %v, want %d", m, refused)
			}
		})
	}
}

// TestCancelledSignInCreatesNoSession: browsers that give up while their
// sign-in waits for a hashing worker stop it there: no password is
// checked, no session is created, and nothing counts against the
// account, so the same forms sign in afterwards.
func TestCancelledSignInCreatesNoSession(t *testing.T) {
	for _, dialect := range dbtest.Dialects {
		t.Run(dialect, func(t *testing.T) {
			srv := startServer(t, dialect, withOneHashWorker(time.Minute))
			forms := floodUsers(t, srv, 4)
			pool := srv.App.Identity.Core.Hasher.Pool()
			release := holdWorkers(t, pool)
			checked := srv.App.Identity.Core.Hasher.Verifications()

			ctx, cancel := context.WithCancel(t.Context())
			answers := make(chan signInAnswer, len(forms))
			for _, f := range forms {
				go func() { answers <- f.post(ctx) }()
			}
			waitFor(t, "every sign-in waits for the worker", func() bool { return pool.Stats().Waiting == len(forms) })
			cancel()
			for range forms {
				if a := <-answers; !errors.Is(a.err, context.Canceled) {
					t.Errorf("cancelled sign-in: got %v, want context.Canceled", a)
				}
			}
			waitFor(t, "the server drops the cancelled sign-ins", func() bool { return pool.Stats().Waiting == 0 })
			release()
			if n := srv.App.Identity.Core.Hasher.Verifications() - checked; n != 0 {
				t.Errorf("%d passwords checked for cancelled sign-ins, want 0", n)
			}
			if n := countSessions(t, srv); n != 0 {
				t.Errorf("%d sessions after cancelled sign-ins, want 0", n)
			}

			for i, a := range postAll(t.Context(), forms) {
				if !a.signedIn() {
					t.Errorf("%s signing in again: got %v, want the sign-in redirect", forms[i].login, a)
				}
			}
			if n := countSessions(t, srv); n != len(forms) {
				t.Errorf("%d sessions, want %d", n, len(forms))
			}
		})
	}
}

// TestBusyPages: the registration page and the account area's password
// change share the sign-ins' hashing pool; with every worker busy they
// answer the friendly 503 with Retry-After and change nothing, and the
// same forms succeed once a worker is free.
func TestBusyPages(t *testing.T) {
	srv := startServer(t, dbtest.Dialects[0], withOneHashWorker(time.Millisecond))
	pool := srv.App.Identity.Core.Hasher.Pool()
	srv.createUser(t, "petra", testUserPassword)
	b := newBrowser(t, rpCallback)
	p, _ := b.get(t, srv.URL+"/login")
	if p, _ = b.submit(t, p, "login-submit", map[string]string{"login": "petra", "password": testUserPassword}); p.URL.Path != "/" {
		t.Fatalf("sign-in led to %s (%d)", p.URL, p.Status)
	}
	account, _ := b.get(t, srv.URL+"/account?section=password")
	rb := newBrowser(t, rpCallback)
	register, _ := rb.get(t, srv.URL+"/register")
	signup := map[string]string{"username": "quinn", "email": "quinn@example.com", "password": testUserPassword}
	change := map[string]string{"current_password": testUserPassword, "new_password": "another fine passphrase"}

	release := holdWorkers(t, pool)
	for _, tc := range []struct {
		name   string
		submit func() (*page, *http.Response)
	}{
		{"registration", func() (*page, *http.Response) { return rb.submit(t, register, "register-submit", signup) }},
		{"password change", func() (*page, *http.Response) { return b.submit(t, account, "password-save", change) }},
	} {
		got, resp := tc.submit()
		a := signInAnswer{status: got.Status, retryAfter: resp.Header.Get("Retry-After"), body: got.Body}
		if !a.busy() {
			t.Errorf("%s with every worker busy: got %v, want the busy page", tc.name, a)
		}
	}
	release()

	if _, _, err := srv.App.Identity.Accounts.Users.FindUserByLogin(t.Context(), "quinn"); err == nil {
		t.Error("the refused registration created the account")
	}
	if _, ok, err := srv.App.Identity.Auth.Authenticate(t.Context(), "petra", testUserPassword); !ok || err != nil {
		t.Errorf("the old password after a refused change: ok %v, err %v; want it still good", ok, err)
	}
	if got, _ := rb.submit(t, register, "register-submit", signup); got.Status != http.StatusOK || got.URL.Path != "/" {
		t.Errorf("registration with a free worker: %d at %s, want the home page", got.Status, got.URL)
	}
	got, _ := b.submit(t, account, "password-save", change)
	mustContain(t, got.Body, `id="notice"`, "password changed with a free worker")
}
