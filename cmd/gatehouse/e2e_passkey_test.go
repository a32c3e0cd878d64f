package main

import (
	"encoding/json"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/descope/virtualwebauthn"
	"github.com/google/uuid"
	"golang.org/x/oauth2"

	"gatehouse/config"
	"gatehouse/identity/audit"
	"gatehouse/identity/mfa"
	"gatehouse/migrations/dbtest"
	"gatehouse/oidc/authflow"
	"gatehouse/oidc/mfapages"
)

// localhost serves the test server as http://localhost:port: browsers
// (and the server) allow passkeys only on a domain name, never on an IP.
func localhost(t testing.TB) func(*config.Config) {
	return func(cfg *config.Config) { onLocalhost(t, cfg) }
}

// softKey is a user's software authenticator with one passkey, doing
// what static/passkey.js and the browser do.
type softKey struct {
	rp   virtualwebauthn.RelyingParty
	auth virtualwebauthn.Authenticator
	cred virtualwebauthn.Credential
}

func newSoftKey(srv *testServer, userID string) *softKey {
	u, _ := url.Parse(srv.URL)
	return &softKey{
		rp:   virtualwebauthn.RelyingParty{ID: u.Hostname(), Name: "Gatehouse", Origin: srv.URL},
		auth: virtualwebauthn.NewAuthenticatorWithOptions(virtualwebauthn.AuthenticatorOptions{UserHandle: []byte(userID)}),
		cred: virtualwebauthn.NewCredential(virtualwebauthn.KeyTypeEC2),
	}
}

// ceremony posts the form of buttonID's CSRF token (and flow) to the
// options endpoint, as passkey.js does, and returns the ceremony, the
// options and the form's action and values.
func ceremony(t testing.TB, b *browser, p *page, buttonID, optionsPath string) (string, string, string, url.Values) {
	t.Helper()
	action, values, _ := findForm(t, p, buttonID)
	form := url.Values{"csrf": {values.Get("csrf")}}
	if f := values.Get("flow"); f != "" {
		form.Set("flow", f)
	}
	target, _ := p.URL.Parse(optionsPath)
	resp, err := b.PostForm(target.String(), form)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var o struct {
		Ceremony  string          `json:"ceremony"`
		PublicKey json.RawMessage `json:"publicKey"`
	}
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("options %s answered %d", optionsPath, resp.StatusCode)
	}
	if err := json.NewDecoder(resp.Body).Decode(&o); err != nil || o.Ceremony == "" {
		t.Fatalf("options %s: %v %+v", optionsPath, err, o)
	}
	return o.Ceremony, string(o.PublicKey), action, values
}

// register adds the passkey through the form with #passkey-add on p.
func (k *softKey) register(t testing.TB, b *browser, p *page, name string) *page {
	t.Helper()
	id, options, action, values := ceremony(t, b, p, "passkey-add", mfapages.PathPasskeyOptions)
	opts, err := virtualwebauthn.ParseAttestationOptions(options)
	if err != nil {
		t.Fatal(err)
	}
	values.Set("name", name)
	values.Set("ceremony", id)
	values.Set("credential", virtualwebauthn.CreateAttestationResponse(k.rp, k.auth, k.cred, *opts))
	target, _ := p.URL.Parse(action)
	got, _ := b.post(t, target.String(), values)
	return got
}

// assert answers the passkey form with buttonID on p through rp (the
// origin the browser was on) and returns what the server answered.
func (k *softKey) assert(t testing.TB, b *browser, p *page, buttonID, optionsPath string, rp virtualwebauthn.RelyingParty) (*page, *http.Response) {
	t.Helper()
	target, values := k.answer(t, b, p, buttonID, optionsPath, rp)
	return b.post(t, target, values)
}

// answer is assert without the post: the form's target and values.
func (k *softKey) answer(t testing.TB, b *browser, p *page, buttonID, optionsPath string, rp virtualwebauthn.RelyingParty) (string, url.Values) {
	t.Helper()
	id, options, action, values := ceremony(t, b, p, buttonID, optionsPath)
	opts, err := virtualwebauthn.ParseAssertionOptions(options)
	if err != nil {
		t.Fatal(err)
	}
	k.cred.Counter++
	values.Set("ceremony", id)
	values.Set("credential", virtualwebauthn.CreateAssertionResponse(rp, k.auth, k.cred, *opts))
	target, _ := p.URL.Parse(action)
	return target.String(), values
}

// wantPasskeyClaims: a passkey that verified the user is phishing
// resistant and multi-factor on its own.
func wantPasskeyClaims(t testing.TB, what string, amr []string, acr string, first ...mfa.Method) {
	t.Helper()
	used := append(first, mfa.Method{Kind: mfa.MethodPasskey, UserVerified: true})
	if want := mfa.AMR(used); !slices.Equal(amr, want) || acr != mfa.ACRPhishingResistant {
		t.Errorf("%s: amr %v acr %q, want %v %q", what, amr, acr, want, mfa.ACRPhishingResistant)
	}
}

// TestPasskeySecondFactor: a user adds a passkey from the security
// section (recovery codes come with it, the first factor), renames it,
// and then signs in with the password and the passkey: the ID token says
// amr pwd swk user mfa and acr phr, and a later acr_values=phr is met by
// that session without a new challenge. An assertion made on another
// origin (a phishing page relaying the challenge) is refused; so is one
// whose counter went backwards (a cloned key), which is audited and
// warned of on the security page. That fresh passkey session may remove
// the passkey. Every change is audited and mailed.
func TestPasskeySecondFactor(t *testing.T) {
	t.Parallel()
	for _, dialect := range dbtest.Dialects {
		t.Run(dialect, func(t *testing.T) {
			t.Parallel()
			mb := startMailbox(t)
			srv := startServer(t, dialect, func(cfg *config.Config) {
				withDelivery(mb, nil, false)(cfg)
				onLocalhost(t, cfg)
			})
			m := newMFAClient(t, srv)
			u := srv.createUser(t, "ada", testUserPassword)
			audited := func(action, what string) {
				t.Helper()
				entries, err := srv.App.Audit.List(t.Context(), audit.Filter{UserID: u.ID, Action: action})
				if err != nil || len(entries) != 1 {
					t.Errorf("%s: %s audit entries = %+v, %v; want one", what, action, entries, err)
				}
			}
			mailed := func(text, what string) {
				t.Helper()
				if got := mb.next(t, "ada@example.com"); !strings.Contains(got.Text, text) {
					t.Errorf("%s: mail %q lacks %q:\n%s", what, got.Subject, text, got.Text)
				}
			}
			b := newBrowser(t, rpCallback)
			signIn(t, b, m.authURL(oauth2.GenerateVerifier()), "ada", false)
			key := newSoftKey(srv, u.ID)

			p, _ := b.get(t, srv.URL+"/account?section=security")
			mustContain(t, p.Body, `<label for="passkey-name">Passkey name</label>`, "passkey name label")
			mustContain(t, p.Body, `src="/static/passkey.js"`, "passkey script")
			p = key.register(t, b, p, "Laptop")
			if n := len(recoveryCodeRE.FindAllString(p.Body, -1)); n != 10 {
				t.Fatalf("adding the first passkey showed %d recovery codes, want 10 (status %d):\n%s", n, p.Status, p.Body)
			}
			mustContain(t, p.Body, "Your passkey is added.", "passkey notice")
			audited(audit.ActionMFAEnabled, "passkey added")
			mailed("A passkey was added to your", "passkey added")
			p, _ = b.get(t, srv.URL+"/account?section=security")
			mustContain(t, p.Body, "<td>Laptop<br><small>Passkey</small>", "passkey in the factor list")
			id := factorID(t, srv, u.ID)
			p, _ = b.submit(t, p, "passkey-rename-submit-"+id, map[string]string{"name": "Work laptop"})
			mustContain(t, p.Body, "<td>Work laptop<br><small>Passkey</small>", "renamed passkey")
			audited(audit.ActionMFARenamed, "passkey renamed")
			mailed("A passkey of your Gatehouse account was renamed.", "passkey renamed")

			pb := newBrowser(t, rpCallback)
			v := oauth2.GenerateVerifier()
			p, _ = m.password(t, pb, "ada", v)
			if p.URL.Path != authflow.PathMFA {
				t.Fatalf("password led to %s, want the second-factor page:\n%s", p.URL, p.Body)
			}
			mustContain(t, p.Body, `id="mfa-passkey"`, "Use a passkey")
			_, resp := key.assert(t, pb, p, "mfa-passkey", authflow.PathMFAPasskey, key.rp)
			amr, acr := m.claims(t, resp, v)
			wantPasskeyClaims(t, "password + passkey", amr, acr, mfa.Method{Kind: mfa.MethodPassword})

			// The passkey session meets acr_values=phr as it is.
			v = oauth2.GenerateVerifier()
			_, resp = pb.get(t, m.authURL(v, "acr_values", mfa.ACRPhishingResistant))
			amr, acr = m.claims(t, resp, v)
			wantPasskeyClaims(t, "acr_values=phr on the passkey session", amr, acr, mfa.Method{Kind: mfa.MethodPassword})

			// A response signed for another origin is refused.
			eb := newBrowser(t, rpCallback)
			p, _ = m.password(t, eb, "ada", oauth2.GenerateVerifier())
			evil := key.rp
			evil.Origin = "http://evil.example"
			p, resp = key.assert(t, eb, p, "mfa-passkey", authflow.PathMFAPasskey, evil)
			noCode(t, resp, "wrong-origin assertion")
			if p.Status != http.StatusUnprocessableEntity {
				t.Errorf("wrong-origin assertion answered %d, want 422:\n%s", p.Status, p.Body)
			}
			mustContain(t, p.Body, "Signing in with your passkey did not work", "refused passkey message")

			// A clone lagging behind the original.
			cb := newBrowser(t, rpCallback)
			p, _ = m.password(t, cb, "ada", oauth2.GenerateVerifier())
			key.cred.Counter = 0
			p, resp = key.assert(t, cb, p, "mfa-passkey", authflow.PathMFAPasskey, key.rp)
			noCode(t, resp, "assertion with a counter that went backwards")
			if p.Status != http.StatusUnprocessableEntity {
				t.Errorf("counter regression answered %d, want 422", p.Status)
			}
			audited(audit.ActionMFACounterRegression, "counter regression")
			p, _ = pb.get(t, srv.URL+"/account?section=security")
			mustContain(t, p.Body, `id="passkey-warning-`+id+`"`, "counter warning on the security page")

			// The passkey session is a fresh second-factor sign-in.
			p, _ = pb.submit(t, p, "factor-remove-"+id, nil)
			if p.URL.Path != "/account" || strings.Contains(p.Body, `id="mfa-factor-`+id+`"`) {
				t.Fatalf("removing the passkey led to %s:\n%s", p.URL, p.Body)
			}
			audited(audit.ActionMFADisabled, "passkey removed")
			mailed("A second factor was removed", "passkey removed")
		})
	}
}

// factorID is the ID of the user's only factor.
func factorID(t testing.TB, srv *testServer, userID string) string {
	t.Helper()
	fs, err := srv.App.MFA.ListFactors(t.Context(), userID)
	if err != nil || len(fs) != 1 {
		t.Fatalf("ListFactors = %d factors, %v; want 1", len(fs), err)
	}
	return fs[0].ID
}

// TestPasskeyEnrolForPhr: a relying party asking for acr_values=phr of a
// user without a passkey leads them, after the password, to add one; the
// flow then asks for it and issues acr phr.
func TestPasskeyEnrolForPhr(t *testing.T) {
	t.Parallel()
	for _, dialect := range dbtest.Dialects {
		t.Run(dialect, func(t *testing.T) {
			t.Parallel()
			srv := startServer(t, dialect, localhost(t))
			m := newMFAClient(t, srv)
			u := srv.createUser(t, "dave", testUserPassword)
			key := newSoftKey(srv, u.ID)
			b := newBrowser(t, rpCallback)
			v := oauth2.GenerateVerifier()
			p, resp := m.password(t, b, "dave", v, "acr_values", mfa.ACRPhishingResistant)
			noCode(t, resp, "password alone")
			if p.URL.Path != mfapages.PathTOTP || p.URL.Query().Get("flow") == "" {
				t.Fatalf("password with acr_values=phr led to %s (status %d), want the enrolment page:\n%s", p.URL, p.Status, p.Body)
			}
			// An app would not meet phr, so the page does not offer one.
			if strings.Contains(p.Body, `id="totp-setup"`) || !strings.Contains(p.Body, `id="passkey-add"`) {
				t.Errorf("the enrolment page for phr offers an app, or no passkey:\n%s", p.Body)
			}
			p = key.register(t, b, p, "Phone")
			p, _ = b.get(t, findLink(t, p, "recovery-codes-continue"))
			if p.URL.Path != authflow.PathMFA {
				t.Fatalf("after adding the passkey the flow led to %s, want the second-factor page:\n%s", p.URL, p.Body)
			}
			_, resp = key.assert(t, b, p, "mfa-passkey", authflow.PathMFAPasskey, key.rp)
			amr, acr := m.claims(t, resp, v)
			wantPasskeyClaims(t, "after enrolment in the flow", amr, acr, mfa.Method{Kind: mfa.MethodPassword})
		})
	}
}

// TestPasskeyIPIssuer: on an issuer reached by IP address the security
// section offers no passkey and says why, and a user whose only factor
// is a passkey is asked for a recovery code.
func TestPasskeyIPIssuer(t *testing.T) {
	t.Parallel()
	srv := startServer(t, dbtest.Dialects[0], nil)
	m := newMFAClient(t, srv)
	u := srv.createUser(t, "ada", testUserPassword)
	b := newBrowser(t, rpCallback)
	signIn(t, b, m.authURL(oauth2.GenerateVerifier()), "ada", false)
	p, _ := b.get(t, srv.URL+"/account?section=security")
	mustContain(t, p.Body, `id="passkeys-unavailable"`, "why passkeys are missing")
	if strings.Contains(p.Body, `id="passkey-add"`) {
		t.Errorf("the security section of an IP issuer offers a passkey:\n%s", p.Body)
	}

	now := time.Now()
	f := &mfa.Factor{ID: uuid.NewString(), UserID: u.ID, Kind: mfa.KindWebAuthn, Name: "Laptop", CreatedAt: now, ConfirmedAt: &now,
		WebAuthn: &mfa.WebAuthnCredential{ID: []byte("credential"), PublicKey: []byte("key")}}
	if err := srv.App.MFA.Factors.CreateFactor(t.Context(), f); err != nil {
		t.Fatal(err)
	}
	// The passkey came with recovery codes, as every first factor does.
	if _, err := srv.App.MFA.RegenerateRecoveryCodes(t.Context(), u.ID); err != nil {
		t.Fatal(err)
	}
	p, _ = m.password(t, newBrowser(t, rpCallback), "ada", oauth2.GenerateVerifier())
	mustContain(t, p.Body, `name="recovery_code"`, "recovery code form")
	if strings.Contains(p.Body, `id="mfa-passkey"`) || strings.Contains(p.Body, `id="mfa-use-passkey"`) {
		t.Errorf("the challenge of an IP issuer offers a passkey:\n%s", p.Body)
	}
}

// passkeyUser creates a user who added a passkey from the security
// section, and returns it.
func passkeyUser(t testing.TB, srv *testServer, m *mfaClient, username string) (string, *softKey) {
	t.Helper()
	u := srv.createUser(t, username, testUserPassword)
	b := newBrowser(t, rpCallback)
	signIn(t, b, m.authURL(oauth2.GenerateVerifier()), username, false)
	key := newSoftKey(srv, u.ID)
	p, _ := b.get(t, srv.URL+"/account?section=security")
	if p = key.register(t, b, p, "Laptop"); p.Status != http.StatusOK {
		t.Fatalf("adding the passkey answered %d:\n%s", p.Status, p.Body)
	}
	return u.ID, key
}

// TestPasskeyPasswordless: "Sign in with a passkey" on the login page is
// a first factor that continues the flow like a password, here up to an
// ID token with acr phr that acr_values=phr asked for; and on the page
// itself up to the account area. A response for another origin, and any
// passkey of a disabled or locked account, get one generic refusal and
// no code.
func TestPasskeyPasswordless(t *testing.T) {
	t.Parallel()
	for _, dialect := range dbtest.Dialects {
		t.Run(dialect, func(t *testing.T) {
			t.Parallel()
			srv := startServer(t, dialect, localhost(t))
			m := newMFAClient(t, srv)
			adaID, key := passkeyUser(t, srv, m, "ada")

			b := newBrowser(t, rpCallback)
			v := oauth2.GenerateVerifier()
			p, _ := b.get(t, m.authURL(v, "acr_values", mfa.ACRPhishingResistant))
			if p.URL.Path != "/login" {
				t.Fatalf("authorize led to %s, want the login page", p.URL)
			}
			mustContain(t, p.Body, `autocomplete="username webauthn"`, "conditional UI on the username field")
			mustContain(t, p.Body, `id="login-passkey"`, "Sign in with a passkey")
			_, resp := key.assert(t, b, p, "login-passkey", authflow.PathPasskeyOptions, key.rp)
			amr, acr := m.claims(t, resp, v)
			wantPasskeyClaims(t, "passwordless with acr_values=phr", amr, acr)

			direct := newBrowser(t, rpCallback)
			p, _ = direct.get(t, srv.URL+"/login?next=/account")
			p, _ = key.assert(t, direct, p, "login-passkey", authflow.PathPasskeyOptions, key.rp)
			if p.URL.Path != "/account" || p.Status != http.StatusOK {
				t.Fatalf("passwordless on the login page led to %s (status %d), want /account", p.URL, p.Status)
			}

			// A sign-in's answer works once, and only in the browser that
			// began it: sent again, or from another browser (with its
			// own CSRF token), it is refused.
			for _, replay := range []string{"same browser", "other browser"} {
				rb := newBrowser(t, rpCallback)
				p, _ := rb.get(t, m.authURL(oauth2.GenerateVerifier()))
				target, values := key.answer(t, rb, p, "login-passkey", authflow.PathPasskeyOptions, key.rp)
				if replay == "same browser" {
					if _, resp := rb.post(t, target, values); resp.StatusCode != http.StatusSeeOther {
						t.Fatalf("the first answer was refused: %d", resp.StatusCode)
					}
					// Signing in renews the CSRF token and ends the flow:
					// send the new token, as a sign-in on the page itself,
					// so that only the used challenge can refuse it.
					p, _ = rb.get(t, srv.URL+"/login")
					_, fresh, _ := findForm(t, p, "login-submit")
					values.Set("csrf", fresh.Get("csrf"))
					values.Del("flow")
				} else {
					rb = newBrowser(t, rpCallback)
					p, _ = rb.get(t, m.authURL(oauth2.GenerateVerifier()))
					_, own, _ := findForm(t, p, "login-passkey")
					values.Set("csrf", own.Get("csrf"))
					target = strings.Replace(target, values.Get("flow"), own.Get("flow"), 1)
					values.Set("flow", own.Get("flow"))
				}
				p, resp := rb.post(t, target, values)
				noCode(t, resp, "answer replayed in the "+replay)
				if p.Status != http.StatusUnprocessableEntity {
					t.Errorf("answer replayed in the %s answered %d, want 422:\n%s", replay, p.Status, p.Body)
				}
			}
			// Refused for its challenge, before its counter was looked at.
			if entries, err := srv.App.Audit.List(t.Context(), audit.Filter{UserID: adaID, Action: audit.ActionMFACounterRegression}); err != nil || len(entries) != 0 {
				t.Errorf("replayed answers reached the counter check: %d entries, %v", len(entries), err)
			}

			refused := func(what string, rp virtualwebauthn.RelyingParty) {
				t.Helper()
				rb := newBrowser(t, rpCallback)
				p, _ := rb.get(t, m.authURL(oauth2.GenerateVerifier()))
				p, resp := key.assert(t, rb, p, "login-passkey", authflow.PathPasskeyOptions, rp)
				noCode(t, resp, what)
				if p.Status != http.StatusUnprocessableEntity {
					t.Errorf("%s answered %d, want 422:\n%s", what, p.Status, p.Body)
				}
				mustContain(t, p.Body, "Signing in with a passkey did not work.", what)
			}
			evil := key.rp
			evil.Origin = "http://evil.example"
			refused("wrong-origin passwordless assertion", evil)
			db := srv.App.DB.Gorm()
			if err := db.Exec("UPDATE users SET locked_permanently = ? WHERE id = ?", true, adaID).Error; err != nil {
				t.Fatal(err)
			}
			refused("passkey of a locked account", key.rp)
			if err := db.Exec("UPDATE users SET locked_permanently = ?, status = ? WHERE id = ?", false, "disabled", adaID).Error; err != nil {
				t.Fatal(err)
			}
			refused("passkey of a disabled account", key.rp)
		})
	}
}

// TestPasskeyRateLimit: the passwordless routes, which need no login
// name and store a ceremony per request, share one budget per address;
// past it the options answer 429 in JSON and the sign-in 429 too.
func TestPasskeyRateLimit(t *testing.T) {
	t.Parallel()
	srv := startServer(t, dbtest.Dialects[0], func(cfg *config.Config) {
		onLocalhost(t, cfg)
		cfg.RateLimits.LoginPerIP = "3/1m"
	})
	b := newBrowser(t, rpCallback)
	p, _ := b.get(t, srv.URL+"/login")
	_, values, _ := findForm(t, p, "login-passkey")
	form := url.Values{"csrf": {values.Get("csrf")}}
	for i := range 3 {
		resp, err := b.PostForm(srv.URL+authflow.PathPasskeyOptions, form)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != http.StatusOK {
			t.Fatalf("options request %d answered %d, want 200", i+1, resp.StatusCode)
		}
	}
	resp, err := b.PostForm(srv.URL+authflow.PathPasskeyOptions, form)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusTooManyRequests || !strings.HasPrefix(resp.Header.Get("Content-Type"), "application/json") {
		t.Errorf("options past the limit answered %d %s, want 429 JSON", resp.StatusCode, resp.Header.Get("Content-Type"))
	}
	if p, _ := b.post(t, srv.URL+authflow.PathPasskeyLogin, form); p.Status != http.StatusTooManyRequests {
		t.Errorf("passkey sign-in past the limit answered %d, want 429", p.Status)
	}
}
