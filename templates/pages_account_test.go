package templates

import (
	"io"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"golang.org/x/net/html/atom"
)

var testAccountUser = AccountUser{
	Username: "ada", GivenName: "Ada", FamilyName: "Lovelace", MiddleName: "King", Nickname: "Countess",
	Picture: "https://img.example/ada.png", Website: "https://ada.example", Gender: "female", Birthdate: "1815-12-10",
	Locale: "en", Zoneinfo: "Europe/London",
	Address: AccountAddress{Street: "12 St James's Square", Locality: "London", Region: "Greater London", PostalCode: "SW1Y 4JH", Country: "United Kingdom"},
	Email:   "ada@example.com", PendingEmail: "ada@new.example",
	Phone: "+447700900123", PhoneVerified: true, PendingPhone: "+447700900456",
}

// testAccountPage is a fully wired account page showing section.
func testAccountPage(section string, errs map[string]string) AccountPage {
	return AccountPage{
		Section: section, CSRF: csrf, Notice: "Saved.", Errors: errs, User: testAccountUser,
		ProfileAction: "/account/profile", EmailAction: "/account/email", EmailCodeAction: "/account/email/code",
		ResendEmailAction: "/account/email/resend", PhoneAction: "/account/phone", PhoneCodeAction: "/account/phone/code",
		PasswordAction: "/account/password", PreferencesAction: "/account/preferences", LogoutURL: "/oauth2/logout",
	}
}

func TestAccountNav(t *testing.T) {
	r := MustNew(t, testTheme)
	tests := []struct {
		section     string
		url         string
		wantH1      string
		wantCurrent string
		wantBase    string
	}{
		{section: SectionProfile, wantH1: "Profile", wantCurrent: "account-nav-profile", wantBase: "/account"},
		{section: SectionContact, wantH1: "Email and phone", wantCurrent: "account-nav-contact", wantBase: "/account"},
		{section: SectionPassword, wantH1: "Password", wantCurrent: "account-nav-password", wantBase: "/account"},
		{section: SectionPreferences, url: "/me", wantH1: "Preferences", wantCurrent: "account-nav-preferences", wantBase: "/me"},
		{section: "", wantH1: "Profile", wantCurrent: "account-nav-profile", wantBase: "/account"},
		{section: "sessions", wantH1: "Sessions", wantCurrent: "account-nav-sessions", wantBase: "/account"},
		{section: "no-such-section", wantH1: "Profile", wantCurrent: "account-nav-profile", wantBase: "/account"},
	}
	for _, tc := range tests {
		t.Run("section "+tc.section, func(t *testing.T) {
			in := testAccountPage(tc.section, nil)
			in.URL = tc.url
			p := mustRender(t, func(w io.Writer) error { return r.Account(w, in) })
			if got := text(p.first(t, atom.H1)); got != tc.wantH1 {
				t.Errorf("h1 = %q, want %q", got, tc.wantH1)
			}
			nav := p.first(t, atom.Nav)
			if label, _ := attr(nav, "aria-label"); label != "Account" {
				t.Errorf("nav aria-label = %q, want Account", label)
			}
			type link struct{ ID, Href, Text, Current string }
			var got []link
			for _, a := range elements(nav, atom.A) {
				var l link
				l.ID, _ = attr(a, "id")
				l.Href, _ = attr(a, "href")
				l.Current, _ = attr(a, "aria-current")
				l.Text = text(a)
				got = append(got, l)
			}
			want := []link{
				{ID: "account-nav-profile", Href: tc.wantBase + "?section=profile", Text: "Profile"},
				{ID: "account-nav-contact", Href: tc.wantBase + "?section=contact", Text: "Email and phone"},
				{ID: "account-nav-password", Href: tc.wantBase + "?section=password", Text: "Password"},
				{ID: "account-nav-preferences", Href: tc.wantBase + "?section=preferences", Text: "Preferences"},
				{ID: "account-nav-sessions", Href: tc.wantBase + "?section=sessions", Text: "Sessions"},
				{ID: "account-nav-security", Href: tc.wantBase + "?section=security", Text: "Security"},
				{ID: "account-logout", Href: "/oauth2/logout", Text: "Sign out"},
			}
			for i := range want {
				if want[i].ID == tc.wantCurrent {
					want[i].Current = "page"
				}
			}
			if diff := cmp.Diff(want, got); diff != "" {
				t.Errorf("nav mismatch (-want +got):\n%s", diff)
			}
			checkNotice(t, p, "Saved.")
		})
	}
}

func TestAccountOptionalParts(t *testing.T) {
	r := MustNew(t, testTheme)
	p := mustRender(t, func(w io.Writer) error { return r.Account(w, AccountPage{CSRF: csrf}) })
	checkAbsent(t, p, "notice", "account-logout", "account-error")
}

func TestAccountProfile(t *testing.T) {
	r := MustNew(t, testTheme)
	p := mustRender(t, func(w io.Writer) error {
		return r.Account(w, testAccountPage(SectionProfile, map[string]string{
			"username": "That username is taken.", "formatted_address": "Address is too long.",
		}))
	})
	if diff := cmp.Diff([]string{"/account/profile"}, formActions(p)); diff != "" {
		t.Errorf("form actions mismatch (-want +got):\n%s", diff)
	}
	type input struct{ Name, Type, Value string }
	var got []input
	for _, in := range elements(p.first(t, atom.Form), atom.Input) {
		var i input
		i.Name, _ = attr(in, "name")
		i.Type, _ = attr(in, "type")
		i.Value, _ = attr(in, "value")
		got = append(got, i)
	}
	want := []input{
		{"csrf", "hidden", csrf},
		{"given_name", "text", "Ada"},
		{"middle_name", "text", "King"},
		{"family_name", "text", "Lovelace"},
		{"nickname", "text", "Countess"},
		{"username", "text", "ada"},
		{"picture", "url", "https://img.example/ada.png"},
		{"website", "url", "https://ada.example"},
		{"gender", "text", "female"},
		{"birthdate", "date", "1815-12-10"},
		{"street_address", "text", "12 St James's Square"},
		{"locality", "text", "London"},
		{"region", "text", "Greater London"},
		{"postal_code", "text", "SW1Y 4JH"},
		{"country", "text", "United Kingdom"},
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("profile inputs mismatch (-want +got):\n%s", diff)
	}
	if got := text(p.first(t, atom.Legend)); got != "Address" {
		t.Errorf("legend = %q, want Address", got)
	}
	un := p.byID(t, "account-username")
	if db, _ := attr(un, "aria-describedby"); db != "username-error" {
		t.Errorf("username aria-describedby = %q, want username-error", db)
	}
	if got, want := text(p.byID(t, "username-error")), "That username is taken."; got != want {
		t.Errorf("username-error = %q, want %q", got, want)
	}
	// formatted_address has no input on the form: its message goes above.
	if got, want := text(p.byID(t, "account-error")), "Address is too long."; got != want {
		t.Errorf("account-error = %q, want %q", got, want)
	}
	if got, want := text(p.byID(t, "profile-save")), "Save profile"; got != want {
		t.Errorf("profile-save = %q, want %q", got, want)
	}
}

func TestAccountBirthdate(t *testing.T) {
	r := MustNew(t, testTheme)
	tests := []struct {
		value    string
		wantType string
		wantHint bool
	}{
		{value: "", wantType: "date"},
		{value: "1815-12-10", wantType: "date"},
		// A date input would post these back empty and erase them.
		{value: "1815", wantType: "text", wantHint: true},
		{value: "0000-12-10", wantType: "text", wantHint: true},
	}
	for _, tc := range tests {
		t.Run(tc.value, func(t *testing.T) {
			in := testAccountPage(SectionProfile, nil)
			in.User.Birthdate = tc.value
			p := mustRender(t, func(w io.Writer) error { return r.Account(w, in) })
			el := p.byID(t, "account-birthdate")
			typ, _ := attr(el, "type")
			val, _ := attr(el, "value")
			if typ != tc.wantType || val != tc.value {
				t.Errorf("birthdate type=%q value=%q, want type=%q value=%q", typ, val, tc.wantType, tc.value)
			}
			if _, ok := p.ids["birthdate-hint"]; ok != tc.wantHint {
				t.Errorf("birthdate-hint present = %v, want %v", ok, tc.wantHint)
			}
		})
	}
}

func TestAccountContact(t *testing.T) {
	r := MustNew(t, testTheme)
	tests := []struct {
		name        string
		user        AccountUser
		wantBadges  map[string]string // id → text
		wantActions []string
		wantIDs     []string
		notWant     []string
	}{
		{
			name:        "unverified with changes pending",
			user:        testAccountUser,
			wantBadges:  map[string]string{"email-status": "Not verified", "phone-status": "Verified"},
			wantActions: []string{"/account/email/resend", "/account/email/code", "/account/email", "/account/phone/code", "/account/phone"},
			wantIDs:     []string{"email-resend", "email-code-submit", "email-change", "phone-code-submit", "phone-save"},
		},
		{
			name:        "verified, nothing pending",
			user:        AccountUser{Username: "ada", Email: "ada@example.com", EmailVerified: true, Phone: "+447700900123"},
			wantBadges:  map[string]string{"email-status": "Verified", "phone-status": "Not verified"},
			wantActions: []string{"/account/email", "/account/phone"},
			wantIDs:     []string{"email-change", "phone-save"},
			notWant:     []string{"email-resend", "email-code-submit", "account-email_code", "phone-code-submit", "account-phone_code"},
		},
		{
			name:        "no phone",
			user:        AccountUser{Username: "ada", Email: "ada@example.com", EmailVerified: true},
			wantBadges:  map[string]string{"email-status": "Verified"},
			wantActions: []string{"/account/email", "/account/phone"},
			notWant:     []string{"phone-status"},
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			in := testAccountPage(SectionContact, nil)
			in.User = tc.user
			p := mustRender(t, func(w io.Writer) error { return r.Account(w, in) })
			got := map[string]string{}
			for _, el := range elements(p.doc, atom.Span) {
				if id, _ := attr(el, "id"); strings.HasSuffix(id, "-status") {
					got[id] = text(el)
				}
			}
			if diff := cmp.Diff(tc.wantBadges, got); diff != "" {
				t.Errorf("badges mismatch (-want +got):\n%s", diff)
			}
			if diff := cmp.Diff(tc.wantActions, formActions(p)); diff != "" {
				t.Errorf("form actions mismatch (-want +got):\n%s", diff)
			}
			for _, id := range tc.wantIDs {
				p.byID(t, id)
			}
			checkAbsent(t, p, tc.notWant...)
			checkForms(t, p)
			checkARIA(t, p)
		})
	}
}

func TestAccountContactForms(t *testing.T) {
	r := MustNew(t, testTheme)
	p := mustRender(t, func(w io.Writer) error {
		return r.Account(w, testAccountPage(SectionContact, map[string]string{
			"new_email": "Enter a valid email address.", "phone_code": "That code is not right or has expired.",
		}))
	})
	// Each button submits the form that holds its own input.
	type control struct{ Button, Input, InputName, InputType, Form string }
	pairs := [][2]string{
		{"email-code-submit", "account-email_code"},
		{"email-change", "account-new_email"},
		{"phone-code-submit", "account-phone_code"},
		{"phone-save", "account-phone"},
	}
	var got []control
	for _, pr := range pairs {
		b, in := p.byID(t, pr[0]), p.byID(t, pr[1])
		if enclosingForm(b) != enclosingForm(in) {
			t.Errorf("%s and %s are in different forms", pr[0], pr[1])
		}
		var c control
		c.Button, c.Input = text(b), pr[1]
		c.InputName, _ = attr(in, "name")
		c.InputType, _ = attr(in, "type")
		c.Form, _ = attr(enclosingForm(b), "action")
		got = append(got, c)
	}
	want := []control{
		{"Confirm new email", "account-email_code", "code", "text", "/account/email/code"},
		{"Change email", "account-new_email", "new_email", "email", "/account/email"},
		{"Confirm phone number", "account-phone_code", "code", "text", "/account/phone/code"},
		{"Send code", "account-phone", "phone", "tel", "/account/phone"},
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("contact forms mismatch (-want +got):\n%s", diff)
	}
	state := map[string]string{}
	for _, id := range []string{"account-email_code", "account-new_email", "account-phone_code", "account-phone"} {
		state[id], _ = attr(p.byID(t, id), "aria-describedby")
	}
	wantState := map[string]string{
		"account-email_code": "email_code-hint",
		"account-new_email":  "new_email-error",
		"account-phone_code": "phone_code-error phone_code-hint",
		"account-phone":      "phone-hint",
	}
	if diff := cmp.Diff(wantState, state); diff != "" {
		t.Errorf("aria-describedby mismatch (-want +got):\n%s", diff)
	}
	if got := text(p.byID(t, "email-pending")); got != "ada@new.example" {
		t.Errorf("email-pending = %q, want ada@new.example", got)
	}
	if got := text(p.byID(t, "phone-pending")); got != "+447700900456" {
		t.Errorf("phone-pending = %q, want +447700900456", got)
	}
}

func TestAccountPassword(t *testing.T) {
	r := MustNew(t, testTheme)
	in := testAccountPage(SectionPassword, map[string]string{"new_password": "Password is too common."})
	in.PasswordMinLength = 10
	p := mustRender(t, func(w io.Writer) error { return r.Account(w, in) })
	if diff := cmp.Diff([]string{"/account/password"}, formActions(p)); diff != "" {
		t.Errorf("form actions mismatch (-want +got):\n%s", diff)
	}
	// The hidden username tells password managers whose password changes.
	un := p.byID(t, "password-username")
	gotUser := map[string]string{}
	for _, k := range []string{"name", "value", "autocomplete", "hidden"} {
		gotUser[k], _ = attr(un, k)
	}
	if diff := cmp.Diff(map[string]string{"name": "username", "value": "ada", "autocomplete": "username", "hidden": ""}, gotUser); diff != "" {
		t.Errorf("username input mismatch (-want +got):\n%s", diff)
	}
	if enclosingForm(un) != enclosingForm(p.byID(t, "account-new_password")) {
		t.Errorf("username is not in the password form")
	}
	got := map[string]map[string]string{}
	for _, id := range []string{"account-current_password", "account-new_password"} {
		m := map[string]string{}
		for _, k := range []string{"name", "type", "minlength", "aria-invalid", "aria-describedby"} {
			m[k], _ = attr(p.byID(t, id), k)
		}
		got[id] = m
	}
	want := map[string]map[string]string{
		"account-current_password": {"name": "current_password", "type": "password", "minlength": "", "aria-invalid": "", "aria-describedby": ""},
		"account-new_password": {"name": "new_password", "type": "password", "minlength": "10", "aria-invalid": "true",
			"aria-describedby": "new_password-error new_password-hint"},
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("password inputs mismatch (-want +got):\n%s", diff)
	}
	if got, want := text(p.byID(t, "password-save")), "Change password"; got != want {
		t.Errorf("password-save = %q, want %q", got, want)
	}
}

func TestAccountPreferences(t *testing.T) {
	r := MustNew(t, testTheme)
	tests := []struct {
		locale       string
		wantSelected string
		wantOptions  int
	}{
		{locale: "", wantSelected: "", wantOptions: 10},
		{locale: "de", wantSelected: "de", wantOptions: 10},
		{locale: "JA", wantSelected: "ja", wantOptions: 10},
		// A locale not on the list stays selectable and selected.
		{locale: "en-GB", wantSelected: "en-GB", wantOptions: 11},
	}
	for _, tc := range tests {
		t.Run(tc.locale, func(t *testing.T) {
			in := testAccountPage(SectionPreferences, nil)
			in.User.Locale, in.User.Zoneinfo = tc.locale, "Pacific/Chatham"
			p := mustRender(t, func(w io.Writer) error { return r.Account(w, in) })
			if diff := cmp.Diff([]string{"/account/preferences"}, formActions(p)); diff != "" {
				t.Errorf("form actions mismatch (-want +got):\n%s", diff)
			}
			sel := p.byID(t, "account-locale")
			if name, _ := attr(sel, "name"); name != "locale" {
				t.Errorf("select name = %q, want locale", name)
			}
			opts := elements(sel, atom.Option)
			var selected []string
			values := map[string]bool{}
			for _, o := range opts {
				v, _ := attr(o, "value")
				values[v] = true
				if _, ok := attr(o, "selected"); ok {
					selected = append(selected, v)
				}
			}
			if diff := cmp.Diff([]string{tc.wantSelected}, selected); diff != "" {
				t.Errorf("selected options mismatch (-want +got):\n%s", diff)
			}
			if len(opts) != tc.wantOptions {
				t.Errorf("%d options, want %d", len(opts), tc.wantOptions)
			}
			for _, l := range []string{"en", "de", "fr", "es", "it", "nl", "pt", "ja", "zh"} {
				if !values[l] {
					t.Errorf("no option %q", l)
				}
			}
			zone := p.byID(t, "account-zoneinfo")
			if v, _ := attr(zone, "value"); v != "Pacific/Chatham" {
				t.Errorf("zoneinfo value = %q, want Pacific/Chatham", v)
			}
			if list, _ := attr(zone, "list"); list != "zoneinfo-options" || p.byID(t, list).DataAtom != atom.Datalist {
				t.Errorf("zoneinfo list = %q, want the zoneinfo-options datalist", list)
			}
			if got, want := text(p.byID(t, "preferences-save")), "Save preferences"; got != want {
				t.Errorf("preferences-save = %q, want %q", got, want)
			}
		})
	}
}

func TestAccountPreferencesErrors(t *testing.T) {
	r := MustNew(t, testTheme)
	p := mustRender(t, func(w io.Writer) error {
		return r.Account(w, testAccountPage(SectionPreferences, map[string]string{"locale": "Choose a language from the list."}))
	})
	sel := p.byID(t, "account-locale")
	if inv, _ := attr(sel, "aria-invalid"); inv != "true" {
		t.Errorf("locale aria-invalid = %q, want true", inv)
	}
	if got, want := text(p.byID(t, "locale-error")), "Choose a language from the list."; got != want {
		t.Errorf("locale-error = %q, want %q", got, want)
	}
	checkARIA(t, p)
}

func TestAccountEscaping(t *testing.T) {
	r := MustNew(t, testTheme)
	const evil = `"><script>alert(1)</script>`
	u := AccountUser{Username: evil, GivenName: evil, Picture: "javascript:alert(1)", Email: evil, PendingEmail: evil,
		Phone: evil, PendingPhone: evil, Locale: evil, Zoneinfo: evil, Address: AccountAddress{Street: evil}}
	for _, s := range []string{SectionProfile, SectionContact, SectionPassword, SectionPreferences} {
		t.Run(s, func(t *testing.T) {
			in := testAccountPage(s, map[string]string{"given_name": evil, "other": evil})
			in.User, in.Notice = u, evil
			p := mustRender(t, func(w io.Writer) error { return r.Account(w, in) })
			if strings.Contains(p.raw, "<script") {
				t.Errorf("raw output contains unescaped markup:\n%s", p.raw)
			}
			if got := text(p.byID(t, "notice")); got != evil {
				t.Errorf("notice = %q, want %q", got, evil)
			}
		})
	}
}

func TestAccountSessions(t *testing.T) {
	r := MustNew(t, testTheme)
	p := mustRender(t, func(w io.Writer) error {
		return r.Account(w, AccountPage{
			Section: SectionSessions, CSRF: csrf, SessionRevokeAction: "/account/sessions/revoke",
			SessionRevokeOthersAction: "/account/sessions/revoke-others",
			Sessions: []AccountSession{
				{ID: "s1", Device: "Firefox on Linux", IP: "192.0.2.1", Created: "today", LastSeen: "now", Current: true},
				{ID: "s2", Device: "<b>Safari</b> on iOS", IP: "192.0.2.2", Created: "yesterday", LastSeen: "1 hour ago"},
			},
		})
	})
	checkForms(t, p)
	checkARIA(t, p)
	p.byID(t, "sessions-revoke-others")
	p.byID(t, "session-revoke-s2")
	if _, ok := p.ids["session-revoke-s1"]; ok {
		t.Error("the current session offers to sign itself out")
	}
	if strings.Contains(p.raw, "<b>Safari</b>") {
		t.Error("the device name was not escaped")
	}
}

func TestAccountSecurity(t *testing.T) {
	r := MustNew(t, testTheme)
	p := mustRender(t, func(w io.Writer) error {
		return r.Account(w, AccountPage{Section: SectionSecurity, CSRF: csrf, Events: []AccountEvent{
			{When: "today", What: "Signed in", IP: "192.0.2.1", Device: "Firefox on Linux"},
			{When: "today", What: "<i>Sign-in</i> attempt", IP: "192.0.2.9", Failure: true},
		}})
	})
	p.byID(t, "security-events")
	if strings.Contains(p.raw, "<i>Sign-in</i>") || !strings.Contains(p.raw, "Failed") {
		t.Error("events not escaped, or the failure not marked in words")
	}
	empty := mustRender(t, func(w io.Writer) error { return r.Account(w, AccountPage{Section: SectionSecurity}) })
	empty.byID(t, "security-events-empty")
}

// TestAccountRememberedBrowsers: the security section lists remembered
// browsers with a forget button per row, named for its browser, and one
// that forgets them all; without browsers, nothing of it shows.
func TestAccountRememberedBrowsers(t *testing.T) {
	r := MustNew(t, testTheme)
	p := mustRender(t, func(w io.Writer) error {
		return r.Account(w, AccountPage{Section: SectionSecurity, CSRF: csrf,
			Browsers:            []AccountBrowser{{ID: "b1", Label: "<b>Firefox</b> on Linux", Added: "1 Jan", LastUsed: "2 Jan", Expires: "31 Jan"}},
			BrowserForgetAction: "/account/security/browsers/forget", BrowsersForgetAllAction: "/account/security/browsers/forget-all"})
	})
	row := p.byID(t, "mfa-browser-b1")
	for _, want := range []string{"1 Jan", "2 Jan", "31 Jan"} {
		if !strings.Contains(text(row), want) {
			t.Errorf("row %q lacks %q", text(row), want)
		}
	}
	if strings.Contains(p.raw, "<b>Firefox</b>") {
		t.Error("the browser label was not escaped")
	}
	forget := p.byID(t, "browser-forget-b1")
	if name, _ := attr(forget, "aria-label"); !strings.Contains(name, "Firefox") {
		t.Errorf("forget button's accessible name = %q, want it to name the browser", name)
	}
	if got := text(p.byID(t, "browsers-forget-all")); got != "Forget all browsers" {
		t.Errorf("forget-all button = %q", got)
	}
	checkForms(t, p)

	none := mustRender(t, func(w io.Writer) error {
		return r.Account(w, AccountPage{Section: SectionSecurity, CSRF: csrf, BrowsersForgetAllAction: "/x"})
	})
	if _, ok := none.ids["mfa-browsers"]; ok {
		t.Error("an empty list of remembered browsers is shown")
	}
}

// TestAccountSecurityFactors: the default factor carries a badge, the
// others a "Make default" button named for its factor; sign-in codes are
// offered with a verified address and explained without one.
func TestAccountSecurityFactors(t *testing.T) {
	r := MustNew(t, testTheme)
	p := mustRender(t, func(w io.Writer) error {
		return r.Account(w, AccountPage{Section: SectionSecurity, CSRF: csrf,
			Factors: []AccountFactor{
				{ID: "f1", Kind: "Authenticator app", Name: "Authenticator app", Added: "1 Jan", Default: true},
				{ID: "f2", Kind: "Codes by e-mail to a•••@example.com", Name: "Sign-in codes by e-mail", Added: "2 Jan"},
			},
			FactorRemoveAction: "/account/security/factors/remove", FactorDefaultAction: "/account/security/factors/default",
			SignInCodesAction: "/account/security/sign-in-codes",
			SignInCodeOptions: []SignInCodeOption{
				{Kind: "sms", Label: "Sign-in codes by SMS", Destination: "+•••••••••456", Available: true},
				{Kind: "email", Label: "Sign-in codes by e-mail"},
			},
		})
	})
	if got := text(p.byID(t, "factor-default-badge-f1")); got != "Default" {
		t.Errorf("default badge = %q", got)
	}
	if _, ok := p.ids["factor-default-f1"]; ok {
		t.Error("the default factor offers to become the default")
	}
	b := p.byID(t, "factor-default-f2")
	if label, _ := attr(b, "aria-label"); label != "Make Sign-in codes by e-mail added 2 Jan the default" || text(b) != "Make default" {
		t.Errorf("make-default button = %q (aria-label %q)", text(b), label)
	}
	if !strings.Contains(text(p.doc), "Codes by e-mail to a•••@example.com") {
		t.Error("the e-mail factor does not show the masked address")
	}
	on := p.byID(t, "sign-in-codes-sms")
	if label, _ := attr(on, "aria-label"); label != "Turn on Sign-in codes by SMS to +•••••••••456" {
		t.Errorf("turn-on button aria-label = %q", label)
	}
	if _, ok := p.ids["sign-in-codes-email"]; ok {
		t.Error("sign-in codes by e-mail offered without a verified address")
	}
	if got := text(p.byID(t, "sign-in-codes-email-unavailable")); !strings.Contains(got, "verified e-mail address") {
		t.Errorf("unavailable e-mail codes say %q", got)
	}
}
