package main

import (
	"errors"
	"net/http"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"gatehouse/identity"
	"gatehouse/migrations/dbtest"
)

// registrationSeen is everything an attacker sees of one registration
// and of the verification page it leads to, with the parts that differ
// for every request (tokens, the address typed) taken out.
type registrationSeen struct {
	Status     int
	Location   string
	SetCookies []string // name and attributes, without value and expiry
	CookieLens []int    // lengths of the encrypted values
	Body       string
	Page       string
	Codes      []string // status and page of wrong codes, until the limit
	Resend     string   // status and page of an immediate resend
}

var (
	expiresAttr  = regexp.MustCompile(`(?i);\s*expires=[^;]*`)
	secondsCount = regexp.MustCompile(`\d+ seconds`)
)

// registerAndLook registers through a fresh browser as an attacker would
// and records what comes back. wrongCode, asked once the registration is
// answered, gives a code that is not the one mailed, if one was.
func registerAndLook(t testing.TB, srv *testServer, username, email string, wrongCode func() string) registrationSeen {
	t.Helper()
	b := newBrowser(t, rpCallback)
	p, _ := b.get(t, srv.URL+"/register")
	action, values, challengeURL := findForm(t, p, "register-submit")
	values.Set("username", username)
	values.Set("email", email)
	values.Set("password", testUserPassword)
	values.Set("altcha", b.solveCaptcha(t, p, challengeURL))
	target, _ := p.URL.Parse(action)

	noFollow := *b.Client
	noFollow.CheckRedirect = func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }
	resp, err := noFollow.PostForm(target.String(), values)
	if err != nil {
		t.Fatal(err)
	}
	first := readPage(t, resp)
	hide := func(s string) string {
		s = csrfValue.ReplaceAllString(s, `name="csrf" value="…"`)
		s = strings.ReplaceAll(s, email, "ADDRESS")
		return secondsCount.ReplaceAllString(s, "N seconds")
	}
	seen := registrationSeen{Status: first.Status, Location: resp.Header.Get("Location"), Body: hide(first.Body)}
	for _, c := range resp.Cookies() {
		seen.CookieLens = append(seen.CookieLens, len(c.Value))
	}
	for _, h := range resp.Header.Values("Set-Cookie") {
		name, rest, _ := strings.Cut(h, "=")
		_, attrs, _ := strings.Cut(rest, ";")
		seen.SetCookies = append(seen.SetCookies, name+";"+expiresAttr.ReplaceAllString(";"+attrs, ""))
	}
	slices.Sort(seen.SetCookies)
	if seen.Status != http.StatusSeeOther {
		return seen
	}
	page, _ := b.get(t, srv.URL+seen.Location)
	seen.Page = hide(page.Body)
	wrong := wrongCode()
	for range identity.MaxCodeAttempts + 1 {
		got, _ := b.submit(t, page, "verify-submit", map[string]string{"code": wrong})
		seen.Codes = append(seen.Codes, http.StatusText(got.Status)+"\n"+hide(got.Body))
	}
	got, _ := b.submit(t, page, "verify-resend", nil)
	seen.Resend = http.StatusText(got.Status) + "\n" + hide(got.Body)
	return seen
}

// collectMail waits for n messages and files them by recipient, in
// whatever order the worker delivers them.
func collectMail(t testing.TB, mb *mailbox, n int) map[string]receivedMail {
	t.Helper()
	out := map[string]receivedMail{}
	deadline := time.After(15 * time.Second)
	for len(out) < n {
		select {
		case m := <-mb.received:
			out[strings.ToLower(m.To)] = m
		case <-deadline:
			t.Fatalf("%d of %d messages arrived", len(out), n)
		}
	}
	return out
}

// TestRegistrationHidesTakenEmail: with registration.require_verified_email
// a registration with an address that has an account is answered exactly
// like one with a new address (same redirect, cookies, pages, wrong-code
// and resend answers) and creates nothing; the owner of the address gets a
// real e-mail about it instead, once per resend cooldown. A taken username
// is still reported: it must be, or nobody could choose another.
func TestRegistrationHidesTakenEmail(t *testing.T) {
	t.Parallel()
	for _, dialect := range dbtest.Dialects {
		t.Run(dialect, func(t *testing.T) {
			mb := startMailbox(t)
			srv := startServer(t, dialect, withDelivery(mb, nil, true))
			owner := srv.createUser(t, "wanda", testUserPassword) // wanda@example.com

			// The same length as the owner's, so even the encrypted cookie
			// values must come out the same size.
			const fresh, taken = "wendy@example.com", "wanda@example.com"
			anyCode := func() string { return "000000" }
			freshSeen := registerAndLook(t, srv, "wendy", fresh, func() string {
				if code := mb.next(t, fresh).code(t); code != anyCode() {
					return anyCode()
				}
				return "111111"
			})
			takenSeen := registerAndLook(t, srv, "wendy3", taken, anyCode)
			if diff := cmp.Diff(freshSeen, takenSeen); diff != "" {
				t.Errorf("registration with a taken address differs from one with a new address (-new +taken):\n%s", diff)
			}
			if freshSeen.Location != "/verify-email" || len(freshSeen.Codes) == 0 {
				t.Fatalf("a new registration did not lead to the code page: %+v", freshSeen)
			}
			mustContain(t, freshSeen.Codes[0], "That code is not right or has expired.", "wrong code")
			mustContain(t, freshSeen.Codes[identity.MaxCodeAttempts-1], "Too many wrong codes", "codes past the limit")
			mustContain(t, freshSeen.Resend, "Too Many Requests\n", "resend within the cooldown")

			if _, _, err := srv.App.Identity.Accounts.Users.FindUserByLogin(t.Context(), "wendy3"); !errors.Is(err, identity.ErrNotFound) {
				t.Errorf("the registration with a taken address created an account: %v", err)
			}
			notice := collectMail(t, mb, 1)[taken]
			if !strings.Contains(notice.Subject, "someone tried to sign up") || notice.HTML == "" {
				t.Errorf("owner's notice: subject %q, html %d bytes", notice.Subject, len(notice.HTML))
			}
			b := newBrowser(t, rpCallback)
			for _, path := range []string{"/login", "/forgot-password"} {
				if p, _ := b.get(t, notice.link(t, srv.URL+path)); p.Status != http.StatusOK {
					t.Errorf("notice link %s answered %d", path, p.Status)
				}
			}
			if codeInMail.MatchString(notice.Text) {
				t.Errorf("the notice carries a code:\n%s", notice.Text)
			}

			// Again within the cooldown: the same answer, no second notice.
			again := registerAndLook(t, srv, "wendy4", taken, anyCode)
			if again.Status != http.StatusSeeOther || again.Location != "/verify-email" {
				t.Errorf("a second attempt answered %d %s", again.Status, again.Location)
			}
			var notices int64
			if err := srv.App.DB.Gorm().Raw(`SELECT count(*) FROM outbound_messages WHERE recipient = ?`, taken).Scan(&notices).Error; err != nil {
				t.Fatal(err)
			}
			if notices != 1 {
				t.Errorf("%d messages to the owner, want 1 per cooldown", notices)
			}
			var attempts int64
			if err := srv.App.DB.Gorm().Raw(`SELECT count(*) FROM audit_entries WHERE action = 'registration.attempted' AND subject = ?`, owner.ID).Scan(&attempts).Error; err != nil {
				t.Fatal(err)
			}
			if attempts != 2 {
				t.Errorf("%d registration attempts in the owner's audit trail, want 2", attempts)
			}

			// A taken username is said, and the page says why it may be.
			p, _ := b.get(t, srv.URL+"/register")
			mustContain(t, p.Body, "Usernames are public", "registration page")
			got, _ := b.submit(t, p, "register-submit", map[string]string{"username": "wanda", "email": "other@example.com", "password": testUserPassword})
			if got.Status != http.StatusUnprocessableEntity || !strings.Contains(got.Body, `id="username-error"`) {
				t.Errorf("a taken username answered %d without the error", got.Status)
			}
		})
	}
}
