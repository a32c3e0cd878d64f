package templates

import (
	"io"
	"strings"
	"testing"

	"golang.org/x/net/html/atom"
)

// scripts returns the src of every <script> on p.
func scripts(p page) []string {
	var out []string
	for _, s := range elements(p.doc, atom.Script) {
		src, _ := attr(s, "src")
		out = append(out, src)
	}
	return out
}

// checkPasskeyForm: a passkey form is hidden until passkey.js shows it,
// names its options endpoint and carries the fields the script fills.
func checkPasskeyForm(t *testing.T, p page, formID, optionsURL string) {
	t.Helper()
	form := p.byID(t, formID)
	if _, hidden := attr(form, "hidden"); !hidden {
		t.Errorf("#%s is shown without the script", formID)
	}
	if got, _ := attr(form, "data-passkey-options"); got != optionsURL {
		t.Errorf("#%s data-passkey-options = %q, want %q", formID, got, optionsURL)
	}
	names := map[string]bool{}
	for _, in := range elements(form, atom.Input) {
		n, _ := attr(in, "name")
		names[n] = true
	}
	for _, want := range []string{"csrf", "ceremony", "credential"} {
		if !names[want] {
			t.Errorf("#%s lacks the %q field", formID, want)
		}
	}
	if got := scripts(p); len(got) != 1 || got[0] != "/static/passkey.js" {
		t.Errorf("scripts = %q, want only /static/passkey.js", got)
	}
}

// TestLoginPasskey: with passkeys the sign-in page offers the passkey
// button and marks the username field for the browser's passkey autofill;
// without, neither, and no script.
func TestLoginPasskey(t *testing.T) {
	r := MustNew(t, testTheme)
	p := mustRender(t, func(w io.Writer) error {
		return r.Login(w, LoginPage{Action: "/login", Flow: "f1", CSRF: csrf,
			PasskeyAction: "/login/passkey", PasskeyOptionsAction: "/login/passkey/options"})
	})
	checkInputs(t, p, map[string]string{"login-username": "username webauthn", "login-password": "current-password"})
	checkForms(t, p)
	checkARIA(t, p)
	checkPasskeyForm(t, p, "login-passkey-form", "/login/passkey/options")
	if got := text(p.byID(t, "login-passkey")); got != "Sign in with a passkey" {
		t.Errorf("passkey button says %q", got)
	}

	p = mustRender(t, func(w io.Writer) error { return r.Login(w, LoginPage{Action: "/login", CSRF: csrf}) })
	checkInputs(t, p, map[string]string{"login-username": "username", "login-password": "current-password"})
	checkNoScript(t, p)
}

// TestSecurityPasskeys: the security section's passkey form has a
// labelled name field, every passkey a labelled rename field and a named
// button, a passkey whose counter went backwards a warning; on an issuer
// reached by IP address the section says why there are no passkeys.
func TestSecurityPasskeys(t *testing.T) {
	r := MustNew(t, testTheme)
	in := testAccountPage(SectionSecurity, nil)
	in.FactorRemoveAction = "/account/security/factors/remove"
	in.Factors = []AccountFactor{
		{ID: "f1", Kind: "Passkey", Name: "Laptop", Added: "1 Jan 2031 10:00 UTC", Passkey: true, CounterWarning: true},
		{ID: "f2", Kind: "Authenticator app", Name: "Authenticator app", Added: "2 Jan 2031 10:00 UTC"},
	}
	in.Passkeys = AccountPasskeys{OptionsAction: "/account/security/passkeys/options", AddAction: "/account/security/passkeys",
		RenameAction: "/account/security/passkeys/rename"}
	p := mustRender(t, func(w io.Writer) error { return r.Account(w, in) })
	checkInputs(t, p, map[string]string{"passkey-name": "off", "passkey-rename-f1": "off"})
	checkForms(t, p)
	checkARIA(t, p)
	checkPasskeyForm(t, p, "passkey-add-form", "/account/security/passkeys/options")
	p.byID(t, "passkey-unsupported")
	p.byID(t, "passkey-warning-f1")
	if _, ok := p.ids["passkey-warning-f2"]; ok {
		t.Error("the authenticator app has a counter warning")
	}
	if _, ok := p.ids["passkey-rename-f2"]; ok {
		t.Error("the authenticator app can be renamed")
	}
	if got, _ := attr(p.byID(t, "passkey-rename-submit-f1"), "aria-label"); got != "Rename Laptop added 1 Jan 2031 10:00 UTC" {
		t.Errorf("rename button's accessible name = %q", got)
	}

	in.Passkeys = AccountPasskeys{Unavailable: "Passkeys cannot be used here."}
	p = mustRender(t, func(w io.Writer) error { return r.Account(w, in) })
	if got := text(p.byID(t, "passkeys-unavailable")); got != "Passkeys cannot be used here." {
		t.Errorf("unavailable note = %q", got)
	}
	if _, ok := p.ids["passkey-add"]; ok {
		t.Error("an unavailable issuer offers adding a passkey")
	}
	checkNoScript(t, p)
}

// TestMFAChallengePasskey: with the passkey method the page offers the
// passkey form and asks for no code; the other methods are links.
func TestMFAChallengePasskey(t *testing.T) {
	r := MustNew(t, testTheme)
	p := mustRender(t, func(w io.Writer) error {
		return r.MFAChallenge(w, MFAChallengePage{Action: "/login/mfa", CSRF: csrf, Flow: "f1",
			Method: MFAMethodPasskey, PasskeyOptionsAction: "/login/mfa/passkey",
			Others: []MFAMethodOption{{Method: MFAMethodRecovery, URL: "/login/mfa?flow=f1&method=recovery"}}})
	})
	checkForms(t, p)
	checkPasskeyForm(t, p, "mfa-passkey-form", "/login/mfa/passkey")
	if _, ok := p.ids["mfa-code"]; ok {
		t.Error("the passkey method asks for a code")
	}
	if got := text(p.byID(t, "mfa-use-recovery")); got != "Use a recovery code" {
		t.Errorf("recovery link = %q", got)
	}
	if _, ok := p.ids["mfa-remember"]; ok {
		t.Error("the remember checkbox is shown without remember_browser")
	}
	// With remembered browsers on, a passkey can remember the browser
	// like a code: the checkbox is in the passkey's form.
	p = mustRender(t, func(w io.Writer) error {
		return r.MFAChallenge(w, MFAChallengePage{Action: "/login/mfa", CSRF: csrf, Flow: "f1",
			Method: MFAMethodPasskey, PasskeyOptionsAction: "/login/mfa/passkey", RememberFor: "30 days"})
	})
	checkForms(t, p)
	if !strings.Contains(p.raw[strings.Index(p.raw, `id="mfa-passkey-form"`):strings.Index(p.raw, `id="mfa-passkey"`)], `id="mfa-remember"`) {
		t.Error("the remember checkbox is not in the passkey's form")
	}
	p = mustRender(t, func(w io.Writer) error {
		return r.MFAChallenge(w, MFAChallengePage{Action: "/login/mfa", CSRF: csrf, Flow: "f1",
			Others: []MFAMethodOption{{Method: MFAMethodPasskey, URL: "/login/mfa?flow=f1&method=passkey"}}})
	})
	p.byID(t, "mfa-code")
	if got := text(p.byID(t, "mfa-use-passkey")); got != "Use a passkey" {
		t.Errorf("passkey link = %q", got)
	}
	if strings.Contains(p.raw, `id="mfa-passkey-form"`) {
		t.Error("the app's method shows the passkey form")
	}
}
