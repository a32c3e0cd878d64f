package main

import (
	"bufio"
	"encoding/json"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"gatehouse/config"
	"gatehouse/migrations/dbtest"
)

// signInFlood is logins sign-ins posted at once to a server process.
type signInFlood struct {
	wg       sync.WaitGroup
	mu       sync.Mutex
	statuses map[int]int
	failures []error // requests that got no answer at all
}

// startSignInFlood loads the login page in logins browsers, then calls
// before (if not nil) and posts every form at once; the answers are
// collected by wait.
func startSignInFlood(t testing.TB, p *process, username string, logins int, before func()) *signInFlood {
	t.Helper()
	f := &signInFlood{statuses: map[int]int{}}
	type post struct {
		b      *browser
		action string
		form   url.Values
	}
	posts := make([]post, logins)
	for i := range posts {
		b := newBrowser(t, "")
		pg, _ := b.get(t, p.URL+"/login")
		action, form, _ := findForm(t, pg, "login-submit")
		form.Set("login", username)
		form.Set("password", testUserPassword)
		target, err := pg.URL.Parse(action)
		if err != nil {
			t.Fatal(err)
		}
		posts[i] = post{b, target.String(), form}
	}
	if before != nil {
		before()
	}
	for _, ps := range posts {
		f.wg.Add(1)
		go func() {
			defer f.wg.Done()
			resp, err := ps.b.PostForm(ps.action, ps.form)
			f.mu.Lock()
			defer f.mu.Unlock()
			if err != nil {
				f.failures = append(f.failures, err)
				return
			}
			io.Copy(io.Discard, resp.Body)
			resp.Body.Close()
			f.statuses[resp.StatusCode]++
		}()
	}
	return f
}

// wait returns the count of answers by status and the requests that got
// none.
func (f *signInFlood) wait() (map[int]int, []error) {
	f.wg.Wait()
	return f.statuses, f.failures
}

// waitInFlight polls the process's metrics until at least n requests are
// being handled, and returns how many; it fails t if the flood ended
// first. The scrape, on the admin listener, is not counted.
func (f *signInFlood) waitInFlight(t testing.TB, p *process, n int) int {
	t.Helper()
	ended := make(chan struct{})
	go func() { f.wg.Wait(); close(ended) }()
	for {
		if got := inFlight(t, p); got >= n {
			return got
		}
		select {
		case <-ended:
			t.Fatalf("the sign-ins ended before %d were in flight at once", n)
		default:
		}
	}
}

func inFlight(t testing.TB, p *process) int {
	t.Helper()
	resp, err := http.Get(p.AdminURL + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	sc := bufio.NewScanner(resp.Body)
	for sc.Scan() {
		if v, ok := strings.CutPrefix(sc.Text(), "gatehouse_http_requests_in_flight "); ok {
			n, _ := strconv.ParseFloat(v, 64)
			return int(n)
		}
	}
	t.Fatal("no gatehouse_http_requests_in_flight in /metrics")
	return 0
}

// checkCleanShutdown fails t on a 500 in the access log or a request
// failed by a closed database.
func checkCleanShutdown(t testing.TB, p *process) {
	t.Helper()
	logs := p.stderr.String()
	if strings.Contains(logs, "database is closed") {
		t.Errorf("a request met the closed database:\n%s", logs)
	}
	for line := range strings.Lines(logs) {
		var rec map[string]any
		if json.Unmarshal([]byte(line), &rec) == nil && rec["msg"] == "request" && rec["status"] == float64(http.StatusInternalServerError) {
			t.Errorf("a request was answered 500: %s", line)
		}
	}
}

// TestShutdownUnderLoad: SIGTERM while 100 sign-ins are in flight ends
// the process with status 0 within http.shutdown_timeout. Sign-ins that
// finish in time succeed; those that cannot (the database stopped
// answering) are cancelled and answered 503; none gets a 500, none is
// dropped, and the database is closed only after the last request.
func TestShutdownUnderLoad(t *testing.T) {
	const logins = 100
	loginLimits := func(cfg *config.Config) {
		cfg.RateLimits.LoginPerIP, cfg.RateLimits.LoginPerAccount = "100000/1m", "100000/1m"
		// Attempts count before the password is checked, so 100 at once
		// on one account would otherwise meet the lockout.
		cfg.Lockout.MaxFailures = logins
	}

	t.Run("requests finish", func(t *testing.T) {
		cfg := processConfig(t, dbtest.MustMigratedURL(t, "postgres"))
		loginLimits(cfg)
		migrateAndCreateUser(t, cfg, "flora")
		p := startProcess(t, cfg)
		flood := startSignInFlood(t, p, "flora", logins, nil)
		// Argon2 on a few cores: the first may finish before the last
		// arrive.
		n := flood.waitInFlight(t, p, logins/4)
		code, took := p.stop(t, cfg.HTTP.ShutdownTimeout.Std()+10*time.Second)
		statuses, failures := flood.wait()
		t.Logf("SIGTERM with %d sign-ins in flight: exit %d after %s; answers %v", n, code, took, statuses)
		if code != 0 {
			t.Errorf("exit status %d, want 0:\n%s", code, p.stderr.String())
		}
		if len(failures) > 0 {
			t.Errorf("%d sign-ins got no answer, e.g. %v", len(failures), failures[0])
		}
		if statuses[http.StatusSeeOther]+statuses[http.StatusServiceUnavailable] != logins {
			t.Errorf("answers %v: want only 303 (signed in) and 503", statuses)
		}
		checkCleanShutdown(t, p)
	})

	t.Run("database stalls", func(t *testing.T) {
		proxy := startDBProxy(t, forward)
		cfg := processConfig(t, proxy.url(t, dbtest.MustMigratedURL(t, "postgres")))
		loginLimits(cfg)
		cfg.HTTP.ShutdownTimeout = config.Duration(3 * time.Second)
		migrateAndCreateUser(t, cfg, "flora")
		p := startProcess(t, cfg)
		// Every sign-in waits on a database that has stopped answering.
		flood := startSignInFlood(t, p, "flora", logins, func() { proxy.set(stall) })
		flood.waitInFlight(t, p, logins)
		code, took := p.stop(t, cfg.HTTP.ShutdownTimeout.Std()+10*time.Second)
		statuses, failures := flood.wait()
		t.Logf("exit %d after %s (shutdown timeout %s); answers %v", code, took, cfg.HTTP.ShutdownTimeout, statuses)
		if strings.Contains(p.stderr.String(), "database unavailable") {
			t.Errorf("requests cancelled by the shutdown were logged as a database outage:\n%s", p.stderr.String())
		}
		if code != 0 {
			t.Errorf("exit status %d, want 0:\n%s", code, p.stderr.String())
		}
		if len(failures) > 0 {
			t.Errorf("%d sign-ins got no answer, e.g. %v", len(failures), failures[0])
		}
		if statuses[http.StatusServiceUnavailable] != logins {
			t.Errorf("answers %v: want %d cancelled with 503", statuses, logins)
		}
		checkCleanShutdown(t, p)
		if lim := cfg.HTTP.ShutdownTimeout.Std() + 2*time.Second; took > lim {
			t.Errorf("exit %s after SIGTERM, past the shutdown timeout %s", took, cfg.HTTP.ShutdownTimeout)
		}
	})
}
