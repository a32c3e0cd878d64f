package templates

import (
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"golang.org/x/net/html"
	"golang.org/x/net/html/atom"

	"gatehouse/identity"
)

// testLink has a query with "&" so that the text part must carry it raw and
// the HTML part escaped.
const testLink = "https://id.example/verify-email?token=abc&x=1"

// testResetLink is the second link of the registration attempt notice.
const testResetLink = "https://id.example/forgot-password?a=1&b=2"

func testMail(kind identity.MailKind) identity.Mail {
	return identity.Mail{Kind: kind, To: "ada@example.com", Name: "Ada", Link: testLink, Code: "493027",
		NewEmail: "ada@new.example", ExpiresIn: "10 minutes", ResetLink: testResetLink}
}

// mustParseMail parses an HTML body and indexes its ids.
func mustParseMail(tb testing.TB, body string) page {
	tb.Helper()
	doc, err := html.Parse(strings.NewReader(body))
	if err != nil {
		tb.Fatalf("html.Parse: %v", err)
	}
	p := page{raw: body, doc: doc, ids: map[string]*html.Node{}}
	for _, n := range elements(doc, 0) {
		if id, ok := attr(n, "id"); ok {
			p.ids[id] = n
		}
	}
	return p
}

func TestRenderMail(t *testing.T) {
	r := MustNew(t, testTheme)
	tests := []struct {
		kind        identity.MailKind
		wantSubject string
		wantText    []string // phrases of the text part
		wantButton  bool     // link as a button (and written out)
		wantCode    bool
		wantNew     bool // NewEmail shown in the HTML as mail-new-email
	}{
		{
			kind:        identity.MailVerifyEmail,
			wantSubject: "Acme ID: confirm your email address",
			wantText: []string{"Hello Ada,", "Confirm your email address", "    493027\n", "\n" + testLink + "\n",
				"expire in 10 minutes", "If you did not create an account, you can ignore this email."},
			wantButton: true, wantCode: true,
		},
		{
			kind:        identity.MailConfirmEmailChange,
			wantSubject: "Acme ID: confirm your new email address",
			wantText:    []string{"Hello Ada,", "ada@new.example", "    493027\n", "\n" + testLink + "\n", "expire in 10 minutes"},
			wantButton:  true, wantCode: true, wantNew: true,
		},
		{
			kind:        identity.MailEmailChangeRequested,
			wantSubject: "Acme ID: email change requested",
			wantText:    []string{"Hello Ada,", "change the email address of your Acme ID account to ada@new.example", "reset your password"},
			wantNew:     true,
		},
		{
			kind:        identity.MailEmailChanged,
			wantSubject: "Acme ID: your email address was changed",
			wantText:    []string{"Hello Ada,", "was changed to ada@new.example"},
			wantNew:     true,
		},
		{
			kind:        identity.MailPasswordReset,
			wantSubject: "Acme ID: reset your password",
			wantText: []string{"Hello Ada,", "reset the password", "\n" + testLink + "\n", "expires in 10 minutes",
				"If you did not ask to reset your password, you can ignore this email."},
			wantButton: true,
		},
		{
			kind:        identity.MailRegistrationAttempt,
			wantSubject: "Acme ID: someone tried to sign up with your email address",
			wantText: []string{"Hello Ada,", "Someone tried to create a new Acme ID account with this email address",
				"no new account was created", "Sign in here:\n" + testLink + "\n", "reset it here:\n" + testResetLink + "\n",
				"If it was not you, you can ignore this email."},
			wantButton: true,
		},
		{
			kind:        identity.MailMFAEnabled,
			wantSubject: "Acme ID: two-step verification was turned on",
			wantText:    []string{"Hello Ada,", "authenticator app was added to your Acme ID account", "reset your password"},
			wantButton:  true,
		},
		{
			kind:        identity.MailSignInCode,
			wantSubject: "Acme ID: your sign-in code",
			wantText:    []string{"Hello Ada,", "Your code to sign in to Acme ID", "    493027\n", "expires in 10 minutes", "Never share this code"},
			wantCode:    true,
		},
		{
			kind:        identity.MailPasswordChanged,
			wantSubject: "Acme ID: your password was changed",
			wantText:    []string{"Hello Ada,", "password of your Acme ID account was changed", "other sessions were signed out", "reset your password"},
			wantButton:  true,
		},
	}
	for _, tc := range tests {
		t.Run(string(tc.kind), func(t *testing.T) {
			m := testMail(tc.kind)
			if tc.kind == identity.MailEmailChangeRequested || tc.kind == identity.MailEmailChanged {
				m.Link, m.Code, m.ExpiresIn = "", "", ""
			}
			if tc.kind == identity.MailPasswordReset {
				m.Code = ""
			}
			subject, plain, body, err := r.RenderMail(m)
			if err != nil {
				t.Fatalf("RenderMail: %v", err)
			}
			if subject != tc.wantSubject {
				t.Errorf("subject = %q, want %q", subject, tc.wantSubject)
			}
			for _, want := range tc.wantText {
				if !strings.Contains(plain, want) {
					t.Errorf("text part lacks %q:\n%s", want, plain)
				}
			}
			if strings.Contains(plain, "&amp;") || strings.Contains(plain, "<") {
				t.Errorf("text part contains markup or entities:\n%s", plain)
			}

			p := mustParseMail(t, body)
			if got := textByID(p, "mail-product"); got != "Acme ID" {
				t.Errorf("mail-product = %q, want Acme ID", got)
			}
			if got, want := text(p.first(t, atom.Title)), tc.wantSubject; got != want {
				t.Errorf("<title> = %q, want %q", got, want)
			}
			if n := len(elements(p.doc, atom.Script)) + len(elements(p.doc, atom.Link)); n != 0 {
				t.Errorf("HTML part has %d <script>/<link> elements, want 0", n)
			}
			if !strings.Contains(text(p.doc), "Hello Ada,") {
				t.Errorf("HTML part lacks the greeting")
			}
			_, hasButton := p.ids["mail-button"]
			if hasButton != tc.wantButton {
				t.Errorf("button present = %v, want %v", hasButton, tc.wantButton)
			}
			if tc.wantButton {
				for _, id := range []string{"mail-button", "mail-link"} {
					if href, _ := attr(p.byID(t, id), "href"); href != testLink {
						t.Errorf("%s href = %q, want %q", id, href, testLink)
					}
				}
				style, _ := attr(p.byID(t, "mail-button"), "style")
				if !strings.Contains(style, "background:#2563eb") || !strings.Contains(style, "color:#ffffff") {
					t.Errorf("button style %q lacks the theme colours", style)
				}
			}
			if got, want := textByID(p, "mail-code"), map[bool]string{true: "493027"}[tc.wantCode]; got != want {
				t.Errorf("mail-code = %q, want %q", got, want)
			}
			if got, want := textByID(p, "mail-new-email"), map[bool]string{true: "ada@new.example"}[tc.wantNew]; got != want {
				t.Errorf("mail-new-email = %q, want %q", got, want)
			}
			if tc.kind == identity.MailRegistrationAttempt {
				if href, _ := attr(p.byID(t, "mail-reset-link"), "href"); href != testResetLink {
					t.Errorf("mail-reset-link href = %q, want %q", href, testResetLink)
				}
			}
		})
	}
}

// textByID is the text of the element with id, or "" when there is none.
func textByID(p page, id string) string {
	if n, ok := p.ids[id]; ok {
		return text(n)
	}
	return ""
}

func TestRenderMailEscaping(t *testing.T) {
	r := MustNew(t, testTheme)
	m := testMail(identity.MailEmailChanged)
	m.Name = `<script>alert(1)</script>`
	m.NewEmail = `"><img src=x onerror=alert(1)>@example.com`
	_, plain, body, err := r.RenderMail(m)
	if err != nil {
		t.Fatalf("RenderMail: %v", err)
	}
	if strings.Contains(body, "<script") || strings.Contains(body, "<img") {
		t.Errorf("HTML part contains unescaped markup:\n%s", body)
	}
	p := mustParseMail(t, body)
	if got := text(p.doc); !strings.Contains(got, "Hello <script>alert(1)</script>,") {
		t.Errorf("HTML text lacks the name as plain text: %q", got)
	}
	if got := textByID(p, "mail-new-email"); got != m.NewEmail {
		t.Errorf("mail-new-email = %q, want %q", got, m.NewEmail)
	}
	// The text part is plain text: the name stays as written.
	if !strings.Contains(plain, "Hello <script>alert(1)</script>,") {
		t.Errorf("text part lacks the raw name:\n%s", plain)
	}
}

func TestRenderMailUnsafeLink(t *testing.T) {
	r := MustNew(t, testTheme)
	m := testMail(identity.MailPasswordReset)
	m.Link = "javascript:alert(1)"
	_, _, body, err := r.RenderMail(m)
	if err != nil {
		t.Fatalf("RenderMail: %v", err)
	}
	p := mustParseMail(t, body)
	if href, _ := attr(p.byID(t, "mail-button"), "href"); href != "#ZgotmplZ" {
		t.Errorf("button href = %q, want #ZgotmplZ", href)
	}
}

func TestRenderMailWithoutName(t *testing.T) {
	r := MustNew(t, testTheme)
	m := testMail(identity.MailPasswordChanged)
	m.Name, m.Link = "", ""
	_, plain, body, err := r.RenderMail(m)
	if err != nil {
		t.Fatalf("RenderMail: %v", err)
	}
	if !strings.HasPrefix(plain, "Hello,\n") {
		t.Errorf("text part starts %.20q, want a plain greeting", plain)
	}
	p := mustParseMail(t, body)
	if _, ok := p.ids["mail-button"]; ok {
		t.Errorf("button present without a link")
	}
	if !strings.Contains(plain, `"Forgot password?"`) {
		t.Errorf("text part without a link does not point to Forgot password:\n%s", plain)
	}
}

func TestRenderMailUnknownKind(t *testing.T) {
	r := MustNew(t, testTheme)
	for _, kind := range []identity.MailKind{"", "welcome", "mail_layout"} {
		subject, plain, body, err := r.RenderMail(identity.Mail{Kind: kind, To: "ada@example.com"})
		if err == nil {
			t.Errorf("RenderMail(kind %q) succeeded, want error", kind)
		}
		if subject != "" || plain != "" || body != "" {
			t.Errorf("RenderMail(kind %q) returned content with its error", kind)
		}
	}
}

func TestRenderMailTheme(t *testing.T) {
	tests := []struct {
		name        string
		theme       Theme
		wantSubject string
		wantColours mailColours
	}{
		{
			name:        "dark primary",
			theme:       Theme{PrimaryColor: "#1e3a8a"},
			wantSubject: "Gatehouse: reset your password",
			wantColours: mailColours{Primary: "#1e3a8a", OnPrimary: "#ffffff", Link: "#1e3a8a"},
		},
		{
			name:        "light primary",
			theme:       Theme{ProductName: "Acme ID", PrimaryColor: "#facc15"},
			wantSubject: "Acme ID: reset your password",
			wantColours: mailColours{Primary: "#facc15", OnPrimary: "#000000", Link: "#1f2937"},
		},
		{
			name:        "no line breaks in the subject",
			theme:       Theme{ProductName: "Acme\r\nBcc: x@evil.example", PrimaryColor: "#000000"},
			wantSubject: "Acme Bcc: x@evil.example: reset your password",
			wantColours: mailColours{Primary: "#000000", OnPrimary: "#ffffff", Link: "#000000"},
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			r := MustNew(t, tc.theme)
			subject, _, body, err := r.RenderMail(testMail(identity.MailPasswordReset))
			if err != nil {
				t.Fatalf("RenderMail: %v", err)
			}
			if subject != tc.wantSubject {
				t.Errorf("subject = %q, want %q", subject, tc.wantSubject)
			}
			if diff := cmp.Diff(tc.wantColours, r.mailStyle); diff != "" {
				t.Errorf("mail colours mismatch (-want +got):\n%s", diff)
			}
			style, _ := attr(mustParseMail(t, body).byID(t, "mail-button"), "style")
			want := "background:" + string(tc.wantColours.Primary) + ";color:" + string(tc.wantColours.OnPrimary) + ";"
			if !strings.Contains(style, want) {
				t.Errorf("button style %q lacks %q", style, want)
			}
		})
	}
}

// Every kind identity defines has its templates, and nothing else does.
func TestMailKindsComplete(t *testing.T) {
	r := MustNew(t, testTheme)
	kinds := []identity.MailKind{identity.MailVerifyEmail, identity.MailConfirmEmailChange, identity.MailEmailChangeRequested,
		identity.MailEmailChanged, identity.MailPasswordReset, identity.MailPasswordChanged, identity.MailAccountLocked,
		identity.MailRegistrationAttempt, identity.MailMFAEnabled, identity.MailMFARemoved, identity.MailMFARenamed, identity.MailRecoveryCodesRegenerated, identity.MailRecoveryCodeUsed, identity.MailSignInCode, identity.MailInvite,
		identity.MailPasswordElsewhere, identity.MailLinkRemoved}
	for _, k := range kinds {
		if _, ok := r.mails[k]; !ok {
			t.Errorf("no templates for %q", k)
		}
	}
	if len(r.mails) != len(kinds) {
		t.Errorf("%d mail kinds, want %d", len(r.mails), len(kinds))
	}
}

// TestRenderMailMFAEnabledFactor: the notice names sign-in codes when
// they were turned on, not an authenticator app.
func TestRenderMailMFAEnabledFactor(t *testing.T) {
	r := MustNew(t, testTheme)
	m := testMail(identity.MailMFAEnabled)
	m.Factor = "sms"
	_, plain, body, err := r.RenderMail(m)
	if err != nil {
		t.Fatal(err)
	}
	for _, part := range []string{plain, body} {
		if !strings.Contains(part, "Sign-in codes by SMS were turned on for your Acme ID account") || strings.Contains(part, "authenticator app") {
			t.Errorf("notice does not name the sign-in codes:\n%s", part)
		}
	}
}

// TestMailPasskeyNotices: the notice of a passkey added says passkey, in
// both parts, and the rename notice exists in both.
func TestMailPasskeyNotices(t *testing.T) {
	r := MustNew(t, testTheme)
	m := testMail(identity.MailMFAEnabled)
	m.Factor = "webauthn"
	_, plain, body, err := r.RenderMail(m)
	if err != nil {
		t.Fatal(err)
	}
	for part, s := range map[string]string{"text": plain, "HTML": body} {
		if !strings.Contains(s, "A passkey was added to your Acme ID account") || strings.Contains(s, "authenticator app") {
			t.Errorf("%s part of the passkey notice:\n%s", part, s)
		}
	}
	subject, plain, body, err := r.RenderMail(testMail(identity.MailMFARenamed))
	if err != nil {
		t.Fatal(err)
	}
	if subject != "Acme ID: a passkey was renamed" || !strings.Contains(plain, "A passkey of your Acme ID account was renamed.") ||
		!strings.Contains(body, "A passkey of your Acme ID account was renamed.") {
		t.Errorf("rename notice: %q\n%s\n%s", subject, plain, body)
	}
}
