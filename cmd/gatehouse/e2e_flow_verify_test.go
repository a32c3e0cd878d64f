package main

import (
	"context"
	"net/http"
	"strings"
	"sync"
	"testing"

	"golang.org/x/oauth2"

	"gatehouse/identity"
	"gatehouse/migrations/dbtest"
)

// setCookieLog records the name of every cookie a browser is sent, on
// every response, redirects included.
type setCookieLog struct {
	next  http.RoundTripper
	mu    sync.Mutex
	names []string
}

func (l *setCookieLog) RoundTrip(r *http.Request) (*http.Response, error) {
	resp, err := l.next.RoundTrip(r)
	if err == nil {
		l.mu.Lock()
		for _, c := range resp.Cookies() {
			l.names = append(l.names, c.Name)
		}
		l.mu.Unlock()
	}
	return resp, err
}

// recordCookies makes b record the names of the cookies it is sent.
func recordCookies(b *browser) *setCookieLog {
	l := &setCookieLog{next: http.DefaultTransport}
	b.Client.Transport = l
	return l
}

// noPendingCookie fails when the server ever set a cookie to carry a
// held sign-in: the flow holds it.
func (l *setCookieLog) noPendingCookie(t *testing.T) {
	t.Helper()
	l.mu.Lock()
	defer l.mu.Unlock()
	for _, n := range l.names {
		if strings.Contains(n, "pending") {
			t.Errorf("the server set cookie %q; a held sign-in lives in its flow only (cookies set: %q)", n, l.names)
		}
	}
	if len(l.names) == 0 {
		t.Error("no cookie recorded at all: the log does not see the responses")
	}
}

// TestVerificationHeldInFlow: a first sign-in held for e-mail
// verification (registration.require_verified_email) within an
// authorization request is carried by the flow alone: no cookie carries
// the held user, the code or the e-mailed link lets the same browser go
// on to consent and the code, and another browser, signed in or not,
// cannot take the held flow over.
func TestVerificationHeldInFlow(t *testing.T) {
	for _, dialect := range dbtest.Dialects {
		t.Run(dialect, func(t *testing.T) { testVerificationHeldInFlow(t, dialect) })
	}
}

func testVerificationHeldInFlow(t *testing.T, dialect string) {
	mb := startMailbox(t)
	srv := startServer(t, dialect, withDelivery(mb, nil, true))
	clientID, secret := srv.createClient(t, "--name", "Held App", "--redirect-uri", rpCallback)
	rp := newRelyingParty(t, srv.URL, clientID, secret)
	srv.createUser(t, "bob", testUserPassword) // verified
	newUnverified := func(t *testing.T, name string) *identity.User {
		t.Helper()
		u, err := srv.App.Identity.Accounts.CreateUser(context.Background(), identity.CreateInput{
			Username: name, Email: name + "@example.com", Password: testUserPassword,
		})
		if err != nil {
			t.Fatalf("CreateUser: %v", err)
		}
		return u
	}
	// heldAtLogin starts an authorization request in b and signs in as
	// name, which must end on the verification page; it returns that page,
	// the sign-in page of the flow, and the PKCE verifier.
	heldAtLogin := func(t *testing.T, b *browser, name string) (*page, *page, string) {
		t.Helper()
		verifier := oauth2.GenerateVerifier()
		login, _ := b.get(t, rp.OAuth.AuthCodeURL("state-"+name, oauth2.S256ChallengeOption(verifier)))
		if login.URL.Path != "/login" || login.URL.Query().Get("flow") == "" {
			t.Fatalf("authorize led to %s, want the flow's sign-in page", login.URL)
		}
		p, _ := b.submit(t, login, "login-submit", map[string]string{"login": name, "password": testUserPassword})
		if p.URL.Path != "/verify-email" || p.Status != http.StatusOK {
			t.Fatalf("sign-in of an unverified user led to %s (status %d), want the verification page", p.URL, p.Status)
		}
		mustContain(t, p.Body, name+"@example.com", "verification page")
		return p, login, verifier
	}
	// finish allows on the consent page and checks the code is the user's.
	finish := func(t *testing.T, b *browser, p *page, u *identity.User, verifier string) {
		t.Helper()
		if p.URL.Path != "/consent" {
			t.Fatalf("verification led to %s (status %d), want the consent page:\n%s", p.URL, p.Status, p.Body)
		}
		_, resp := b.submit(t, p, "consent-allow", nil)
		q := callbackQuery(t, resp)
		if sub := exchangeSubject(t, rp, q.Get("code"), verifier); sub != u.ID {
			t.Errorf("code issued for %s, want %s", sub, u.ID)
		}
	}

	t.Run("code", func(t *testing.T) {
		ivy := newUnverified(t, "ivy")
		a := newBrowser(t, rpCallback)
		cookiesA := recordCookies(a)
		verify, login, verifier := heldAtLogin(t, a, "ivy")
		code := mb.next(t, "ivy@example.com").code(t)

		// Another browser knows the flow's address but not its cookie.
		other := newBrowser(t, rpCallback)
		cookiesOther := recordCookies(other)
		if p, _ := other.get(t, login.URL.String()); p.Status != http.StatusBadRequest {
			t.Errorf("another browser opened the held flow's sign-in page: status %d", p.Status)
		}
		if p, _ := other.get(t, srv.URL+"/verify-email"); p.Status != http.StatusBadRequest || strings.Contains(p.Body, "ivy@example.com") {
			t.Errorf("another browser's verification page: status %d, want 400 without the held address", p.Status)
		}
		// Signed in there as bob, the page is bob's, and ivy's code
		// neither verifies bob nor goes on with ivy's flow.
		signInOutsideFlow(t, other, srv.URL, "bob")
		p, _ := other.get(t, srv.URL+"/verify-email")
		mustContain(t, p.Body, "bob@example.com", "bob's verification page")
		if strings.Contains(p.Body, "ivy@example.com") {
			t.Error("bob's verification page shows the held user's address")
		}
		p, resp := other.submit(t, p, "verify-submit", map[string]string{"code": code})
		if strings.HasPrefix(resp.Header.Get("Location"), rpCallback) || p.URL.Path == "/consent" {
			t.Fatalf("another browser went on with the held flow: %s", p.URL)
		}
		cookiesOther.noPendingCookie(t)

		p, _ = a.submit(t, verify, "verify-submit", map[string]string{"code": code})
		finish(t, a, p, ivy, verifier)
		cookiesA.noPendingCookie(t)
		if u, err := srv.App.Identity.Accounts.GetUser(t.Context(), ivy.ID); err != nil || !u.EmailVerified {
			t.Errorf("ivy after the code: %+v, %v; want verified", u, err)
		}
	})

	t.Run("link", func(t *testing.T) {
		jade := newUnverified(t, "jade")
		a := newBrowser(t, rpCallback)
		cookiesA := recordCookies(a)
		_, _, verifier := heldAtLogin(t, a, "jade")
		link := mb.next(t, "jade@example.com").link(t, "/verify-email")
		// The link opened in the browser whose sign-in it holds lets the
		// sign-in go on.
		p, _ := a.get(t, link)
		finish(t, a, p, jade, verifier)
		cookiesA.noPendingCookie(t)
	})

	t.Run("sign-up without an authorization request", func(t *testing.T) {
		a := newBrowser(t, rpCallback)
		cookiesA := recordCookies(a)
		p, _ := a.get(t, srv.URL+"/register")
		p, _ = a.submit(t, p, "register-submit", map[string]string{"username": "kim", "email": "kim@example.com", "password": testUserPassword})
		if p.URL.Path != "/verify-email" {
			t.Fatalf("sign-up led to %s (status %d), want the verification page", p.URL, p.Status)
		}
		p, _ = a.submit(t, p, "verify-submit", map[string]string{"code": mb.next(t, "kim@example.com").code(t)})
		if p.URL.Path != "/" || p.Status != http.StatusOK {
			t.Fatalf("verification led to %s (status %d), want the home page", p.URL, p.Status)
		}
		cookiesA.noPendingCookie(t)
		var left int64
		if err := srv.App.DB.Gorm().Raw(`SELECT count(*) FROM login_flows WHERE client_id = ''`).Scan(&left).Error; err != nil {
			t.Fatal(err)
		}
		if left != 0 {
			t.Errorf("%d flows without a client left after the sign-in finished", left)
		}
	})
}

// TestDirectSignInKeepsNoFlow: a sign-in begun on the sign-in page itself
// ends where "next" points and leaves nothing behind: no flow row and no
// flow cookie, as a flow without a client is stored only while it waits.
func TestDirectSignInKeepsNoFlow(t *testing.T) {
	for _, dialect := range dbtest.Dialects {
		t.Run(dialect, func(t *testing.T) {
			srv := startServer(t, dialect, nil)
			srv.createUser(t, "lena", testUserPassword)
			b := newBrowser(t, rpCallback)
			cookies := recordCookies(b)
			p, _ := b.get(t, srv.URL+"/login?next=/account")
			p, _ = b.submit(t, p, "login-submit", map[string]string{"login": "lena", "password": testUserPassword})
			if p.URL.Path != "/account" || p.Status != http.StatusOK {
				t.Fatalf("sign-in led to %s (status %d), want the account page", p.URL, p.Status)
			}
			cookies.noPendingCookie(t)
			for _, n := range cookies.names {
				if strings.Contains(n, "gatehouse_flow") {
					t.Errorf("a sign-in outside any flow set the flow cookie %q", n)
				}
			}
			var flows int64
			if err := srv.App.DB.Gorm().Raw(`SELECT count(*) FROM login_flows`).Scan(&flows).Error; err != nil {
				t.Fatal(err)
			}
			if flows != 0 {
				t.Errorf("%d flows stored by a sign-in outside any flow, want none", flows)
			}
		})
	}
}
