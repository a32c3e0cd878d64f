package main

import (
	"context"
	"crypto/hmac"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"regexp"
	"strings"
	"testing"
	"time"

	gooidc "github.com/coreos/go-oidc/v3/oidc"
	"golang.org/x/oauth2"

	"gatehouse/config"
	"gatehouse/identity/message"
	"gatehouse/migrations/dbtest"
)

const webhookSecret = "sms-webhook-secret-for-tests-0123456789"

// smsGateway is an httptest peer standing in for an SMS provider's
// webhook: it checks the signature and keeps the texts.
type smsGateway struct {
	URL   string
	texts chan map[string]string
}

func startSMSGateway(t testing.TB) *smsGateway {
	t.Helper()
	g := &smsGateway{texts: make(chan map[string]string, 16)}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		want := "sha256=" + message.SignWebhook(webhookSecret, r.Header.Get(message.WebhookTimestampHeader), body)
		if !hmac.Equal([]byte(r.Header.Get(message.WebhookSignatureHeader)), []byte(want)) {
			http.Error(w, "bad signature", http.StatusUnauthorized)
			return
		}
		var m map[string]string
		if err := json.Unmarshal(body, &m); err != nil {
			http.Error(w, "bad body", http.StatusBadRequest)
			return
		}
		g.texts <- m
	}))
	t.Cleanup(srv.Close)
	g.URL = srv.URL
	return g
}

func withDelivery(mb *mailbox, sms *smsGateway, requireVerified bool) func(*config.Config) {
	return func(cfg *config.Config) {
		cfg.Email.SMTPURL = config.Secret("smtp://" + mb.Addr)
		cfg.Email.From = "Gatehouse <no-reply@example.com>"
		cfg.Registration.RequireVerifiedEmail = requireVerified
		if sms != nil {
			cfg.SMS.Provider, cfg.SMS.WebhookURL, cfg.SMS.WebhookSecret = "webhook", config.Secret(sms.URL), webhookSecret
		}
	}
}

// TestRegistrationVerification: with require_verified_email the first
// login waits for the code from the real e-mail; a wrong code is refused.
func TestRegistrationVerification(t *testing.T) {
	t.Parallel()
	for _, dialect := range dbtest.Dialects {
		t.Run(dialect, func(t *testing.T) {
			mb := startMailbox(t)
			srv := startServer(t, dialect, withDelivery(mb, nil, true))
			id, secret := srv.createClient(t, "--name", "Verified App", "--redirect-uri", rpCallback, "--first-party")
			rp := newRelyingParty(t, srv.URL, id, secret)
			b := newBrowser(t, rpCallback)
			verifier := oauth2.GenerateVerifier()
			p, _ := b.get(t, rp.OAuth.AuthCodeURL("state-0123456789", oauth2.SetAuthURLParam("prompt", "create"), oauth2.S256ChallengeOption(verifier)))
			p, _ = b.submit(t, p, "register-submit", map[string]string{"username": "ivy", "email": "ivy@example.com", "password": testUserPassword})
			if p.URL.Path != "/verify-email" {
				t.Fatalf("registration led to %s, want the verification page:\n%s", p.URL, p.Body)
			}
			m := mb.next(t, "ivy@example.com")
			if !strings.Contains(m.Subject, "email") || m.HTML == "" {
				t.Errorf("verification mail: subject %q, html %d bytes", m.Subject, len(m.HTML))
			}
			code := m.code(t)
			wrong := "000000"
			if code == wrong {
				wrong = "111111"
			}
			p, _ = b.submit(t, p, "verify-submit", map[string]string{"code": wrong})
			mustContain(t, p.Body, `id="code-error"`, "wrong code")
			_, resp := b.submit(t, p, "verify-submit", map[string]string{"code": code})
			q := callbackQuery(t, resp)
			tok, err := rp.OAuth.Exchange(t.Context(), q.Get("code"), oauth2.VerifierOption(verifier))
			if err != nil {
				t.Fatal(err)
			}
			ui, err := rp.Provider.UserInfo(t.Context(), oauth2.StaticTokenSource(tok))
			if err != nil || !ui.EmailVerified {
				t.Fatalf("userinfo after verification: %+v %v", ui, err)
			}
			// Signing in again needs no code now.
			b2 := newBrowser(t, rpCallback)
			p, _ = b2.get(t, rp.OAuth.AuthCodeURL("state-0123456789", oauth2.S256ChallengeOption(verifier)))
			_, resp = b2.submit(t, p, "login-submit", map[string]string{"login": "ivy", "password": testUserPassword})
			callbackQuery(t, resp)
		})
	}
}

// TestVerificationLink: without the requirement a new user is signed in
// at once, unverified, and the link from the e-mail verifies the address.
func TestVerificationLink(t *testing.T) {
	t.Parallel()
	mb := startMailbox(t)
	srv := startServer(t, "sqlite", withDelivery(mb, nil, false))
	b := newBrowser(t, rpCallback)
	p, _ := b.get(t, srv.URL+"/register")
	p, _ = b.submit(t, p, "register-submit", map[string]string{"username": "jack", "email": "jack@example.com", "phone": "12345", "password": testUserPassword})
	mustContain(t, p.Body, `id="phone-error"`, "invalid phone at registration")
	p, _ = b.submit(t, p, "register-submit", map[string]string{"username": "jack", "email": "jack@example.com", "phone": "+1 (202) 555-0143", "password": testUserPassword})
	if p.URL.Path != "/" {
		t.Fatalf("registration led to %s", p.URL)
	}
	u, _, err := srv.App.Identity.Accounts.Users.FindUserByLogin(t.Context(), "jack")
	if err != nil || u.EmailVerified || u.Phone != "+12025550143" || u.PhoneVerified {
		t.Fatalf("new user %+v %v, want unverified with an E.164 phone", u, err)
	}
	link := mb.next(t, "jack@example.com").link(t, "/verify-email")
	p, _ = b.get(t, link)
	mustContain(t, p.Body, "verified", "verification link page")
	u, _, _ = srv.App.Identity.Accounts.Users.FindUserByLogin(t.Context(), "jack")
	if !u.EmailVerified {
		t.Error("the link did not verify the address")
	}
	if p, _ := b.get(t, link); p.Status != http.StatusBadRequest {
		t.Errorf("a used link answered %d, want 400", p.Status)
	}
}

var csrfValue = regexp.MustCompile(`name="csrf" value="[^"]*"`)

// TestPasswordReset: the forgot-password answer is the same for known and
// unknown accounts; the link from the e-mail sets a new password once,
// signs every session out, revokes refresh tokens and notifies the user.
func TestPasswordReset(t *testing.T) {
	t.Parallel()
	for _, dialect := range dbtest.Dialects {
		t.Run(dialect, func(t *testing.T) {
			ctx := context.Background()
			mb := startMailbox(t)
			srv := startServer(t, dialect, withDelivery(mb, nil, false))
			srv.createUser(t, "kate", testUserPassword)
			id, secret := srv.createClient(t, "--name", "App", "--redirect-uri", rpCallback, "--first-party")
			rp := newRelyingParty(t, srv.URL, id, secret)

			// A signed-in browser with a refresh token from before the reset.
			old := newBrowser(t, rpCallback)
			verifier := oauth2.GenerateVerifier()
			q := signIn(t, old, rp.OAuth.AuthCodeURL("state-0123456789", oauth2.S256ChallengeOption(verifier)), "kate", false)
			tok, err := rp.OAuth.Exchange(ctx, q.Get("code"), oauth2.VerifierOption(verifier))
			if err != nil || tok.RefreshToken == "" {
				t.Fatalf("exchange: %v", err)
			}

			b := newBrowser(t, rpCallback)
			p, _ := b.get(t, srv.URL+"/login")
			mustContain(t, p.Body, `id="forgot-link"`, "login page")
			p, _ = b.get(t, srv.URL+"/forgot-password")
			known, _ := b.submit(t, p, "forgot-submit", map[string]string{"login": "kate@example.com"})
			unknown, _ := b.submit(t, p, "forgot-submit", map[string]string{"login": "nobody@example.com"})
			if csrfValue.ReplaceAllString(known.Body, "") != csrfValue.ReplaceAllString(unknown.Body, "") || known.Status != unknown.Status {
				t.Error("the forgot-password answer differs between a known and an unknown address")
			}
			m := mb.next(t, "kate@example.com")
			link := m.link(t, "/reset-password")
			mb.none(t, srv) // nothing for the unknown address

			p, _ = b.get(t, link)
			p, _ = b.submit(t, p, "reset-submit", map[string]string{"password": "password"})
			mustContain(t, p.Body, `id="password-error"`, "weak new password")
			const newPassword = "a brand new passphrase"
			p, _ = b.submit(t, p, "reset-submit", map[string]string{"password": newPassword})
			mustContain(t, p.Body, "has been changed", "reset done")
			if n := mb.next(t, "kate@example.com"); !strings.Contains(strings.ToLower(n.Subject), "password") {
				t.Errorf("notification subject %q", n.Subject)
			}
			if p, _ := b.get(t, link); !strings.Contains(p.Body, `id="reset-again"`) {
				t.Error("the reset link worked twice")
			}
			// The old session and refresh token are gone.
			tok.Expiry = tok.Expiry.Add(-24 * 3600 * 1e9)
			if _, err := rp.OAuth.TokenSource(ctx, tok).Token(); !isOAuthError(err, "invalid_grant") {
				t.Errorf("refresh after reset: %v, want invalid_grant", err)
			}
			if p, _ := old.get(t, rp.OAuth.AuthCodeURL("state-0123456789", oauth2.S256ChallengeOption(verifier))); p.URL.Path != "/login" {
				t.Errorf("the old browser session survived the reset (%s)", p.URL)
			}
			// The new password works, the old one does not.
			p, _ = b.get(t, srv.URL+"/login")
			bad, _ := b.submit(t, p, "login-submit", map[string]string{"login": "kate", "password": testUserPassword})
			mustContain(t, bad.Body, "Incorrect username or password.", "old password")
			good, _ := b.submit(t, p, "login-submit", map[string]string{"login": "kate", "password": newPassword})
			if good.URL.Path != "/" {
				t.Errorf("login with the new password led to %s", good.URL)
			}

			// An administrator can send the same link.
			if out, code := srv.cli(t, "", "users", "reset-password", "kate"); code != 0 {
				t.Fatalf("users reset-password: %d %s", code, out)
			}
			// The CLI only queues; the server's worker would find the
			// message at its next poll. Deliver it now.
			if err := srv.App.Worker.Drain(ctx); err != nil {
				t.Fatal(err)
			}
			mb.next(t, "kate@example.com").link(t, "/reset-password")
			// Deliveries are counted for the operator (the last one may
			// still be on its way into the counter when the mail arrives).
			sentCount := regexp.MustCompile(`gatehouse_messages_total\{kind="email",outcome="sent"\} [23]\n`)
			if got := do(t, mustRequest(t, http.MethodGet, srv.AdminURL+"/metrics")); !sentCount.MatchString(got.Body) {
				t.Errorf("metrics do not count the sent e-mails:\n%s", got.Body)
			}
			if out, code := srv.cli(t, "", "users", "reset-password", "nobody"); code != 2 {
				t.Errorf("reset for an unknown user exited %d: %s", code, out)
			}
		})
	}
}

// TestAccountPages: profile changes reach userinfo; an e-mail change waits
// for the new address's code and tells the old one; the phone is verified
// by a text through the webhook; the password change needs the current one.
func TestAccountPages(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	mb := startMailbox(t)
	sms := startSMSGateway(t)
	srv := startServer(t, "postgres", withDelivery(mb, sms, false))
	srv.createUser(t, "liam", testUserPassword)
	id, secret := srv.createClient(t, "--name", "App", "--redirect-uri", rpCallback, "--first-party")
	rp := newRelyingParty(t, srv.URL, id, secret)
	rp.OAuth.Scopes = append(rp.OAuth.Scopes, "phone", "address")

	b := newBrowser(t, rpCallback)
	p, _ := b.get(t, srv.URL+"/account")
	if p.URL.Path != "/login" {
		t.Fatalf("the account page without a session led to %s", p.URL)
	}
	p, _ = b.submit(t, p, "login-submit", map[string]string{"login": "liam", "password": testUserPassword})
	if p.URL.Path != "/account" {
		t.Fatalf("login from the account page led back to %s", p.URL)
	}
	for _, ac := range []string{`autocomplete="given-name"`, `autocomplete="family-name"`, `autocomplete="bday"`, `autocomplete="postal-code"`} {
		mustContain(t, p.Body, ac, "profile form")
	}
	p, _ = b.submit(t, p, "profile-save", map[string]string{"given_name": "Liam", "family_name": "Neeson", "website": "not a url"})
	mustContain(t, p.Body, `id="website-error"`, "invalid website")
	p, _ = b.submit(t, p, "profile-save", map[string]string{"given_name": "Liam", "family_name": "Neeson", "website": "https://liam.example", "locality": "Ballymena"})
	mustContain(t, p.Body, `id="notice"`, "profile saved")

	// E-mail change: code to the new address, notice to the old one.
	p, _ = b.get(t, srv.URL+"/account?section=contact")
	p, _ = b.submit(t, p, "email-change", map[string]string{"new_email": "liam.new@example.com"})
	mustContain(t, p.Body, "liam.new@example.com", "pending address")
	confirm := mb.next(t, "liam.new@example.com")
	mb.next(t, "liam@example.com") // "someone asked to change"
	p, _ = b.submit(t, p, "email-code-submit", map[string]string{"code": confirm.code(t)})
	mustContain(t, p.Body, "has been changed", "email changed")
	mb.next(t, "liam@example.com") // "your address was changed"

	// Phone: the code comes by text message through the webhook.
	p, _ = b.submit(t, p, "phone-save", map[string]string{"phone": "+1 202 555 0143"})
	text := <-sms.texts
	if text["to"] != "+12025550143" {
		t.Errorf("SMS to %q, want E.164", text["to"])
	}
	smsCode := codeInMail.FindString(text["text"])
	p, _ = b.submit(t, p, "phone-code-submit", map[string]string{"code": smsCode})
	mustContain(t, p.Body, "phone number is verified", "phone verified")

	// Password change needs the current password.
	p, _ = b.get(t, srv.URL+"/account?section=password")
	mustContain(t, p.Body, `autocomplete="current-password"`, "password form")
	p, _ = b.submit(t, p, "password-save", map[string]string{"current_password": "wrong one", "new_password": "another fine passphrase"})
	mustContain(t, p.Body, `id="current_password-error"`, "wrong current password")
	p, _ = b.submit(t, p, "password-save", map[string]string{"current_password": testUserPassword, "new_password": "another fine passphrase"})
	mustContain(t, p.Body, `id="notice"`, "password changed")
	mb.next(t, "liam.new@example.com") // "your password was changed"

	// Everything shows in a new token's userinfo and ID token.
	verifier := oauth2.GenerateVerifier()
	_, resp := b.get(t, rp.OAuth.AuthCodeURL("state-0123456789", gooidc.Nonce("nonce-0123456789"), oauth2.S256ChallengeOption(verifier)))
	tok, err := rp.OAuth.Exchange(ctx, callbackQuery(t, resp).Get("code"), oauth2.VerifierOption(verifier))
	if err != nil {
		t.Fatal(err)
	}
	var claims map[string]interface{}
	ui, err := rp.Provider.UserInfo(ctx, oauth2.StaticTokenSource(tok))
	if err != nil {
		t.Fatal(err)
	}
	if err := ui.Claims(&claims); err != nil {
		t.Fatal(err)
	}
	want := map[string]interface{}{"given_name": "Liam", "family_name": "Neeson", "website": "https://liam.example",
		"email": "liam.new@example.com", "email_verified": true, "phone_number": "+12025550143", "phone_number_verified": true}
	for k, v := range want {
		if claims[k] != v {
			t.Errorf("userinfo %s = %v, want %v", k, claims[k], v)
		}
	}
	if addr, _ := claims["address"].(map[string]interface{}); addr["locality"] != "Ballymena" {
		t.Errorf("userinfo address = %v, want locality Ballymena", claims["address"])
	}
}

// TestSessionsPage: the account area lists the user's browsers; signing
// another one out ends its session and the refresh token issued through it.
func TestSessionsPage(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	srv := startServer(t, "sqlite", nil)
	srv.createUser(t, "mona", testUserPassword)
	id, secret := srv.createClient(t, "--name", "App", "--redirect-uri", rpCallback, "--first-party")
	rp := newRelyingParty(t, srv.URL, id, secret)

	other := newBrowser(t, rpCallback)
	verifier := oauth2.GenerateVerifier()
	q := signIn(t, other, rp.OAuth.AuthCodeURL("state-0123456789", oauth2.S256ChallengeOption(verifier)), "mona", false)
	tok, err := rp.OAuth.Exchange(ctx, q.Get("code"), oauth2.VerifierOption(verifier))
	if err != nil {
		t.Fatal(err)
	}

	b := newBrowser(t, rpCallback)
	p, _ := b.get(t, srv.URL+"/account?section=sessions")
	b.submit(t, p, "login-submit", map[string]string{"login": "mona", "password": testUserPassword})
	p, _ = b.get(t, srv.URL+"/account?section=sessions")
	if n := strings.Count(p.Body, `class="session"`); n != 2 {
		t.Fatalf("sessions listed: %d, want 2:\n%s", n, p.Body)
	}
	mustContain(t, p.Body, "This browser", "current session marker")
	p, _ = b.submit(t, p, "sessions-revoke-others", nil)
	mustContain(t, p.Body, "other sessions have been signed out", "notice")
	if n := strings.Count(p.Body, `class="session"`); n != 1 {
		t.Errorf("sessions listed after revoking the others: %d, want 1", n)
	}
	if p, _ := other.get(t, rp.OAuth.AuthCodeURL("state-0123456789", oauth2.S256ChallengeOption(verifier))); p.URL.Path != "/login" {
		t.Errorf("the revoked browser is still signed in (%s)", p.URL)
	}
	tok.Expiry = tok.Expiry.Add(-48 * time.Hour)
	if _, err := rp.OAuth.TokenSource(ctx, tok).Token(); !isOAuthError(err, "invalid_grant") {
		t.Errorf("refresh through the revoked session: %v, want invalid_grant", err)
	}
}
