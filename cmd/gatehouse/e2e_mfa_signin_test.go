package main

import (
	"context"
	"html"
	"net/http"
	"net/url"
	"regexp"
	"slices"
	"testing"
	"time"

	gooidc "github.com/coreos/go-oidc/v3/oidc"
	"golang.org/x/oauth2"

	"gatehouse/identity/mfa"
	"gatehouse/migrations/dbtest"
	"gatehouse/oidc/authflow"
	"gatehouse/oidc/mfapages"
)

// mfaClient is a first-party relying party (no consent page) of a test
// server, for the second-factor tests.
type mfaClient struct {
	srv *testServer
	rp  *relyingParty
}

func newMFAClient(t testing.TB, srv *testServer) *mfaClient {
	t.Helper()
	id, secret := srv.createClient(t, "--name", "Portal", "--redirect-uri", rpCallback, "--first-party")
	return &mfaClient{srv: srv, rp: newRelyingParty(t, srv.URL, id, secret)}
}

// authURL is an authorization request with PKCE and extra parameters.
func (m *mfaClient) authURL(verifier string, params ...string) string {
	opts := []oauth2.AuthCodeOption{oauth2.S256ChallengeOption(verifier)}
	for i := 0; i+1 < len(params); i += 2 {
		opts = append(opts, oauth2.SetAuthURLParam(params[i], params[i+1]))
	}
	return m.rp.OAuth.AuthCodeURL("state-0123456789", opts...)
}

// password starts a sign-in in b and passes the password step; it
// returns the page that follows (the challenge, for a user with a factor).
func (m *mfaClient) password(t testing.TB, b *browser, username, verifier string, params ...string) (*page, *http.Response) {
	t.Helper()
	p, _ := b.get(t, m.authURL(verifier, params...))
	if p.URL.Path != "/login" {
		t.Fatalf("authorize led to %s (status %d), want the login page:\n%s", p.URL, p.Status, p.Body)
	}
	return b.submit(t, p, "login-submit", map[string]string{"login": username, "password": testUserPassword})
}

// mustChallenge fails unless p is the second-factor page.
func mustChallenge(t testing.TB, p *page) {
	t.Helper()
	if p.URL.Path != authflow.PathMFA || p.Status != http.StatusOK {
		t.Fatalf("got %s (status %d), want the second-factor page:\n%s", p.URL, p.Status, p.Body)
	}
	mustContain(t, p.Body, `autocomplete="one-time-code"`, "second-factor page")
}

// claims redeems the code of the callback response and returns the ID
// token's amr and acr.
func (m *mfaClient) claims(t testing.TB, resp *http.Response, verifier string) ([]string, string) {
	t.Helper()
	q := callbackQuery(t, resp)
	if q.Get("code") == "" {
		t.Fatalf("no code in the callback: %v", q)
	}
	ctx := context.Background()
	tok, err := m.rp.OAuth.Exchange(ctx, q.Get("code"), oauth2.VerifierOption(verifier))
	if err != nil {
		t.Fatalf("Exchange: %v", err)
	}
	raw, _ := tok.Extra("id_token").(string)
	idt, err := m.rp.Verifier.Verify(ctx, raw)
	if err != nil {
		t.Fatalf("ID token: %v", err)
	}
	var c struct {
		AMR []string `json:"amr"`
		ACR string   `json:"acr"`
	}
	if err := idt.Claims(&c); err != nil {
		t.Fatal(err)
	}
	return c.AMR, c.ACR
}

// noCode fails when resp sent the browser to the client with a code.
func noCode(t testing.TB, resp *http.Response, what string) {
	t.Helper()
	if loc := resp.Header.Get("Location"); resp.StatusCode == http.StatusSeeOther && loc != "" {
		if u, err := url.Parse(loc); err == nil && u.Query().Get("code") != "" {
			t.Fatalf("%s: a code was issued (%s)", what, loc)
		}
	}
}

// enrolledUser creates a user, signs them in on a browser of their own
// and adds an authenticator app; it returns the secret and the recovery
// codes.
func (m *mfaClient) enrolledUser(t testing.TB, username string) (id, secret string, codes []string) {
	t.Helper()
	u := m.srv.createUser(t, username, testUserPassword)
	b := newBrowser(t, rpCallback)
	signIn(t, b, m.authURL(oauth2.GenerateVerifier()), username, false)
	secret, codes = enrolTOTP(t, m.srv, b)
	return u.ID, secret, codes
}

// TestMFASignIn: a user with an authenticator app signs in with the
// password and a code, or a recovery code; a code or a recovery code
// works once; prompt=login asks for the second factor again.
func TestMFASignIn(t *testing.T) {
	t.Parallel()
	for _, dialect := range dbtest.Dialects {
		t.Run(dialect, func(t *testing.T) {
			t.Parallel()
			srv := startServer(t, dialect, nil)
			m := newMFAClient(t, srv)
			adaID, secret, recovery := m.enrolledUser(t, "ada")
			// Enrolment used the current step; the app's next code is
			// the one of the next step, which the skew window accepts.
			code := totpCode(t, secret, time.Now().Add(30*time.Second))

			b := newBrowser(t, rpCallback)
			v := oauth2.GenerateVerifier()
			p, _ := m.password(t, b, "ada", v)
			mustChallenge(t, p)
			_, resp := b.submit(t, p, "mfa-submit", map[string]string{"code": code})
			amr, acr := m.claims(t, resp, v)
			if want := []string{"pwd", "otp", "mfa"}; !slices.Equal(amr, want) || acr != mfa.ACRMultiFactor {
				t.Errorf("password + app code: amr %v acr %q, want %v %q", amr, acr, want, mfa.ACRMultiFactor)
			}

			// prompt=login asks for both factors again.
			p, _ = m.password(t, b, "ada", oauth2.GenerateVerifier(), "prompt", "login")
			mustChallenge(t, p)

			// The same code in another sign-in is refused.
			replay := newBrowser(t, rpCallback)
			p, _ = m.password(t, replay, "ada", oauth2.GenerateVerifier())
			mustChallenge(t, p)
			p, resp = replay.submit(t, p, "mfa-submit", map[string]string{"code": code})
			noCode(t, resp, "replayed code")
			if p.Status != http.StatusUnprocessableEntity {
				t.Fatalf("replayed code answered %d, want 422:\n%s", p.Status, p.Body)
			}
			mustContain(t, p.Body, "That code is not right", "replayed code")

			// A recovery code instead, in the same flow.
			sw := findLink(t, p, "mfa-use-recovery")
			p, _ = replay.get(t, sw)
			mustContain(t, p.Body, `name="recovery_code"`, "recovery code form")
			b2v := oauth2.GenerateVerifier()
			rb := newBrowser(t, rpCallback)
			p, _ = m.password(t, rb, "ada", b2v)
			p, _ = rb.get(t, findLink(t, p, "mfa-use-recovery"))
			_, resp = rb.submit(t, p, "mfa-submit", map[string]string{"recovery_code": recovery[3]})
			amr, acr = m.claims(t, resp, b2v)
			if want := []string{"pwd", "mfa"}; !slices.Equal(amr, want) || acr != mfa.ACRMultiFactor {
				t.Errorf("password + recovery code: amr %v acr %q, want %v %q", amr, acr, want, mfa.ACRMultiFactor)
			}
			if n, err := srv.App.MFA.RemainingRecoveryCodes(context.Background(), adaID); err != nil || n != 9 {
				t.Errorf("recovery codes left = %d, %v; want 9", n, err)
			}

			// Signing in on the sign-in page itself (no client) asks for
			// the second factor too, and signs nobody in before it.
			direct := newBrowser(t, rpCallback)
			p, _ = direct.get(t, srv.URL+"/login?next=/account")
			p, _ = direct.submit(t, p, "login-submit", map[string]string{"login": "ada", "password": testUserPassword})
			mustChallenge(t, p)
			if ap, _ := direct.get(t, srv.URL+"/account"); ap.URL.Path != "/login" {
				t.Fatalf("before the second factor /account showed %s, want the login page", ap.URL)
			}
			p, _ = direct.get(t, srv.URL+"/login?next=/account")
			p, _ = direct.submit(t, p, "login-submit", map[string]string{"login": "ada", "password": testUserPassword})
			p, _ = direct.get(t, findLink(t, p, "mfa-use-recovery"))
			p, _ = direct.submit(t, p, "mfa-submit", map[string]string{"recovery_code": recovery[5]})
			if p.URL.Path != "/account" || p.Status != http.StatusOK {
				t.Fatalf("after the recovery code the direct sign-in led to %s (status %d), want /account", p.URL, p.Status)
			}
			// The sessions list says how each session signed in.
			p, _ = direct.get(t, srv.URL+"/account?section=sessions")
			mustContain(t, p.Body, "with password and authenticator app", "the app-code session in the sessions list")
			mustContain(t, p.Body, "with password and recovery code", "the recovery-code session in the sessions list")

			// A recovery code works once.
			again := newBrowser(t, rpCallback)
			p, _ = m.password(t, again, "ada", oauth2.GenerateVerifier())
			p, _ = again.get(t, findLink(t, p, "mfa-use-recovery"))
			p, resp = again.submit(t, p, "mfa-submit", map[string]string{"recovery_code": recovery[3]})
			noCode(t, resp, "used recovery code")
			if p.Status != http.StatusUnprocessableEntity {
				t.Errorf("a used recovery code answered %d, want 422", p.Status)
			}
		})
	}
}

// TestMFAWrongCodes: five wrong codes end the flow, and then not even the
// right code issues one; they count as failed sign-ins of the address and
// towards the account's lockout. The challenge of another browser's flow
// cannot be answered from an attacker's browser.
func TestMFAWrongCodes(t *testing.T) {
	t.Parallel()
	for _, dialect := range dbtest.Dialects {
		t.Run(dialect, func(t *testing.T) {
			t.Parallel()
			srv := startServer(t, dialect, nil)
			m := newMFAClient(t, srv)
			_, secret, _ := m.enrolledUser(t, "bob")
			right := totpCode(t, secret, time.Now().Add(30*time.Second))
			wrong := "000000"
			if wrong == right {
				wrong = "111111"
			}

			b := newBrowser(t, rpCallback)
			p, _ := m.password(t, b, "bob", oauth2.GenerateVerifier())
			mustChallenge(t, p)
			challenge := p
			for i := 1; i <= 5; i++ {
				var resp *http.Response
				p, resp = b.submit(t, challenge, "mfa-submit", map[string]string{"code": wrong})
				noCode(t, resp, "wrong code")
				if i < 5 && p.Status != http.StatusUnprocessableEntity {
					t.Fatalf("wrong code %d answered %d, want 422", i, p.Status)
				}
			}
			if p.Status != http.StatusBadRequest {
				t.Fatalf("the fifth wrong code answered %d, want 400:\n%s", p.Status, p.Body)
			}
			mustContain(t, p.Body, "Too many wrong codes", "flow ended")
			mustContain(t, p.Body, `id="error-home"`, "link to start again")
			// The wrong codes count as failed sign-ins of the address: the
			// sign-in page now asks for the CAPTCHA (after 3 by default).
			lp, _ := newBrowser(t, rpCallback).get(t, srv.URL+"/login")
			mustContain(t, lp.Body, "data-altcha-challenge-url", "sign-in page after wrong codes")
			p, resp := b.submit(t, challenge, "mfa-submit", map[string]string{"code": right})
			noCode(t, resp, "right code after the flow ended")
			if p.Status != http.StatusBadRequest {
				t.Errorf("the right code after the flow ended answered %d, want 400", p.Status)
			}
			// They count towards the account's lockout too: the right
			// password no longer reaches the challenge, so a guesser who
			// has the password cannot start flow after flow of guesses.
			if p, _ = m.password(t, newBrowser(t, rpCallback), "bob", oauth2.GenerateVerifier()); p.URL.Path == authflow.PathMFA {
				t.Fatalf("the right password after five wrong codes reached the challenge: the account was not locked")
			}
			if out, code := srv.cli(t, "", "users", "unlock", "bob"); code != 0 {
				t.Fatalf("users unlock: %d %s", code, out)
			}

			// The victim's challenge, answered from the attacker's browser
			// with the right code (phished in real time), goes nowhere, and
			// leaves the victim's sign-in as it was.
			victim := newBrowser(t, rpCallback)
			v := oauth2.GenerateVerifier()
			p, _ = m.password(t, victim, "bob", v)
			mustChallenge(t, p)
			attacker := newBrowser(t, rpCallback)
			_, values, _ := findForm(t, p, "mfa-submit")
			values.Set("code", right)
			// The attacker has a CSRF cookie and token of their own.
			ap, _ := attacker.get(t, srv.URL+"/login")
			_, own, _ := findForm(t, ap, "login-submit")
			values.Set("csrf", own.Get("csrf"))
			ap, resp = attacker.post(t, srv.URL+authflow.PathMFA, values)
			noCode(t, resp, "attacker's answer")
			if ap.Status != http.StatusBadRequest {
				t.Errorf("the attacker's answer got %d, want 400:\n%s", ap.Status, ap.Body)
			}
			_, resp = victim.submit(t, p, "mfa-submit", map[string]string{"code": right})
			if amr, _ := m.claims(t, resp, v); !slices.Contains(amr, "otp") {
				t.Errorf("victim's amr = %v, want otp", amr)
			}
		})
	}
}

// TestMFAStepUp: a session signed in with the password alone, whose user
// then added an app, needs the second factor: prompt=none answers
// interaction_required, an interactive request asks for the code and
// then issues amr pwd otp mfa. acr_values=phr, which needs a passkey, is
// refused with unmet_authentication_requirements.
func TestMFAStepUp(t *testing.T) {
	t.Parallel()
	for _, dialect := range dbtest.Dialects {
		t.Run(dialect, func(t *testing.T) {
			t.Parallel()
			srv := startServer(t, dialect, nil)
			m := newMFAClient(t, srv)
			srv.createUser(t, "carol", testUserPassword)
			b := newBrowser(t, rpCallback)
			v := oauth2.GenerateVerifier()
			_, resp := m.password(t, b, "carol", v, "acr_values", "phr")
			if q := callbackQuery(t, resp); q.Get("error") != "unmet_authentication_requirements" {
				t.Errorf("acr_values=phr: %v, want error=unmet_authentication_requirements", q)
			}
			// The password alone signed carol in.
			secret, _ := enrolTOTP(t, srv, b)

			_, resp = b.get(t, m.authURL(oauth2.GenerateVerifier(), "prompt", "none"))
			if q := callbackQuery(t, resp); q.Get("error") != "interaction_required" {
				t.Errorf("prompt=none without the second factor: %v, want error=interaction_required", q)
			}
			p, _ := b.get(t, m.authURL(v))
			mustChallenge(t, p)
			_, resp = b.submit(t, p, "mfa-submit", map[string]string{"code": totpCode(t, secret, time.Now().Add(30*time.Second))})
			amr, acr := m.claims(t, resp, v)
			if want := []string{"pwd", "otp", "mfa"}; !slices.Equal(amr, want) || acr != mfa.ACRMultiFactor {
				t.Errorf("step-up: amr %v acr %q, want %v %q", amr, acr, want, mfa.ACRMultiFactor)
			}
			// Now the session has both factors: prompt=none issues.
			v = oauth2.GenerateVerifier()
			_, resp = b.get(t, m.authURL(v, "prompt", "none", "acr_values", mfa.ACRMultiFactor))
			if _, acr := m.claims(t, resp, v); acr != mfa.ACRMultiFactor {
				t.Errorf("prompt=none after the step-up: acr %q", acr)
			}
		})
	}
}

// TestMFADiscovery: discovery lists the acr values Gatehouse achieves.
func TestMFADiscovery(t *testing.T) {
	t.Parallel()
	srv := startServer(t, "sqlite", nil)
	p, err := gooidc.NewProvider(context.Background(), srv.URL)
	if err != nil {
		t.Fatal(err)
	}
	var doc struct {
		ACRValues []string `json:"acr_values_supported"`
	}
	if err := p.Claims(&doc); err != nil {
		t.Fatal(err)
	}
	if want := []string{"0", mfa.ACRMultiFactor, "phr", "phrh"}; !slices.Equal(doc.ACRValues, want) {
		t.Errorf("acr_values_supported = %v, want %v", doc.ACRValues, want)
	}
}

// findLink returns the absolute URL of the link with id on p.
func findLink(t testing.TB, p *page, id string) string {
	t.Helper()
	m := regexp.MustCompile(`<a id="` + regexp.QuoteMeta(id) + `"[^>]* href="([^"]*)"`).FindStringSubmatch(p.Body)
	if m == nil {
		t.Fatalf("no link #%s on %s:\n%s", id, p.URL, p.Body)
	}
	u, err := p.URL.Parse(html.UnescapeString(m[1]))
	if err != nil {
		t.Fatal(err)
	}
	return u.String()
}

// TestMFAACRValuesEnrol: a relying party that asks for multi-factor
// (acr_values) gets it from a user who had no factor: the sign-in leads
// them to add an authenticator app, shows the recovery codes with a way
// back into the flow, asks for a code of the new app, and issues an ID
// token that says multi-factor. Nothing is issued before.
func TestMFAACRValuesEnrol(t *testing.T) {
	t.Parallel()
	for _, dialect := range dbtest.Dialects {
		t.Run(dialect, func(t *testing.T) {
			t.Parallel()
			srv := startServer(t, dialect, nil)
			m := newMFAClient(t, srv)
			srv.createUser(t, "dave", testUserPassword)
			b := newBrowser(t, rpCallback)
			v := oauth2.GenerateVerifier()
			p, resp := m.password(t, b, "dave", v, "acr_values", mfa.ACRMultiFactor)
			noCode(t, resp, "password alone")
			if p.URL.Path != mfapages.PathTOTP || p.URL.Query().Get("flow") == "" {
				t.Fatalf("password with acr_values led to %s (status %d), want the enrolment page of the flow:\n%s", p.URL, p.Status, p.Body)
			}
			p, _ = b.submit(t, p, "totp-setup", nil)
			key := totpSecretRE.FindStringSubmatch(p.Body)
			if key == nil {
				t.Fatalf("no key on the enrolment page:\n%s", p.Body)
			}
			p, _ = b.submit(t, p, "totp-submit", map[string]string{"code": totpCode(t, key[1], time.Now())})
			if n := len(recoveryCodeRE.FindAllString(p.Body, -1)); n != 10 {
				t.Fatalf("%d recovery codes shown, want 10:\n%s", n, p.Body)
			}
			p, _ = b.get(t, findLink(t, p, "recovery-codes-continue"))
			mustChallenge(t, p)
			_, resp = b.submit(t, p, "mfa-submit", map[string]string{"code": totpCode(t, key[1], time.Now().Add(30*time.Second))})
			amr, acr := m.claims(t, resp, v)
			if want := []string{"pwd", "otp", "mfa"}; !slices.Equal(amr, want) || acr != mfa.ACRMultiFactor {
				t.Errorf("after enrolment in the flow: amr %v acr %q, want %v %q", amr, acr, want, mfa.ACRMultiFactor)
			}

			// Another browser cannot take the flow back to the dispatcher.
			erin := newBrowser(t, rpCallback)
			srv.createUser(t, "erin", testUserPassword)
			p, _ = m.password(t, erin, "erin", oauth2.GenerateVerifier(), "acr_values", mfa.ACRMultiFactor)
			flow := p.URL.Query().Get("flow")
			attacker := newBrowser(t, rpCallback)
			ap, resp := attacker.get(t, srv.URL+authflow.PathMFAContinue+"?flow="+url.QueryEscape(flow))
			noCode(t, resp, "attacker's continue")
			if ap.Status != http.StatusBadRequest {
				t.Errorf("another browser's continue answered %d, want 400", ap.Status)
			}
			// Nor can erin skip the enrolment: the dispatcher sends her
			// back to it.
			p, resp = erin.get(t, srv.URL+authflow.PathMFAContinue+"?flow="+url.QueryEscape(flow))
			noCode(t, resp, "continue without a factor")
			if p.URL.Path != mfapages.PathTOTP {
				t.Errorf("continue without a factor led to %s, want the enrolment page", p.URL)
			}
		})
	}
}

// TestMFAConcurrentCode: one code submitted twice at once in one flow
// (two tabs) signs in at most once.
func TestMFAConcurrentCode(t *testing.T) {
	t.Parallel()
	for _, dialect := range dbtest.Dialects {
		t.Run(dialect, func(t *testing.T) {
			t.Parallel()
			srv := startServer(t, dialect, nil)
			m := newMFAClient(t, srv)
			_, secret, _ := m.enrolledUser(t, "frank")
			b := newBrowser(t, rpCallback)
			p, _ := m.password(t, b, "frank", oauth2.GenerateVerifier())
			mustChallenge(t, p)
			action, values, _ := findForm(t, p, "mfa-submit")
			values.Set("code", totpCode(t, secret, time.Now().Add(30*time.Second)))
			target, err := p.URL.Parse(action)
			if err != nil {
				t.Fatal(err)
			}
			const n = 4
			codes := make(chan bool, n)
			for range n {
				go func() {
					resp, err := b.PostForm(target.String(), values)
					if err != nil {
						codes <- false
						return
					}
					resp.Body.Close()
					loc, _ := url.Parse(resp.Header.Get("Location"))
					codes <- resp.StatusCode == http.StatusSeeOther && loc != nil && loc.Query().Get("code") != ""
				}()
			}
			issued := 0
			for range n {
				if <-codes {
					issued++
				}
			}
			if issued > 1 {
				t.Errorf("%d codes issued for one second-factor code, want at most 1", issued)
			}
		})
	}
}
