package main

import (
	"context"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/pquerna/otp/totp"
	"golang.org/x/oauth2"

	"gatehouse/identity/audit"
	"gatehouse/migrations/dbtest"
	"gatehouse/oidc/mfapages"
)

var (
	totpSecretRE   = regexp.MustCompile(`id="totp-secret">([A-Z2-7 ]+)</code>`)
	recoveryCodeRE = regexp.MustCompile(`<li><code>([A-Z2-9]{5}-[A-Z2-9]{5})</code></li>`)
)

// totpCode is the code an authenticator app with secret shows at t.
func totpCode(t testing.TB, secret string, at time.Time) string {
	t.Helper()
	code, err := totp.GenerateCode(strings.ReplaceAll(secret, " ", ""), at)
	if err != nil {
		t.Fatal(err)
	}
	return code
}

// enrolTOTP adds an authenticator app through the security pages for the
// user signed in on b, and returns its secret and the recovery codes.
func enrolTOTP(t testing.TB, srv *testServer, b *browser) (string, []string) {
	t.Helper()
	p, _ := b.get(t, srv.URL+"/account?section=security")
	p, resp := b.submit(t, p, "totp-setup", nil)
	if p.Status != http.StatusOK || p.URL.Path != mfapages.PathTOTP {
		t.Fatalf("Set up authenticator app led to %s (status %d):\n%s", p.URL, p.Status, p.Body)
	}
	if cc := resp.Header.Get("Cache-Control"); cc != "no-store" {
		t.Errorf("key page Cache-Control = %q, want no-store", cc)
	}
	mustContain(t, p.Body, `src="data:image/svg&#43;xml;base64,`, "QR code image")
	mustContain(t, p.Body, `href="otpauth://totp/`, "otpauth link")
	m := totpSecretRE.FindStringSubmatch(p.Body)
	if m == nil {
		t.Fatalf("no secret on the key page:\n%s", p.Body)
	}
	secret := m[1]
	p, resp = b.submit(t, p, "totp-submit", map[string]string{"code": totpCode(t, secret, time.Now())})
	if p.Status != http.StatusOK {
		t.Fatalf("confirming the app answered %d:\n%s", p.Status, p.Body)
	}
	if cc := resp.Header.Get("Cache-Control"); cc != "no-store" {
		t.Errorf("recovery codes page Cache-Control = %q, want no-store", cc)
	}
	var codes []string
	for _, m := range recoveryCodeRE.FindAllStringSubmatch(p.Body, -1) {
		codes = append(codes, m[1])
	}
	if len(codes) != 10 {
		t.Fatalf("%d recovery codes shown, want 10:\n%s", len(codes), p.Body)
	}
	mustContain(t, p.Body, `download="recovery-codes.txt"`, "recovery codes download")
	return secret, codes
}

// TestMFAEnrolTOTP: a signed-in user adds an authenticator app from the
// security section. A wrong first code shows the same key again; the
// right one turns the app on, shows ten recovery codes once, is audited
// and mailed to the user. Without the CSRF token nothing starts.
func TestMFAEnrolTOTP(t *testing.T) {
	t.Parallel()
	for _, dialect := range dbtest.Dialects {
		t.Run(dialect, func(t *testing.T) {
			t.Parallel()
			ctx := context.Background()
			mb := startMailbox(t)
			srv := startServer(t, dialect, withDelivery(mb, nil, false))
			user := srv.createUser(t, "ada", testUserPassword)
			clientID, secret := srv.createClient(t, "--name", "App", "--redirect-uri", rpCallback)
			rp := newRelyingParty(t, srv.URL, clientID, secret)
			b := newBrowser(t, rpCallback)
			signIn(t, b, rp.OAuth.AuthCodeURL("state-0123456789", oauth2.S256ChallengeOption(oauth2.GenerateVerifier())), "ada", true)

			// Without a CSRF token the form is refused.
			if p, _ := b.post(t, srv.URL+mfapages.PathTOTP, url.Values{}); p.Status != http.StatusForbidden {
				t.Errorf("POST %s without a CSRF token answered %d, want 403", mfapages.PathTOTP, p.Status)
			}
			// Someone else's browser is sent to sign in.
			stranger := newBrowser(t, rpCallback)
			stranger.CheckRedirect = func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }
			if _, resp := stranger.get(t, srv.URL+"/account?section=security"); resp.StatusCode != http.StatusSeeOther {
				t.Errorf("security page without a session answered %d, want a redirect", resp.StatusCode)
			}

			p, _ := b.get(t, srv.URL+"/account?section=security")
			p, _ = b.submit(t, p, "totp-setup", nil)
			key := totpSecretRE.FindStringSubmatch(p.Body)
			if key == nil {
				t.Fatalf("no secret on the key page:\n%s", p.Body)
			}
			wrong := "000000"
			if wrong == totpCode(t, key[1], time.Now()) {
				wrong = "111111"
			}
			p, _ = b.submit(t, p, "totp-submit", map[string]string{"code": wrong})
			if p.Status != http.StatusUnprocessableEntity {
				t.Fatalf("a wrong code answered %d, want 422:\n%s", p.Status, p.Body)
			}
			mustContain(t, p.Body, "That code is not right", "wrong code message")
			if again := totpSecretRE.FindStringSubmatch(p.Body); again == nil || again[1] != key[1] {
				t.Fatalf("after a wrong code the key changed or vanished: %v, want %s", again, key[1])
			}
			if fs, err := srv.App.MFA.ListFactors(ctx, user.ID); err != nil || len(fs) != 0 {
				t.Fatalf("factors after a wrong code = %v, %v; want none", fs, err)
			}

			enrolSecret, codes := enrolTOTP(t, srv, b)
			if enrolSecret == key[1] {
				t.Error("a new enrolment reused the abandoned key")
			}
			fs, err := srv.App.MFA.ListFactors(ctx, user.ID)
			if err != nil || len(fs) != 1 {
				t.Fatalf("factors after enrolment = %v, %v; want one", fs, err)
			}
			if n, err := srv.App.MFA.RemainingRecoveryCodes(ctx, user.ID); err != nil || n != len(codes) {
				t.Errorf("stored recovery codes = %d, %v; want %d", n, err, len(codes))
			}
			entries, err := srv.App.Audit.List(ctx, audit.Filter{UserID: user.ID, Action: audit.ActionMFAEnabled})
			if err != nil || len(entries) != 1 || entries[0].Details["factor"] != "totp" {
				t.Errorf("mfa.enabled audit entries = %+v, %v; want one for totp", entries, err)
			}
			p, _ = b.get(t, srv.URL+"/account?section=security")
			mustContain(t, p.Body, "Two-step verification turned on", "security activity")
			if m := mb.next(t, "ada@example.com"); !strings.Contains(m.Subject, "two-step verification was turned on") {
				t.Errorf("security notice subject = %q", m.Subject)
			}
		})
	}
}
