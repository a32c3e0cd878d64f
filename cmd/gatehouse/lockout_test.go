package main

import (
	"net/http"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"

	"gatehouse/config"
	"gatehouse/migrations/dbtest"
)

// loginAttempt is one answer of POST /login as the attacker sees it.
type loginAttempt struct {
	Status  int
	Body    string   // CSRF token values blanked
	Headers []string // the header names, sorted
}

// tryLogin signs in on a fresh login page (solving the CAPTCHA once the
// page carries it, as altcha.js would).
func tryLogin(t testing.TB, b *browser, srv *testServer, login, password string) loginAttempt {
	t.Helper()
	p, _ := b.get(t, srv.URL+"/login")
	got, resp := b.submit(t, p, "login-submit", map[string]string{"login": login, "password": password})
	return newLoginAttempt(got, resp)
}

func newLoginAttempt(p *page, resp *http.Response) loginAttempt {
	var names []string
	for k := range resp.Header {
		names = append(names, k)
	}
	slices.Sort(names)
	return loginAttempt{Status: p.Status, Body: csrfValue.ReplaceAllString(p.Body, ""), Headers: names}
}

// lockByGuessing makes max_failures wrong guesses at login; the last
// starts the lockout, whose mail with the unlock link it returns.
func lockByGuessing(t testing.TB, b *browser, srv *testServer, mb *mailbox, login string) string {
	t.Helper()
	for i := range srv.Config.Lockout.MaxFailures {
		got := tryLogin(t, b, srv, login, "guess "+strconv.Itoa(i))
		mustContain(t, got.Body, "Incorrect username or password.", "wrong password")
	}
	return mb.next(t, login+"@example.com").link(t, "/unlock")
}

// TestLockoutIsNoOracle: while an account is locked the right password
// gets exactly the page of a wrong one (status, body but for the CSRF
// token, and headers), with no word of the lock; the owner learns of it
// from the unlock mail and the security activity.
func TestLockoutIsNoOracle(t *testing.T) {
	t.Parallel()
	for _, dialect := range dbtest.Dialects {
		t.Run(dialect, func(t *testing.T) {
			mb := startMailbox(t)
			srv := startServer(t, dialect, withDelivery(mb, nil, false))
			olive := srv.createUser(t, "olive", testUserPassword)
			attacker := newBrowser(t, rpCallback)
			unlockLink := lockByGuessing(t, attacker, srv, mb, "olive")

			right := tryLogin(t, attacker, srv, "olive", testUserPassword)
			wrong := tryLogin(t, attacker, srv, "olive", "one more guess")
			if right.Status != wrong.Status || right.Body != wrong.Body || !slices.Equal(right.Headers, wrong.Headers) {
				t.Errorf("while locked the right password is told apart: status %d vs %d, headers %v vs %v, same body %v",
					right.Status, wrong.Status, right.Headers, wrong.Headers, right.Body == wrong.Body)
			}
			mustContain(t, right.Body, "Incorrect username or password.", "the right password while locked")
			if strings.Contains(strings.ToLower(right.Body), "locked") {
				t.Errorf("the login page speaks of the lock:\n%s", right.Body)
			}

			// The owner: the mailed link ends the lockout, and the
			// security activity lists the attempts refused meanwhile.
			owner := newBrowser(t, rpCallback)
			p, _ := owner.get(t, unlockLink)
			mustContain(t, p.Body, "unlocked", "unlock page")
			p, _ = owner.get(t, srv.URL+"/login")
			if got, _ := owner.submit(t, p, "login-submit", map[string]string{"login": "olive", "password": testUserPassword}); got.URL.Path != "/" {
				t.Fatalf("sign-in after unlocking led to %s (%d)", got.URL, got.Status)
			}
			p, _ = owner.get(t, srv.URL+"/account?section=security")
			mustContain(t, p.Body, "Account locked after failed sign-ins", "security activity")
			if n := strings.Count(p.Body, "Sign-in attempt"); n != 2 {
				t.Errorf("security activity lists %d sign-in attempts, want the 2 made while locked:\n%s", n, p.Body)
			}
			out, _ := srv.cli(t, "", "audit", "list", "--action", "login.failed")
			refused := 0
			for _, line := range strings.Split(out, "\n") {
				if !strings.Contains(line, "reason=locked") {
					continue
				}
				refused++
				if !strings.Contains(line, olive.ID) || !strings.Contains(line, "127.0.0.1") {
					t.Errorf("a refused attempt in the audit trail lacks the account or the address: %s", line)
				}
			}
			if refused != 2 {
				t.Errorf("audit trail has %d attempts refused by the lock, want 2:\n%s", refused, out)
			}
			// The lockout's start and its end by the link are in the trail,
			// from the parts that own them (Authenticator, Recovery).
			for action, want := range map[string]string{"lockout.started": "reason=password", "lockout.ended": "by=link"} {
				out, _ := srv.cli(t, "", "audit", "list", "--action", action)
				if !strings.Contains(out, olive.ID) || !strings.Contains(out, want) {
					t.Errorf("audit list --action %s lacks %s of %s:\n%s", action, want, olive.ID, out)
				}
			}
		})
	}
}

var verificationsMetric = regexp.MustCompile(`(?m)^gatehouse_password_verifications_total (\d+)$`)

// passwordVerifications reads the server's count of argon2id checks.
func passwordVerifications(t testing.TB, srv *testServer) int {
	t.Helper()
	got := do(t, mustRequest(t, http.MethodGet, srv.AdminURL+"/metrics"))
	m := verificationsMetric.FindStringSubmatch(got.Body)
	if m == nil {
		t.Fatalf("no gatehouse_password_verifications_total in /metrics:\n%s", got.Body)
	}
	n, _ := strconv.Atoi(m[1])
	return n
}

// TestLockoutParallelGuesses: 50 wrong passwords sent at once reach the
// password hash at most max_failures (+2) times; every one gets the
// wrong-password page, and one lockout mail goes out. The rate limits and
// the CAPTCHA are set out of the way: this is about the lockout alone.
func TestLockoutParallelGuesses(t *testing.T) {
	t.Parallel()
	for _, dialect := range dbtest.Dialects {
		t.Run(dialect, func(t *testing.T) {
			mb := startMailbox(t)
			srv := startServer(t, dialect, func(cfg *config.Config) {
				withDelivery(mb, nil, false)(cfg)
				cfg.RateLimits.LoginPerAccount, cfg.RateLimits.LoginPerIP = "1000/1m", "1000/1m"
				cfg.Captcha.AfterFailures = 1000
			})
			srv.createUser(t, "paula", testUserPassword)

			const n = 50
			type prepared struct {
				b      *browser
				target string
				values map[string][]string
			}
			forms := make([]prepared, n)
			for i := range forms {
				b := newBrowser(t, rpCallback)
				p, _ := b.get(t, srv.URL+"/login")
				action, values, _ := findForm(t, p, "login-submit")
				values.Set("login", "paula")
				values.Set("password", "parallel guess "+strconv.Itoa(i))
				target, _ := p.URL.Parse(action)
				forms[i] = prepared{b, target.String(), values}
			}
			before := passwordVerifications(t, srv)
			var (
				wg    sync.WaitGroup
				start = make(chan struct{})
				got   = make([]loginAttempt, n)
			)
			for i, f := range forms {
				wg.Go(func() {
					<-start
					resp, err := f.b.PostForm(f.target, f.values)
					if err != nil {
						t.Errorf("POST /login: %v", err)
						return
					}
					got[i] = newLoginAttempt(readPage(t, resp), resp)
				})
			}
			close(start)
			wg.Wait()
			hashed := passwordVerifications(t, srv) - before
			for i, a := range got {
				if a.Status != http.StatusOK || !strings.Contains(a.Body, "Incorrect username or password.") {
					t.Errorf("guess %d answered %d, want the wrong-password page", i, a.Status)
				}
			}
			if limit := srv.Config.Lockout.MaxFailures + 2; hashed > limit {
				t.Errorf("%d of %d parallel guesses reached the password hash, want at most %d", hashed, n, limit)
			}
			mb.next(t, "paula@example.com").link(t, "/unlock")
			// Locked now: the right password is not checked either.
			before = passwordVerifications(t, srv)
			b := newBrowser(t, rpCallback)
			mustContain(t, tryLogin(t, b, srv, "paula", testUserPassword).Body, "Incorrect username or password.", "right password while locked")
			if d := passwordVerifications(t, srv) - before; d != 0 {
				t.Errorf("the right password on the locked account reached the hash %d time(s)", d)
			}
			mb.none(t, srv)
		})
	}
}

// TestPasswordResetEndsLockout: the owner of a locked account resets the
// password with the e-mailed link and signs in with the new one at once.
func TestPasswordResetEndsLockout(t *testing.T) {
	t.Parallel()
	for _, dialect := range dbtest.Dialects {
		t.Run(dialect, func(t *testing.T) {
			mb := startMailbox(t)
			srv := startServer(t, dialect, withDelivery(mb, nil, false))
			srv.createUser(t, "rosa", testUserPassword)
			lockByGuessing(t, newBrowser(t, rpCallback), srv, mb, "rosa")

			b := newBrowser(t, rpCallback)
			p, _ := b.get(t, srv.URL+"/login")
			if got, _ := b.submit(t, p, "login-submit", map[string]string{"login": "rosa", "password": testUserPassword}); got.URL.Path == "/" {
				t.Fatal("signed in to a locked account")
			}
			p, _ = b.get(t, srv.URL+"/forgot-password")
			b.submit(t, p, "forgot-submit", map[string]string{"login": "rosa"})
			p, _ = b.get(t, mb.next(t, "rosa@example.com").link(t, "/reset-password"))
			const newPassword = "a fresh passphrase after the lockout"
			p, _ = b.submit(t, p, "reset-submit", map[string]string{"password": newPassword})
			mustContain(t, p.Body, "has been changed", "reset done")
			mb.next(t, "rosa@example.com") // "your password was changed"

			p, _ = b.get(t, srv.URL+"/login")
			if got, _ := b.submit(t, p, "login-submit", map[string]string{"login": "rosa", "password": newPassword}); got.URL.Path != "/" {
				t.Fatalf("sign-in with the new password after the reset led to %s (%d):\n%s", got.URL, got.Status, got.Body)
			}
			out, _ := srv.cli(t, "", "audit", "list", "--action", "lockout.ended")
			mustContain(t, out, "by=password_reset", "the reset ending the lockout in the audit trail")
		})
	}
}
