package main

import (
	"context"
	"net/http"
	"net/url"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"golang.org/x/oauth2"

	"gatehouse/identity/audit"
	"gatehouse/identity/mfa"
	"gatehouse/migrations/dbtest"
	"gatehouse/oidc/authflow"
)

// codesServer is a test server that delivers mail to a real SMTP test
// server and text messages to the SMS webhook double, so that sign-in
// codes by e-mail and SMS are on offer.
func codesServer(t *testing.T, dialect string) (*testServer, *mfaClient, *mailbox, *smsGateway) {
	t.Helper()
	mb, sms := startMailbox(t), startSMSGateway(t)
	srv := startServer(t, dialect, withDelivery(mb, sms, false))
	return srv, newMFAClient(t, srv), mb, sms
}

// turnOnCodes signs username in on a browser of its own (password only:
// no factor yet, or after it the factor's sign-in is not needed to add
// one) and turns on sign-in codes of kind in the security section. It
// returns that browser and consumes the notice mail.
func turnOnCodes(t *testing.T, m *mfaClient, mb *mailbox, b *browser, username, kind string) {
	t.Helper()
	p, _ := b.get(t, m.srv.URL+"/account?section=security")
	p, _ = b.submit(t, p, "sign-in-codes-"+kind, nil)
	if p.URL.Query().Get("section") != "security" || p.Status != http.StatusOK {
		t.Fatalf("turning on %s codes led to %s (status %d):\n%s", kind, p.URL, p.Status, p.Body)
	}
	mustContain(t, p.Body, "Codes by ", "factor list")
	notice := mb.next(t, username+"@example.com")
	if !strings.Contains(notice.Subject, "two-step verification was turned on") || !strings.Contains(notice.Text, "Sign-in codes by ") {
		t.Errorf("notice %q:\n%s", notice.Subject, notice.Text)
	}
}

// mustCodeChallenge fails unless p is the second-factor page offering to
// send a code (sendLabel is the button's text).
func mustCodeChallenge(t testing.TB, p *page, sendLabel string) {
	t.Helper()
	if p.URL.Path != authflow.PathMFA || p.Status != http.StatusOK {
		t.Fatalf("got %s (status %d), want the second-factor page:\n%s", p.URL, p.Status, p.Body)
	}
	mustContain(t, p.Body, `id="mfa-send" class="button" type="submit">`+sendLabel+`</button>`, "send button")
}

// codeForm is the form of p's code field (method, flow, CSRF) with code
// set, for a hand-made POST.
func codeForm(t testing.TB, p *page, buttonID, method, code string) url.Values {
	t.Helper()
	_, values, _ := findForm(t, p, buttonID)
	values.Del("send")
	values.Set("method", method)
	values.Set("code", code)
	return values
}

// noCodeInLogs fails if any line the server logged holds one of codes
// (as a number of its own: not as digits of a timestamp).
func noCodeInLogs(t testing.TB, srv *testServer, codes ...string) {
	t.Helper()
	srv.Logs.mu.Lock()
	defer srv.Logs.mu.Unlock()
	if len(srv.Logs.lines) == 0 {
		t.Fatal("the server logged nothing: the check would prove nothing")
	}
	for _, c := range codes {
		re := regexp.MustCompile(`(^|[^0-9])` + regexp.QuoteMeta(c) + `([^0-9]|$)`)
		for _, line := range srv.Logs.lines {
			if re.Match(line) {
				t.Errorf("a log line holds the code %s: %s", c, line)
			}
		}
	}
}

// TestMFAEmailCodeSignIn: a user who turned on sign-in codes by e-mail
// gets one through the real mail server and signs in with it: amr pwd
// email mfa, acr multi-factor. A new code within the cooldown is refused
// with a clear message, a code works only in the sign-in it was sent
// for, and only once; no code reaches the log.
func TestMFAEmailCodeSignIn(t *testing.T) {
	t.Parallel()
	for _, dialect := range dbtest.Dialects {
		t.Run(dialect, func(t *testing.T) {
			t.Parallel()
			srv, m, mb, _ := codesServer(t, dialect)
			ada := srv.createUser(t, "ada", testUserPassword)
			own := newBrowser(t, rpCallback)
			signIn(t, own, m.authURL(oauth2.GenerateVerifier()), "ada", false)
			turnOnCodes(t, m, mb, own, "ada", "email")

			b := newBrowser(t, rpCallback)
			v := oauth2.GenerateVerifier()
			p, _ := m.password(t, b, "ada", v)
			mustCodeChallenge(t, p, "Send a code by e-mail")
			if strings.Contains(p.Body, `id="mfa-code"`) || strings.Contains(p.Body, "mfa-use-recovery") {
				t.Errorf("the challenge asks for a code before sending one, or offers recovery codes the user has not got:\n%s", p.Body)
			}
			cb := newBrowser(t, rpCallback)
			challenge, _ := m.password(t, cb, "ada", oauth2.GenerateVerifier())
			p, _ = b.submit(t, p, "mfa-send", nil)
			mustContain(t, p.Body, "We sent a code to a•••@example.com", "notice")
			mustContain(t, p.Body, `id="mfa-code"`, "code field")
			mail := mb.next(t, "ada@example.com")
			if !strings.Contains(mail.Subject, "your sign-in code") {
				t.Errorf("code mail subject %q", mail.Subject)
			}
			code := mail.code(t)

			// Another code at once is refused, and nothing is sent.
			resent, resp := b.submit(t, p, "mfa-send", nil)
			if resent.Status != http.StatusTooManyRequests || resp.Header.Get("Retry-After") == "" {
				t.Errorf("a new code at once answered %d (Retry-After %q), want 429", resent.Status, resp.Header.Get("Retry-After"))
			}
			mustContain(t, resent.Body, "A code was sent moments ago. You can ask for a new one in", "cooldown message")
			mb.none(t, srv)
			// The code sent, not the refused one, is in the security activity.
			sent, err := srv.App.Audit.List(t.Context(), audit.Filter{UserID: ada.ID, Action: audit.ActionMFACodeSent})
			if err != nil || len(sent) != 1 || sent[0].Details["channel"] != "email" {
				t.Errorf("mfa.code_sent audit entries = %+v, %v; want one for email", sent, err)
			}

			// The code in another sign-in of the same user is a wrong code.
			other := codeForm(t, challenge, "mfa-send", "email", code)
			op, resp := cb.post(t, srv.URL+authflow.PathMFA, other)
			noCode(t, resp, "code of another sign-in")
			if op.Status != http.StatusUnprocessableEntity {
				t.Errorf("the code in another sign-in answered %d, want 422:\n%s", op.Status, op.Body)
			}
			mustContain(t, op.Body, "That code is not right", "code of another sign-in")

			_, resp = b.submit(t, p, "mfa-submit", map[string]string{"code": code})
			amr, acr := m.claims(t, resp, v)
			if want := []string{"pwd", "email", "mfa"}; !slices.Equal(amr, want) || acr != mfa.ACRMultiFactor {
				t.Errorf("password + e-mail code: amr %v acr %q, want %v %q", amr, acr, want, mfa.ACRMultiFactor)
			}

			// Replayed in its own sign-in's form (a second tab) or in
			// another sign-in, the used code is refused.
			replay, resp := cb.post(t, srv.URL+authflow.PathMFA, other)
			noCode(t, resp, "replayed code")
			if replay.Status != http.StatusUnprocessableEntity {
				t.Errorf("the replayed code answered %d, want 422", replay.Status)
			}
			noCodeInLogs(t, srv, code)

			// Signed in with the code just now, ada may remove the factor
			// like any other; the next sign-in needs the password only.
			p, _ = b.get(t, srv.URL+"/account?section=security")
			mustContain(t, p.Body, "Codes by e-mail to a•••@example.com", "masked address in the factor list")
			// SMS codes need a verified number, which ada has not.
			mustContain(t, p.Body, `id="sign-in-codes-sms-unavailable"`, "SMS codes unavailable")
			_, form, _ := findForm(t, p, "recovery-codes-regenerate")
			form.Set("kind", "sms")
			if np, _ := b.post(t, srv.URL+"/account/security/sign-in-codes", form); np.Status != http.StatusBadRequest {
				t.Errorf("turning on SMS codes without a number answered %d, want 400", np.Status)
			}
			factors, err := srv.App.MFA.ListFactors(context.Background(), ada.ID)
			if err != nil || len(factors) != 1 {
				t.Fatalf("factors = %+v, %v; want the e-mail codes only", factors, err)
			}
			p, _ = b.submit(t, p, "factor-remove-"+factors[0].ID, nil)
			if strings.Contains(p.Body, "mfa-factor-"+factors[0].ID) {
				t.Errorf("the factor is still listed after removal:\n%s", p.Body)
			}
			if removed := mb.next(t, "ada@example.com"); !strings.Contains(removed.Subject, "a second factor was removed") {
				t.Errorf("removal notice subject %q", removed.Subject)
			}
			signIn(t, newBrowser(t, rpCallback), m.authURL(oauth2.GenerateVerifier()), "ada", false)
		})
	}
}

// TestMFASMSCodeAndDefault: with codes by e-mail and by SMS turned on and
// SMS made the default, the challenge offers SMS first and e-mail as
// the other way; the code comes through the SMS webhook and the ID token
// says amr pwd sms mfa. A relying party asking for multi-factor gets a
// code from a user without any factor but a verified address, and
// acr_values=phr is never met by one.
func TestMFASMSCodeAndDefault(t *testing.T) {
	t.Parallel()
	for _, dialect := range dbtest.Dialects {
		t.Run(dialect, func(t *testing.T) {
			t.Parallel()
			srv, m, mb, sms := codesServer(t, dialect)
			bob := srv.createUser(t, "bob", testUserPassword)
			if err := srv.App.Identity.Contacts.Users.SetPhone(context.Background(), bob.ID, "+447911123456", true, time.Now()); err != nil {
				t.Fatal(err)
			}
			own := newBrowser(t, rpCallback)
			// Without any factor, acr_values multi-factor asks for a code
			// (bob has a verified address) instead of an app to set up.
			v := oauth2.GenerateVerifier()
			p, _ := m.password(t, own, "bob", v, "acr_values", mfa.ACRMultiFactor)
			mustCodeChallenge(t, p, "Send a code by e-mail")
			mustContain(t, p.Body, `id="mfa-use-sms"`, "SMS as the other way")
			_, resp := m.password(t, newBrowser(t, rpCallback), "bob", oauth2.GenerateVerifier(), "acr_values", "phr")
			if q := callbackQuery(t, resp); q.Get("error") != "unmet_authentication_requirements" {
				t.Errorf("acr_values=phr: %v, want unmet_authentication_requirements", q)
			}
			p, _ = own.submit(t, p, "mfa-use-sms", nil)
			text := <-sms.texts
			if text["to"] != "+447911123456" {
				t.Errorf("SMS to %q", text["to"])
			}
			_, resp = own.submit(t, p, "mfa-submit", map[string]string{"code": codeInMail.FindString(text["text"])})
			if amr, acr := m.claims(t, resp, v); !slices.Equal(amr, []string{"pwd", "sms", "mfa"}) || acr != mfa.ACRMultiFactor {
				t.Errorf("acr_values multi-factor by SMS: amr %v acr %q", amr, acr)
			}

			turnOnCodes(t, m, mb, own, "bob", "email")
			turnOnCodes(t, m, mb, own, "bob", "sms")
			p, _ = own.get(t, srv.URL+"/account?section=security")
			factors, err := srv.App.MFA.ListFactors(context.Background(), bob.ID)
			if err != nil || len(factors) != 2 {
				t.Fatalf("factors = %+v, %v; want e-mail and SMS", factors, err)
			}
			smsID := factors[1].ID
			if factors[1].Kind != mfa.KindSMS {
				smsID = factors[0].ID
			}
			mustContain(t, p.Body, "Codes by SMS to &#43;•••••••••456", "masked number in the factor list")
			p, _ = own.submit(t, p, "factor-default-"+smsID, nil)
			mustContain(t, p.Body, `id="factor-default-badge-`+smsID+`"`, "default badge")

			b := newBrowser(t, rpCallback)
			v = oauth2.GenerateVerifier()
			p, _ = m.password(t, b, "bob", v)
			mustCodeChallenge(t, p, "Send a code by SMS")
			if got := regexp.MustCompile(`<button id="mfa-use-email"[^>]*>([^<]*)</button>`).FindStringSubmatch(p.Body); got == nil || got[1] != "Send a code by e-mail" {
				t.Errorf("the other way: %v\n%s", got, p.Body)
			}
			p, _ = b.submit(t, p, "mfa-send", nil)
			mustContain(t, p.Body, "We sent a code to &#43;•••••••••456", "notice")
			text = <-sms.texts
			if cooled, _ := b.submit(t, p, "mfa-send", nil); cooled.Status != http.StatusTooManyRequests {
				t.Fatalf("a second SMS within the cooldown answered %d, want 429", cooled.Status)
			}
			// Whatever was queued is delivered once the queue is drained.
			if err := srv.App.Worker.Drain(t.Context()); err != nil {
				t.Fatal(err)
			}
			select {
			case extra := <-sms.texts:
				t.Fatalf("an SMS went out within the cooldown: %v", extra)
			default:
			}
			code := codeInMail.FindString(text["text"])
			_, resp = b.submit(t, p, "mfa-submit", map[string]string{"code": code})
			if amr, acr := m.claims(t, resp, v); !slices.Equal(amr, []string{"pwd", "sms", "mfa"}) || acr != mfa.ACRMultiFactor {
				t.Errorf("password + SMS code: amr %v acr %q", amr, acr)
			}
			noCodeInLogs(t, srv, code)
		})
	}
}

// TestMFACodeWrongCodes: five wrong e-mail codes end the flow like five
// wrong app codes; then the right code does not continue it.
func TestMFACodeWrongCodes(t *testing.T) {
	t.Parallel()
	srv, m, mb, _ := codesServer(t, "sqlite")
	srv.createUser(t, "carl", testUserPassword)
	own := newBrowser(t, rpCallback)
	signIn(t, own, m.authURL(oauth2.GenerateVerifier()), "carl", false)
	turnOnCodes(t, m, mb, own, "carl", "email")

	b := newBrowser(t, rpCallback)
	p, _ := m.password(t, b, "carl", oauth2.GenerateVerifier())
	p, _ = b.submit(t, p, "mfa-send", nil)
	code := mb.next(t, "carl@example.com").code(t)
	wrong := "000000"
	if wrong == code {
		wrong = "111111"
	}
	challenge := p
	for i := 1; i <= 5; i++ {
		var resp *http.Response
		p, resp = b.submit(t, challenge, "mfa-submit", map[string]string{"code": wrong})
		noCode(t, resp, "wrong code")
		if i < 5 && p.Status != http.StatusUnprocessableEntity {
			t.Fatalf("wrong code %d answered %d, want 422", i, p.Status)
		}
		if i < 5 {
			mustContain(t, p.Body, "Enter the code from the latest e-mail we sent", "wrong e-mail code")
		}
	}
	if p.Status != http.StatusBadRequest {
		t.Fatalf("the fifth wrong code answered %d, want 400:\n%s", p.Status, p.Body)
	}
	mustContain(t, p.Body, "Too many wrong codes", "flow ended")
	p, resp := b.submit(t, challenge, "mfa-submit", map[string]string{"code": code})
	noCode(t, resp, "right code after the flow ended")
	if p.Status != http.StatusBadRequest {
		t.Errorf("the right code after the flow ended answered %d, want 400", p.Status)
	}
	noCodeInLogs(t, srv, code)
}

// TestMFACodesNotForTOTPUsers: a user with an authenticator app who also
// turned on e-mail codes is never offered them, and a hand-made POST
// that asks for one, or answers with one, is refused without sending
// anything: whoever reads the user's mailbox cannot get around the app.
func TestMFACodesNotForTOTPUsers(t *testing.T) {
	t.Parallel()
	for _, dialect := range dbtest.Dialects {
		t.Run(dialect, func(t *testing.T) {
			t.Parallel()
			srv, m, mb, _ := codesServer(t, dialect)
			srv.createUser(t, "dora", testUserPassword)
			own := newBrowser(t, rpCallback)
			signIn(t, own, m.authURL(oauth2.GenerateVerifier()), "dora", false)
			secret, _ := enrolTOTP(t, srv, own)
			mb.next(t, "dora@example.com") // the app's notice
			turnOnCodes(t, m, mb, own, "dora", "email")

			b := newBrowser(t, rpCallback)
			v := oauth2.GenerateVerifier()
			p, _ := m.password(t, b, "dora", v)
			mustChallenge(t, p)
			for _, offer := range []string{"mfa-use-email", "mfa-send", "by e-mail"} {
				if strings.Contains(p.Body, offer) {
					t.Errorf("the challenge of a user with an app offers %q:\n%s", offer, p.Body)
				}
			}
			if sp, _ := b.get(t, srv.URL+authflow.PathMFA+"?"+url.Values{"flow": {p.URL.Query().Get("flow")}, "method": {"email"}}.Encode()); strings.Contains(sp.Body, "mfa-send") {
				t.Errorf("?method=email shows the e-mail form:\n%s", sp.Body)
			}

			send := codeForm(t, p, "mfa-submit", "email", "")
			send.Del("code")
			send.Set("send", "1")
			ap, resp := b.post(t, srv.URL+authflow.PathMFA, send)
			noCode(t, resp, "hand-made send")
			if ap.Status != http.StatusBadRequest {
				t.Errorf("a hand-made request for an e-mail code answered %d, want 400:\n%s", ap.Status, ap.Body)
			}
			mb.none(t, srv)
			ap, resp = b.post(t, srv.URL+authflow.PathMFA, codeForm(t, p, "mfa-submit", "email", "123456"))
			noCode(t, resp, "hand-made e-mail code")
			if ap.Status != http.StatusBadRequest {
				t.Errorf("a hand-made e-mail code answered %d, want 400", ap.Status)
			}

			// The app still works in the same sign-in.
			_, resp = b.submit(t, p, "mfa-submit", map[string]string{"code": totpCode(t, secret, time.Now().Add(30*time.Second))})
			if amr, _ := m.claims(t, resp, v); !slices.Equal(amr, []string{"pwd", "otp", "mfa"}) {
				t.Errorf("amr = %v, want pwd otp mfa", amr)
			}
		})
	}
}

// TestMFACodeStepUp: a session signed in with the password alone, whose
// user then turned on e-mail codes, needs one: prompt=none answers
// interaction_required, an interactive request sends the code and issues
// amr pwd email mfa.
func TestMFACodeStepUp(t *testing.T) {
	t.Parallel()
	srv, m, mb, _ := codesServer(t, "sqlite")
	srv.createUser(t, "erin", testUserPassword)
	b := newBrowser(t, rpCallback)
	signIn(t, b, m.authURL(oauth2.GenerateVerifier()), "erin", false)
	turnOnCodes(t, m, mb, b, "erin", "email")

	_, resp := b.get(t, m.authURL(oauth2.GenerateVerifier(), "prompt", "none"))
	if q := callbackQuery(t, resp); q.Get("error") != "interaction_required" {
		t.Errorf("prompt=none without the second factor: %v, want error=interaction_required", q)
	}
	v := oauth2.GenerateVerifier()
	p, _ := b.get(t, m.authURL(v))
	mustCodeChallenge(t, p, "Send a code by e-mail")
	p, _ = b.submit(t, p, "mfa-send", nil)
	_, resp = b.submit(t, p, "mfa-submit", map[string]string{"code": mb.next(t, "erin@example.com").code(t)})
	if amr, acr := m.claims(t, resp, v); !slices.Equal(amr, []string{"pwd", "email", "mfa"}) || acr != mfa.ACRMultiFactor {
		t.Errorf("step-up by e-mail code: amr %v acr %q", amr, acr)
	}
}
