package main

import (
	"fmt"
	"io"
	"log/slog"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"gatehouse/config"
	"gatehouse/identity"
	"gatehouse/migrations/dbtest"
)

// createUsers prepares the database of cfg with one user per name, each
// with the address name@example.com.
func createUsers(t testing.TB, cfg *config.Config, names []string) {
	t.Helper()
	a, err := openStorage(t.Context(), cfg, slog.New(slog.DiscardHandler), true)
	if err != nil {
		t.Fatal(err)
	}
	defer a.Close()
	for _, name := range names {
		if _, err := a.Identity.Accounts.CreateUser(t.Context(), identity.CreateInput{
			Username: name, Email: name + "@example.com", Password: testUserPassword, EmailVerified: true,
		}); err != nil {
			t.Fatal(err)
		}
	}
}

// requestResets posts the forgot-password form once for each login, all
// at once, and returns the logins whose request was acknowledged: 200 with
// the "we have sent a link" notice.
func requestResets(t testing.TB, p *process, logins []string) []string {
	t.Helper()
	b := newBrowser(t, "")
	pg, _ := b.get(t, p.URL+"/forgot-password")
	action, form, _ := findForm(t, pg, "forgot-submit")
	target, err := pg.URL.Parse(action)
	if err != nil {
		t.Fatal(err)
	}
	acked := make([]bool, len(logins))
	var wg sync.WaitGroup
	for i, login := range logins {
		f := url.Values{}
		for k, v := range form {
			f[k] = v
		}
		f.Set("login", login)
		wg.Go(func() {
			resp, err := b.PostForm(target.String(), f)
			if err != nil {
				return // no answer: nothing was acknowledged
			}
			defer resp.Body.Close()
			body, _ := io.ReadAll(resp.Body)
			acked[i] = resp.StatusCode == 200 && strings.Contains(string(body), `id="notice"`)
		})
	}
	wg.Wait()
	var out []string
	for i, ok := range acked {
		if ok {
			out = append(out, logins[i])
		}
	}
	return out
}

// kill ends the process with SIGKILL: no shutdown, no deferred work.
func (p *process) kill(t testing.TB) {
	t.Helper()
	if err := p.cmd.Process.Kill(); err != nil {
		t.Fatal(err)
	}
	<-p.ended
}

// endLeases makes the messages that a killed process was delivering due
// again. They would be claimed again once their lease (the send timeout
// plus a minute) runs out, which identity/message tests on its own; the
// test does not wait for it.
func endLeases(t testing.TB, cfg *config.Config) int64 {
	t.Helper()
	a, err := openStorage(t.Context(), cfg, slog.New(slog.DiscardHandler), false)
	if err != nil {
		t.Fatal(err)
	}
	defer a.Close()
	res := a.DB.Gorm().WithContext(t.Context()).Exec(`UPDATE outbound_messages SET locked_until = created_at WHERE status = 'sending'`)
	if res.Error != nil {
		t.Fatal(res.Error)
	}
	return res.RowsAffected
}

// awaitResetMails reads the mailbox until every address in want has got a
// reset link, and fails t if one is still missing when the mailbox stays
// quiet (a broken run; delivery is prompt). Duplicates are allowed: a mail
// sent just before the kill may be sent again.
func awaitResetMails(t testing.TB, mb *mailbox, want []string) {
	t.Helper()
	missing := map[string]bool{}
	for _, login := range want {
		missing[login+"@example.com"] = true
	}
	for len(missing) > 0 {
		select {
		case m := <-mb.received:
			m.link(t, "/reset-password")
			delete(missing, strings.ToLower(m.To))
		case <-time.After(30 * time.Second):
			t.Fatalf("%d of %d acknowledged reset mails never arrived: %v", len(missing), len(want), missing)
		}
	}
}

// TestForgotPasswordSurvivesKill: every "forgot password" request that was
// answered has its e-mail delivered, even when the server is killed with
// SIGKILL right after the answers and started again on the same database.
// The answer acknowledges a mail that is already in the queue table.
func TestForgotPasswordSurvivesKill(t *testing.T) {
	const users = 20
	for _, dialect := range dbtest.Dialects {
		t.Run(dialect, func(t *testing.T) {
			mb := startMailbox(t)
			cfg := processConfig(t, dbtest.MustMigratedURL(t, dialect))
			withDelivery(mb, nil, false)(cfg)
			cfg.RateLimits.PasswordResetPerIP = "100000/1m"
			names := make([]string, users)
			for i := range names {
				names[i] = fmt.Sprintf("user%02d", i)
			}
			createUsers(t, cfg, names)

			p := startProcess(t, cfg)
			acked := requestResets(t, p, names)
			p.kill(t)
			if len(acked) != users {
				t.Errorf("%d of %d reset requests acknowledged, want all:\n%s", len(acked), users, p.stderr.String())
			}
			leased := endLeases(t, cfg)

			startProcess(t, cfg)
			awaitResetMails(t, mb, acked)
			t.Logf("%d resets acknowledged before SIGKILL, all delivered (%d were being sent at the kill)", len(acked), leased)
		})
	}
}
