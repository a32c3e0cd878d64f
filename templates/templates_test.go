package templates

import (
	"bytes"
	"crypto/sha256"
	"encoding/base64"
	"io"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"golang.org/x/net/html/atom"
)

var testTheme = Theme{ProductName: "Acme ID", PrimaryColor: "#2563eb"}

const csrf = "csrf-tok-123"

func TestPages(t *testing.T) {
	r := MustNew(t, testTheme)
	tests := []struct {
		name      string
		render    func(w io.Writer) error
		title     string
		wantIDs   []string
		wantInput map[string]string // id → autocomplete of every visible input
	}{
		{
			name: "login",
			render: func(w io.Writer) error {
				return r.Login(w, LoginPage{Action: "/login", Flow: "f1", CSRF: csrf, Login: "ada",
					Error: "Incorrect username or password.", SignUpURL: "/register", ForgotURL: "/forgot-password", ClientName: "Wiki"})
			},
			title:   "Sign in – Acme ID",
			wantIDs: []string{"login-error", "login-username", "login-password", "login-submit", "register-link", "forgot-link"},
			wantInput: map[string]string{
				"login-username": "username",
				"login-password": "current-password",
			},
		},
		{
			name: "sign-up",
			render: func(w io.Writer) error {
				return r.SignUp(w, SignUpPage{Action: "/register", Flow: "f1", CSRF: csrf, LoginURL: "/login",
					Errors: map[string]string{"email": "Enter a valid email address."}, General: "Please fix the errors below."})
			},
			title: "Create account – Acme ID",
			wantIDs: []string{"register-error", "register-given_name", "register-family_name", "register-username", "username-hint",
				"register-email", "email-error", "register-password", "password-hint", "register-submit", "login-link"},
			wantInput: map[string]string{
				"register-given_name":  "given-name",
				"register-family_name": "family-name",
				"register-username":    "username",
				"register-email":       "email",
				"register-password":    "new-password",
				"register-phone":       "tel",
			},
		},
		{
			name: "consent",
			render: func(w io.Writer) error {
				return r.Consent(w, ConsentPage{Action: "/consent", Flow: "f1", CSRF: csrf, ClientName: "Wiki",
					ClientURI: "https://wiki.example", Scopes: []Scope{{Name: "openid", Description: "Know who you are"}}})
			},
			title:     "Allow access – Acme ID",
			wantIDs:   []string{"consent-allow", "consent-deny", "consent-client-uri"},
			wantInput: map[string]string{},
		},
		{
			name: "logout",
			render: func(w io.Writer) error {
				return r.Logout(w, LogoutPage{Action: "/logout", CSRF: csrf, Request: "req1", ClientName: "Wiki"})
			},
			title:     "Log out – Acme ID",
			wantIDs:   []string{"logout-submit", "logout-cancel"},
			wantInput: map[string]string{},
		},
		{
			name:      "logged out",
			render:    func(w io.Writer) error { return r.LoggedOut(w, LoggedOutPage{}) },
			title:     "Signed out – Acme ID",
			wantIDs:   []string{"logged-out-home"},
			wantInput: map[string]string{},
		},
		{
			name: "home signed in",
			render: func(w io.Writer) error {
				return r.Home(w, HomePage{SignedIn: true, DisplayName: "Ada", LogoutURL: "/logout"})
			},
			title:     "Home – Acme ID",
			wantIDs:   []string{"home-logout"},
			wantInput: map[string]string{},
		},
		{
			name: "home signed out",
			render: func(w io.Writer) error {
				return r.Home(w, HomePage{LoginURL: "/login", SignUpURL: "/register"})
			},
			title:     "Home – Acme ID",
			wantIDs:   []string{"home-login", "home-register"},
			wantInput: map[string]string{},
		},
		{
			name: "error",
			render: func(w io.Writer) error {
				return r.Error(w, ErrorPage{Title: "Page not found", Message: "No such page.", RequestID: "r-42", Status: 404})
			},
			title:     "Page not found – Acme ID",
			wantIDs:   []string{"error-reference", "error-home"},
			wantInput: map[string]string{},
		},
		{
			name: "forgot password",
			render: func(w io.Writer) error {
				return r.ForgotPassword(w, ForgotPasswordPage{Action: "/forgot-password", CSRF: csrf, Login: "ada", Error: "Enter your username or email."})
			},
			title:     "Reset password – Acme ID",
			wantIDs:   []string{"forgot-login", "login-error", "forgot-submit", "login-link"},
			wantInput: map[string]string{"forgot-login": "username"},
		},
		{
			name: "forgot password sent",
			render: func(w io.Writer) error {
				return r.ForgotPassword(w, ForgotPasswordPage{Action: "/forgot-password", CSRF: csrf, Sent: true})
			},
			title:     "Reset password – Acme ID",
			wantIDs:   []string{"notice", "login-link"},
			wantInput: map[string]string{},
		},
		{
			name: "reset password",
			render: func(w io.Writer) error {
				return r.ResetPassword(w, ResetPasswordPage{Action: "/reset-password", CSRF: csrf, Token: "tok",
					Errors: map[string]string{"password": "Password is too common.", "token": "Start again."}})
			},
			title:     "Set new password – Acme ID",
			wantIDs:   []string{"reset-error", "reset-password", "password-error", "password-hint", "reset-submit"},
			wantInput: map[string]string{"reset-password": "new-password"},
		},
		{
			name: "reset password invalid",
			render: func(w io.Writer) error {
				return r.ResetPassword(w, ResetPasswordPage{Action: "/reset-password", CSRF: csrf, Token: "tok", Invalid: true})
			},
			title:     "Link expired – Acme ID",
			wantIDs:   []string{"reset-invalid", "reset-again"},
			wantInput: map[string]string{},
		},
		{
			name: "reset password done",
			render: func(w io.Writer) error {
				return r.ResetPassword(w, ResetPasswordPage{Action: "/reset-password", CSRF: csrf, Done: true})
			},
			title:     "Password changed – Acme ID",
			wantIDs:   []string{"notice", "login-link"},
			wantInput: map[string]string{},
		},
		{
			name: "verify email",
			render: func(w io.Writer) error {
				return r.VerifyEmail(w, VerifyEmailPage{Action: "/verify-email", ResendAction: "/verify-email/resend", CSRF: csrf,
					Flow: "f1", Email: "ada@example.com", Errors: map[string]string{"code": "That code is not right."}, Notice: "We sent a new code."})
			},
			title:     "Verify email – Acme ID",
			wantIDs:   []string{"notice", "verify-email", "verify-code", "code-error", "verify-submit", "verify-resend"},
			wantInput: map[string]string{"verify-code": "one-time-code"},
		},
		{
			name: "verify email done",
			render: func(w io.Writer) error {
				return r.VerifyEmail(w, VerifyEmailPage{CSRF: csrf, Email: "ada@example.com", Verified: true})
			},
			title:     "Verify email – Acme ID",
			wantIDs:   []string{"notice", "verify-continue"},
			wantInput: map[string]string{},
		},
		{
			name: "account profile",
			render: func(w io.Writer) error {
				return r.Account(w, testAccountPage(SectionProfile, map[string]string{"website": "Enter a web address starting with https://."}))
			},
			title:   "Profile – Acme ID",
			wantIDs: []string{"notice", "account-nav-profile", "account-logout", "website-error", "profile-save"},
			wantInput: map[string]string{
				"account-given_name":     "given-name",
				"account-middle_name":    "additional-name",
				"account-family_name":    "family-name",
				"account-nickname":       "nickname",
				"account-username":       "username",
				"account-picture":        "url",
				"account-website":        "url",
				"account-gender":         "sex",
				"account-birthdate":      "bday",
				"account-street_address": "street-address",
				"account-locality":       "address-level2",
				"account-region":         "address-level1",
				"account-postal_code":    "postal-code",
				"account-country":        "country-name",
			},
		},
		{
			name: "account contact",
			render: func(w io.Writer) error {
				return r.Account(w, testAccountPage(SectionContact, map[string]string{"email_code": "That code is not right or has expired."}))
			},
			title: "Email and phone – Acme ID",
			wantIDs: []string{"email-status", "email-resend", "email-pending", "email_code-error", "email-code-submit",
				"email-change", "phone-status", "phone-pending", "phone-code-submit", "phone-save"},
			wantInput: map[string]string{
				"account-email_code": "one-time-code",
				"account-new_email":  "email",
				"account-phone_code": "one-time-code",
				"account-phone":      "tel",
			},
		},
		{
			name: "account password",
			render: func(w io.Writer) error {
				return r.Account(w, testAccountPage(SectionPassword, map[string]string{"current_password": "Incorrect password."}))
			},
			title:   "Password – Acme ID",
			wantIDs: []string{"password-username", "current_password-error", "new_password-hint", "password-save"},
			wantInput: map[string]string{
				"account-current_password": "current-password",
				"account-new_password":     "new-password",
			},
		},
		{
			name: "account preferences",
			render: func(w io.Writer) error {
				return r.Account(w, testAccountPage(SectionPreferences, map[string]string{"zoneinfo": "Choose a time zone from the list."}))
			},
			title:   "Preferences – Acme ID",
			wantIDs: []string{"zoneinfo-error", "zoneinfo-options", "preferences-save"},
			wantInput: map[string]string{
				"account-locale":   "language",
				"account-zoneinfo": "off",
			},
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			p := mustRender(t, tc.render)
			for _, id := range tc.wantIDs {
				p.byID(t, id)
			}
			checkLayout(t, r, p, tc.title)
			checkInputs(t, p, tc.wantInput)
			checkForms(t, p)
			checkARIA(t, p)
			checkNoScript(t, p)
		})
	}
}

func TestLoginHeading(t *testing.T) {
	r := MustNew(t, testTheme)
	tests := []struct {
		name   string
		client string
		want   string
	}{
		{name: "direct", want: "Sign in"},
		{name: "for client", client: "Wiki & Co", want: "Sign in to continue to Wiki & Co"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			p := mustRender(t, func(w io.Writer) error { return r.Login(w, LoginPage{CSRF: csrf, ClientName: tc.client}) })
			if got := text(p.first(t, atom.H1)); got != tc.want {
				t.Errorf("h1 = %q, want %q", got, tc.want)
			}
		})
	}
}

func TestLoginOptionalParts(t *testing.T) {
	r := MustNew(t, testTheme)
	p := mustRender(t, func(w io.Writer) error { return r.Login(w, LoginPage{Action: "/login", CSRF: csrf}) })
	for _, id := range []string{"login-error", "register-link", "forgot-link"} {
		if _, ok := p.ids[id]; ok {
			t.Errorf("id %q present without data", id)
		}
	}
	if diff := cmp.Diff(map[string]string{"csrf": csrf}, hiddenInputs(p.doc)); diff != "" {
		t.Errorf("hidden inputs mismatch (-want +got):\n%s", diff)
	}

	p = mustRender(t, func(w io.Writer) error {
		return r.Login(w, LoginPage{CSRF: csrf, Flow: "f1", Error: "Incorrect username or password."})
	})
	if diff := cmp.Diff(map[string]string{"csrf": csrf, "flow": "f1"}, hiddenInputs(p.doc)); diff != "" {
		t.Errorf("hidden inputs mismatch (-want +got):\n%s", diff)
	}
	errEl := p.byID(t, "login-error")
	if role, _ := attr(errEl, "role"); role != "alert" {
		t.Errorf("login-error role = %q, want alert", role)
	}
	if got, want := text(errEl), "Incorrect username or password."; got != want {
		t.Errorf("login-error text = %q, want %q", got, want)
	}
}

func TestEscaping(t *testing.T) {
	r := MustNew(t, testTheme)
	const evil = `"><script>alert(1)</script>`
	p := mustRender(t, func(w io.Writer) error {
		return r.Login(w, LoginPage{CSRF: csrf, Login: evil, Error: evil, ClientName: evil})
	})
	if strings.Contains(p.raw, `"><script>`) || strings.Contains(p.raw, "<script") {
		t.Errorf("raw output contains unescaped markup:\n%s", p.raw)
	}
	if got, _ := attr(p.byID(t, "login-username"), "value"); got != evil {
		t.Errorf("login value = %q, want %q", got, evil)
	}
	if got := text(p.byID(t, "login-error")); got != evil {
		t.Errorf("login-error text = %q, want %q", got, evil)
	}
}

func TestSignUpFieldErrors(t *testing.T) {
	r := MustNew(t, testTheme)
	p := mustRender(t, func(w io.Writer) error {
		return r.SignUp(w, SignUpPage{CSRF: csrf, Errors: map[string]string{
			"username": "That username is taken.",
			"password": "Password is too common.",
		}})
	})
	type fieldState struct {
		Invalid     string
		DescribedBy string
	}
	got := map[string]fieldState{}
	for _, name := range []string{"given_name", "family_name", "username", "email", "password"} {
		in := p.byID(t, "register-"+name)
		var s fieldState
		s.Invalid, _ = attr(in, "aria-invalid")
		s.DescribedBy, _ = attr(in, "aria-describedby")
		got[name] = s
		for _, ref := range strings.Fields(s.DescribedBy) {
			p.byID(t, ref) // every reference resolves
		}
	}
	want := map[string]fieldState{
		"given_name":  {},
		"family_name": {},
		"username":    {Invalid: "true", DescribedBy: "username-error username-hint"},
		"email":       {},
		"password":    {Invalid: "true", DescribedBy: "password-error password-hint"},
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("field ARIA state mismatch (-want +got):\n%s", diff)
	}
	if got, want := text(p.byID(t, "username-error")), "That username is taken."; got != want {
		t.Errorf("username-error = %q, want %q", got, want)
	}
	// The error sits directly under its input.
	if next := nextElement(p.byID(t, "register-username")); next == nil || next != p.ids["username-error"] {
		t.Errorf("username-error is not the element right after its input")
	}
	if _, ok := p.ids["register-error"]; ok {
		t.Errorf("register-error present without a general error")
	}
}

func TestSignUpRefill(t *testing.T) {
	r := MustNew(t, testTheme)
	vals := SignUpValues{Username: "ada", Email: "ada@example.com", Phone: "+44 7700 900123", GivenName: "Ada", FamilyName: "Lovelace"}
	p := mustRender(t, func(w io.Writer) error {
		return r.SignUp(w, SignUpPage{CSRF: csrf, Values: vals, General: "Something failed."})
	})
	var order []string
	got := map[string]string{}
	for _, in := range elements(p.first(t, atom.Form), atom.Input) {
		if typ, _ := attr(in, "type"); typ == "hidden" {
			continue
		}
		name, _ := attr(in, "name")
		order = append(order, name)
		got[name], _ = attr(in, "value")
	}
	if diff := cmp.Diff([]string{"given_name", "family_name", "username", "email", "phone", "password"}, order); diff != "" {
		t.Errorf("field order mismatch (-want +got):\n%s", diff)
	}
	want := map[string]string{"given_name": "Ada", "family_name": "Lovelace", "username": "ada", "email": "ada@example.com", "phone": "+44 7700 900123", "password": ""}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("values mismatch (-want +got):\n%s", diff)
	}
	pw := p.byID(t, "register-password")
	if ml, _ := attr(pw, "minlength"); ml != "8" {
		t.Errorf("password minlength = %q, want 8", ml)
	}
	if db, _ := attr(pw, "aria-describedby"); db != "password-hint" {
		t.Errorf("password aria-describedby = %q, want password-hint", db)
	}
	if role, _ := attr(p.byID(t, "register-error"), "role"); role != "alert" {
		t.Errorf("register-error role = %q, want alert", role)
	}
}

func TestConsent(t *testing.T) {
	r := MustNew(t, testTheme)
	p := mustRender(t, func(w io.Writer) error {
		return r.Consent(w, ConsentPage{CSRF: csrf, Flow: "f1", ClientName: "Wiki", ClientURI: "https://wiki.example",
			Scopes: []Scope{{Name: "openid", Description: "Know who you are"}, {Name: "email"}}})
	})
	if got, want := text(p.first(t, atom.H1)), "Wiki wants to access your account"; got != want {
		t.Errorf("h1 = %q, want %q", got, want)
	}
	var scopes []string
	for _, li := range elements(p.doc, atom.Li) {
		scopes = append(scopes, text(li))
	}
	if diff := cmp.Diff([]string{"Know who you are", "email"}, scopes); diff != "" {
		t.Errorf("scopes mismatch (-want +got):\n%s", diff)
	}
	type button struct{ Name, Value, Text string }
	var got []button
	for _, b := range elements(p.doc, atom.Button) {
		var bt button
		bt.Name, _ = attr(b, "name")
		bt.Value, _ = attr(b, "value")
		bt.Text = text(b)
		got = append(got, bt)
	}
	want := []button{{"decision", "allow", "Allow"}, {"decision", "deny", "Deny"}}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("buttons mismatch (-want +got):\n%s", diff)
	}
	if diff := cmp.Diff(map[string]string{"csrf": csrf, "flow": "f1"}, hiddenInputs(p.doc)); diff != "" {
		t.Errorf("hidden inputs mismatch (-want +got):\n%s", diff)
	}
	if rel, _ := attr(p.byID(t, "consent-client-uri"), "rel"); rel != "noopener noreferrer" {
		t.Errorf("client link rel = %q, want noopener noreferrer", rel)
	}
}

func TestLogout(t *testing.T) {
	r := MustNew(t, testTheme)
	tests := []struct {
		name       string
		in         LogoutPage
		wantHidden map[string]string
		wantText   string
	}{
		{
			name:       "direct",
			in:         LogoutPage{CSRF: csrf},
			wantHidden: map[string]string{"csrf": csrf},
		},
		{
			name:       "requested by client",
			in:         LogoutPage{CSRF: csrf, Request: "req1", ClientName: "Wiki"},
			wantHidden: map[string]string{"csrf": csrf, "request": "req1"},
			wantText:   "Wiki asked to sign you out.",
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			p := mustRender(t, func(w io.Writer) error { return r.Logout(w, tc.in) })
			if got, want := text(p.first(t, atom.H1)), "Log out of Acme ID?"; got != want {
				t.Errorf("h1 = %q, want %q", got, want)
			}
			if diff := cmp.Diff(tc.wantHidden, hiddenInputs(p.doc)); diff != "" {
				t.Errorf("hidden inputs mismatch (-want +got):\n%s", diff)
			}
			main := text(p.first(t, atom.Main))
			if tc.wantText != "" && !strings.Contains(main, tc.wantText) {
				t.Errorf("page text %q lacks %q", main, tc.wantText)
			}
			if tc.wantText == "" && strings.Contains(main, "asked to sign you out") {
				t.Errorf("page text %q mentions a client", main)
			}
			if href, _ := attr(p.byID(t, "logout-cancel"), "href"); href != "/" {
				t.Errorf("logout-cancel href = %q, want /", href)
			}
		})
	}
}

func TestHome(t *testing.T) {
	r := MustNew(t, testTheme)
	tests := []struct {
		name    string
		in      HomePage
		h1      string
		want    map[string]string // id → href
		notWant []string
	}{
		{
			name:    "signed in",
			in:      HomePage{SignedIn: true, DisplayName: "Ada", LoginURL: "/login", LogoutURL: "/logout"},
			h1:      "Signed in as Ada",
			want:    map[string]string{"home-logout": "/logout"},
			notWant: []string{"home-login", "home-register"},
		},
		{
			name:    "signed out",
			in:      HomePage{LoginURL: "/login", SignUpURL: "/register", LogoutURL: "/logout"},
			h1:      "Welcome to Acme ID",
			want:    map[string]string{"home-login": "/login", "home-register": "/register"},
			notWant: []string{"home-logout"},
		},
		{
			name:    "registration closed",
			in:      HomePage{LoginURL: "/login"},
			h1:      "Welcome to Acme ID",
			want:    map[string]string{"home-login": "/login"},
			notWant: []string{"home-register", "home-logout"},
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			p := mustRender(t, func(w io.Writer) error { return r.Home(w, tc.in) })
			if got := text(p.first(t, atom.H1)); got != tc.h1 {
				t.Errorf("h1 = %q, want %q", got, tc.h1)
			}
			got := map[string]string{}
			for id := range tc.want {
				got[id], _ = attr(p.byID(t, id), "href")
			}
			if diff := cmp.Diff(tc.want, got); diff != "" {
				t.Errorf("links mismatch (-want +got):\n%s", diff)
			}
			for _, id := range tc.notWant {
				if _, ok := p.ids[id]; ok {
					t.Errorf("id %q present", id)
				}
			}
		})
	}
}

func TestError(t *testing.T) {
	r := MustNew(t, testTheme)
	tests := []struct {
		name    string
		in      ErrorPage
		want    []string // h1, first paragraph
		wantRef string
	}{
		{
			name:    "full",
			in:      ErrorPage{Title: "Link expired", Message: "Start again.", RequestID: "r-1", Status: 400},
			want:    []string{"Link expired", "Start again."},
			wantRef: "Error reference: r-1",
		},
		{
			name: "defaults from status",
			in:   ErrorPage{Status: 404},
			want: []string{"Not Found", "Sorry, we could not complete your request. Please try again later."},
		},
		{
			name: "no status",
			in:   ErrorPage{},
			want: []string{"Something went wrong", "Sorry, we could not complete your request. Please try again later."},
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			p := mustRender(t, func(w io.Writer) error { return r.Error(w, tc.in) })
			got := []string{text(p.first(t, atom.H1)), text(p.first(t, atom.P))}
			if diff := cmp.Diff(tc.want, got); diff != "" {
				t.Errorf("content mismatch (-want +got):\n%s", diff)
			}
			var ref string
			if n, ok := p.ids["error-reference"]; ok {
				ref = text(n.Parent)
			}
			if ref != tc.wantRef {
				t.Errorf("reference = %q, want %q", ref, tc.wantRef)
			}
			if href, _ := attr(p.byID(t, "error-home"), "href"); href != "/" {
				t.Errorf("error-home href = %q, want /", href)
			}
		})
	}
}

func TestTheme(t *testing.T) {
	tests := []struct {
		name      string
		theme     Theme
		wantLogo  string
		wantAlt   string
		wantStyle string
	}{
		{
			name:      "defaults",
			theme:     Theme{PrimaryColor: "#AbCdEf"},
			wantLogo:  "/static/logo.svg",
			wantAlt:   "Gatehouse",
			wantStyle: ":root{--primary:#AbCdEf}",
		},
		{
			name:      "custom logo",
			theme:     Theme{ProductName: "Acme ID", LogoURL: "https://cdn.example/logo.png", PrimaryColor: "#000000"},
			wantLogo:  "https://cdn.example/logo.png",
			wantAlt:   "Acme ID",
			wantStyle: ":root{--primary:#000000}",
		},
		{
			name:      "unsafe logo URL is neutralised",
			theme:     Theme{LogoURL: "javascript:alert(1)", PrimaryColor: "#000000"},
			wantLogo:  "#ZgotmplZ",
			wantAlt:   "Gatehouse",
			wantStyle: ":root{--primary:#000000}",
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			r := MustNew(t, tc.theme)
			p := mustRender(t, func(w io.Writer) error { return r.LoggedOut(w, LoggedOutPage{}) })
			img := p.first(t, atom.Img)
			type got struct{ Logo, Alt, Style string }
			var g got
			g.Logo, _ = attr(img, "src")
			g.Alt, _ = attr(img, "alt")
			g.Style = text(p.first(t, atom.Style))
			if diff := cmp.Diff(got{tc.wantLogo, tc.wantAlt, tc.wantStyle}, g); diff != "" {
				t.Errorf("theme mismatch (-want +got):\n%s", diff)
			}
			sum := sha256.Sum256([]byte(tc.wantStyle))
			if got, want := r.StyleHash(), "'sha256-"+base64.StdEncoding.EncodeToString(sum[:])+"'"; got != want {
				t.Errorf("StyleHash() = %s, want %s", got, want)
			}
		})
	}
}

func TestNewRejectsColour(t *testing.T) {
	for _, c := range []string{"", "red", "red;}body{", "#2563eb;}", "#2563e", "#2563ebb", "2563eb", "#12345g", "#2563eb\n", "</style>"} {
		if _, err := New(Theme{PrimaryColor: c}); err == nil {
			t.Errorf("New(PrimaryColor: %q) succeeded, want error", c)
		}
	}
}

func TestRenderWritesNothingOnError(t *testing.T) {
	r := MustNew(t, testTheme)
	var buf bytes.Buffer
	// The layout head executes before the page body fails on the wrong type.
	if err := r.render(&buf, "login", 42); err == nil {
		t.Fatal("render with wrong data succeeded, want error")
	}
	if buf.Len() != 0 {
		t.Errorf("render wrote %d bytes before failing: %.60q", buf.Len(), buf.String())
	}
}
