package templates

import (
	"io"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"golang.org/x/net/html/atom"
)

func TestForgotPassword(t *testing.T) {
	r := MustNew(t, testTheme)
	const sent = "If an account exists for that username or email, we have sent a link to reset the password. Check your inbox."
	tests := []struct {
		name     string
		in       ForgotPasswordPage
		wantForm bool
		wantLink string
	}{
		{name: "form", in: ForgotPasswordPage{Action: "/forgot-password", CSRF: csrf}, wantForm: true, wantLink: "/login"},
		{name: "sent for a known account", in: ForgotPasswordPage{CSRF: csrf, Login: "ada", Sent: true}, wantLink: "/login"},
		{name: "sent for anything", in: ForgotPasswordPage{CSRF: csrf, Login: "nobody@example.com", Sent: true, LoginURL: "/signin"}, wantLink: "/signin"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			p := mustRender(t, func(w io.Writer) error { return r.ForgotPassword(w, tc.in) })
			if got, want := text(p.first(t, atom.H1)), "Reset your password"; got != want {
				t.Errorf("h1 = %q, want %q", got, want)
			}
			if href, _ := attr(p.byID(t, "login-link"), "href"); href != tc.wantLink {
				t.Errorf("login-link href = %q, want %q", href, tc.wantLink)
			}
			if !tc.wantForm {
				checkNotice(t, p, sent)
				checkAbsent(t, p, "forgot-login", "forgot-submit")
				// The answer must not depend on what was asked for.
				if strings.Contains(p.raw, tc.in.Login) {
					t.Errorf("sent page repeats the login %q", tc.in.Login)
				}
				return
			}
			checkAbsent(t, p, "notice", "login-error")
			if diff := cmp.Diff([]string{"/forgot-password"}, formActions(p)); diff != "" {
				t.Errorf("form actions mismatch (-want +got):\n%s", diff)
			}
			if diff := cmp.Diff(map[string]string{"csrf": csrf}, hiddenInputs(p.doc)); diff != "" {
				t.Errorf("hidden inputs mismatch (-want +got):\n%s", diff)
			}
			if got, want := text(p.byID(t, "forgot-submit")), "Send reset link"; got != want {
				t.Errorf("forgot-submit = %q, want %q", got, want)
			}
		})
	}
}

func TestForgotPasswordFieldError(t *testing.T) {
	r := MustNew(t, testTheme)
	p := mustRender(t, func(w io.Writer) error {
		return r.ForgotPassword(w, ForgotPasswordPage{CSRF: csrf, Login: "ada", Error: "Enter your username or email."})
	})
	in := p.byID(t, "forgot-login")
	got := map[string]string{}
	for _, k := range []string{"name", "value", "aria-invalid", "aria-describedby", "autocomplete"} {
		got[k], _ = attr(in, k)
	}
	want := map[string]string{"name": "login", "value": "ada", "aria-invalid": "true", "aria-describedby": "login-error", "autocomplete": "username"}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("login input mismatch (-want +got):\n%s", diff)
	}
	if got, want := text(p.first(t, atom.Label)), "Username or email"; got != want {
		t.Errorf("label = %q, want %q", got, want)
	}
	if got, want := text(p.byID(t, "login-error")), "Enter your username or email."; got != want {
		t.Errorf("login-error = %q, want %q", got, want)
	}
}

func TestResetPassword(t *testing.T) {
	r := MustNew(t, testTheme)
	tests := []struct {
		name       string
		in         ResetPasswordPage
		h1         string
		wantIDs    map[string]string // id → href, or "" for a non-link
		notWant    []string
		wantHidden map[string]string
	}{
		{
			name:       "form",
			in:         ResetPasswordPage{Action: "/reset-password", CSRF: csrf, Token: "tok-1"},
			h1:         "Choose a new password",
			wantIDs:    map[string]string{"reset-password": "", "reset-submit": ""},
			notWant:    []string{"reset-again", "notice", "reset-error", "password-error"},
			wantHidden: map[string]string{"csrf": csrf, "token": "tok-1"},
		},
		{
			name:       "invalid link",
			in:         ResetPasswordPage{Action: "/reset-password", CSRF: csrf, Token: "tok-1", Invalid: true},
			h1:         "Link expired",
			wantIDs:    map[string]string{"reset-again": "/forgot-password", "reset-invalid": ""},
			notWant:    []string{"reset-password", "reset-submit", "notice"},
			wantHidden: map[string]string{},
		},
		{
			name:       "invalid link, custom URL",
			in:         ResetPasswordPage{CSRF: csrf, Invalid: true, ForgotURL: "/recover"},
			h1:         "Link expired",
			wantIDs:    map[string]string{"reset-again": "/recover"},
			wantHidden: map[string]string{},
		},
		{
			name:       "done",
			in:         ResetPasswordPage{Action: "/reset-password", CSRF: csrf, Done: true},
			h1:         "Password changed",
			wantIDs:    map[string]string{"login-link": "/login", "notice": ""},
			notWant:    []string{"reset-password", "reset-submit", "reset-again"},
			wantHidden: map[string]string{},
		},
		{
			name:       "invitation",
			in:         ResetPasswordPage{Action: "/set-password", CSRF: csrf, Token: "tok-2", Invite: true},
			h1:         "Set your password",
			wantIDs:    map[string]string{"reset-password": "", "reset-submit": ""},
			notWant:    []string{"reset-again", "notice"},
			wantHidden: map[string]string{"csrf": csrf, "token": "tok-2"},
		},
		{
			name:       "invitation accepted",
			in:         ResetPasswordPage{Action: "/set-password", CSRF: csrf, Done: true, Invite: true},
			h1:         "Password set",
			wantIDs:    map[string]string{"login-link": "/login", "notice": ""},
			notWant:    []string{"reset-password", "reset-submit"},
			wantHidden: map[string]string{},
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			p := mustRender(t, func(w io.Writer) error { return r.ResetPassword(w, tc.in) })
			if got := text(p.first(t, atom.H1)); got != tc.h1 {
				t.Errorf("h1 = %q, want %q", got, tc.h1)
			}
			got := map[string]string{}
			for id := range tc.wantIDs {
				got[id], _ = attr(p.byID(t, id), "href")
			}
			if diff := cmp.Diff(tc.wantIDs, got); diff != "" {
				t.Errorf("ids mismatch (-want +got):\n%s", diff)
			}
			checkAbsent(t, p, tc.notWant...)
			if diff := cmp.Diff(tc.wantHidden, hiddenInputs(p.doc)); diff != "" {
				t.Errorf("hidden inputs mismatch (-want +got):\n%s", diff)
			}
			switch {
			case tc.in.Invalid:
				if got, want := text(p.byID(t, "reset-invalid")), "This link has expired or was already used."; got != want {
					t.Errorf("reset-invalid = %q, want %q", got, want)
				}
			case tc.in.Done && tc.in.Invite:
				checkNotice(t, p, "Your password is set. You can now sign in.")
			case tc.in.Done:
				checkNotice(t, p, "Your password has been changed.")
			}
		})
	}
}

func TestResetPasswordField(t *testing.T) {
	r := MustNew(t, testTheme)
	p := mustRender(t, func(w io.Writer) error {
		return r.ResetPassword(w, ResetPasswordPage{CSRF: csrf, Token: "t", PasswordMinLength: 12,
			Errors: map[string]string{"password": "Password is too common.", "token": "Start again."}})
	})
	in := p.byID(t, "reset-password")
	got := map[string]string{}
	for _, k := range []string{"name", "type", "autocomplete", "minlength", "aria-invalid", "aria-describedby", "value"} {
		got[k], _ = attr(in, k)
	}
	want := map[string]string{"name": "password", "type": "password", "autocomplete": "new-password", "minlength": "12",
		"aria-invalid": "true", "aria-describedby": "password-error password-hint", "value": ""}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("password input mismatch (-want +got):\n%s", diff)
	}
	if got, want := text(p.byID(t, "password-hint")), "At least 12 characters. Avoid common passwords."; got != want {
		t.Errorf("password-hint = %q, want %q", got, want)
	}
	// An error for no field of the form still reaches the user.
	alert := p.byID(t, "reset-error")
	if role, _ := attr(alert, "role"); role != "alert" || text(alert) != "Start again." {
		t.Errorf("reset-error = role %q text %q, want alert %q", role, text(alert), "Start again.")
	}
	if got, want := text(p.byID(t, "reset-submit")), "Set new password"; got != want {
		t.Errorf("reset-submit = %q, want %q", got, want)
	}
}

func TestVerifyEmail(t *testing.T) {
	r := MustNew(t, testTheme)
	tests := []struct {
		name       string
		in         VerifyEmailPage
		wantHidden map[string]string // of each form
	}{
		{
			name:       "sign-in flow",
			in:         VerifyEmailPage{Action: "/verify-email", ResendAction: "/verify-email/resend", CSRF: csrf, Flow: "f1", Email: "ada@example.com"},
			wantHidden: map[string]string{"csrf": csrf, "flow": "f1"},
		},
		{
			name:       "no flow",
			in:         VerifyEmailPage{Action: "/verify-email", ResendAction: "/verify-email/resend", CSRF: csrf, Email: "ada@example.com"},
			wantHidden: map[string]string{"csrf": csrf},
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			p := mustRender(t, func(w io.Writer) error { return r.VerifyEmail(w, tc.in) })
			if diff := cmp.Diff([]string{"/verify-email", "/verify-email/resend"}, formActions(p)); diff != "" {
				t.Errorf("form actions mismatch (-want +got):\n%s", diff)
			}
			for _, f := range elements(p.doc, atom.Form) {
				if diff := cmp.Diff(tc.wantHidden, hiddenInputs(f)); diff != "" {
					t.Errorf("hidden inputs of %v mismatch (-want +got):\n%s", f.Attr, diff)
				}
			}
			if got := text(p.byID(t, "verify-email")); got != "ada@example.com" {
				t.Errorf("verify-email = %q, want ada@example.com", got)
			}
			in := p.byID(t, "verify-code")
			got := map[string]string{}
			for _, k := range []string{"name", "type", "autocomplete", "inputmode", "pattern", "maxlength", "required"} {
				got[k], _ = attr(in, k)
			}
			want := map[string]string{"name": "code", "type": "text", "autocomplete": "one-time-code", "inputmode": "numeric",
				"pattern": "[0-9]{6}", "maxlength": "6", "required": ""}
			if diff := cmp.Diff(want, got); diff != "" {
				t.Errorf("code input mismatch (-want +got):\n%s", diff)
			}
			if got, want := text(p.first(t, atom.Label)), "Verification code"; got != want {
				t.Errorf("label = %q, want %q", got, want)
			}
			type button struct{ Text, Form string }
			var buttons []button
			for _, b := range elements(p.doc, atom.Button) {
				id, _ := attr(b, "id")
				action, _ := attr(enclosingForm(b), "action")
				buttons = append(buttons, button{id + ": " + text(b), action})
			}
			wantButtons := []button{{"verify-submit: Verify", "/verify-email"}, {"verify-resend: Send a new code", "/verify-email/resend"}}
			if diff := cmp.Diff(wantButtons, buttons); diff != "" {
				t.Errorf("buttons mismatch (-want +got):\n%s", diff)
			}
			checkAbsent(t, p, "notice", "code-error", "verify-error", "verify-continue")
		})
	}
}

func TestVerifyEmailStates(t *testing.T) {
	r := MustNew(t, testTheme)
	p := mustRender(t, func(w io.Writer) error {
		return r.VerifyEmail(w, VerifyEmailPage{CSRF: csrf, Email: "ada@example.com", Notice: "We sent a new code to ada@example.com.",
			Errors: map[string]string{"code": "That code is not right or has expired."}})
	})
	checkNotice(t, p, "We sent a new code to ada@example.com.")
	in := p.byID(t, "verify-code")
	if inv, _ := attr(in, "aria-invalid"); inv != "true" {
		t.Errorf("verify-code aria-invalid = %q, want true", inv)
	}
	if db, _ := attr(in, "aria-describedby"); db != "code-error" {
		t.Errorf("verify-code aria-describedby = %q, want code-error", db)
	}
	if got, want := text(p.byID(t, "code-error")), "That code is not right or has expired."; got != want {
		t.Errorf("code-error = %q, want %q", got, want)
	}

	p = mustRender(t, func(w io.Writer) error { return r.VerifyEmail(w, VerifyEmailPage{CSRF: csrf, Verified: true}) })
	checkNotice(t, p, "Your email address is verified.")
	if href, _ := attr(p.byID(t, "verify-continue"), "href"); href != "/" {
		t.Errorf("verify-continue href = %q, want /", href)
	}
	if n := len(elements(p.doc, atom.Form)); n != 0 {
		t.Errorf("verified page has %d forms, want 0", n)
	}

	p = mustRender(t, func(w io.Writer) error { return r.VerifyEmail(w, VerifyEmailPage{CSRF: csrf}) })
	if main := text(p.first(t, atom.Main)); !strings.Contains(main, "We sent a 6-digit code to your email address.") {
		t.Errorf("page without Email reads %q", main)
	}
}

func TestRecoveryEscaping(t *testing.T) {
	r := MustNew(t, testTheme)
	const evil = `"><script>alert(1)</script>`
	renders := map[string]func(w io.Writer) error{
		"forgot": func(w io.Writer) error {
			return r.ForgotPassword(w, ForgotPasswordPage{CSRF: csrf, Login: evil, Error: evil})
		},
		"reset": func(w io.Writer) error {
			return r.ResetPassword(w, ResetPasswordPage{CSRF: csrf, Token: evil, Errors: map[string]string{"password": evil, "x": evil}})
		},
		"verify": func(w io.Writer) error {
			return r.VerifyEmail(w, VerifyEmailPage{CSRF: csrf, Flow: evil, Email: evil, Notice: evil, Errors: map[string]string{"code": evil}})
		},
	}
	for name, render := range renders {
		t.Run(name, func(t *testing.T) {
			p := mustRender(t, render)
			if strings.Contains(p.raw, "<script") {
				t.Errorf("raw output contains unescaped markup:\n%s", p.raw)
			}
			if !strings.Contains(text(p.first(t, atom.Main)), evil) {
				t.Errorf("page text lacks the value as plain text")
			}
		})
	}
}
