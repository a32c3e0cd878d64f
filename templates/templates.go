package templates

import (
	"bytes"
	"crypto/sha256"
	"embed"
	"encoding/base64"
	"fmt"
	"html/template"
	"io"
	"regexp"

	"gatehouse/identity"
)

//go:embed *.html *.txt
var files embed.FS

// DefaultLogoURL is the logo a Theme without LogoURL gets, served by package
// static.
const DefaultLogoURL = "/static/logo.svg"

// defaultProductName names the product when the Theme leaves it empty.
const defaultProductName = "Gatehouse"

// colourRE is the only shape of colour that may reach the inline <style>.
var colourRE = regexp.MustCompile(`^#[0-9a-fA-F]{6}$`)

// Theme is the configurable look of every page.
type Theme struct {
	ProductName  string // header text, logo alt text and page title suffix; "" means "Gatehouse"
	LogoURL      string // "" means DefaultLogoURL
	PrimaryColor string // "#rrggbb"
}

// Renderer renders the hosted pages and the transactional e-mails. It is
// safe for concurrent use.
type Renderer struct {
	theme     Theme
	style     template.CSS // exact text of the inline <style> element
	styleHash string
	pages     map[string]*template.Template
	mails     map[identity.MailKind]mailTemplates
	mailStyle mailColours
}

// view is what the layout executes with: the theme plus one page's data.
type view struct {
	Theme Theme
	Style template.CSS
	Page  any
}

// pageSamples lists every page by file name (without .html) with the zero
// data New renders it with to settle escaping.
var pageSamples = map[string]any{
	"login":      LoginPage{},
	"signup":     newSignUpView(SignUpPage{}),
	"consent":    consentView(ConsentPage{}),
	"logout":     LogoutPage{},
	"logged_out": LoggedOutPage{},
	"home":       HomePage{},
	"error":      errorView(ErrorPage{}),

	"forgot_password": newForgotView(ForgotPasswordPage{}),
	"reset_password":  newResetView(ResetPasswordPage{}),
	"verify_email":    newVerifyView(VerifyEmailPage{}),
	"account":         newAccountView(AccountPage{}),
	"mfa_totp":        newTOTPSetupView(TOTPSetupPage{}),
	"mfa_challenge":   newMFAChallengeView(MFAChallengePage{}),
	"mfa_confirm":     MFAConfirmPage{},
	"usage":           newUsageView(UsagePage{Range: "sample", Charts: []UsageChart{{}, {Kind: UsageBreakdown}}}),

	"console_home":        ConsoleHomePage{},
	"console_users":       ConsoleUsersPage{},
	"console_user":        ConsoleUserPage{},
	"console_confirm":     ConsoleConfirmPage{},
	"console_user_form":   newConsoleFormView(ConsoleUserFormPage{}),
	"console_roles":       ConsoleRolesPage{},
	"console_clients":     ConsoleClientsPage{},
	"console_client":      ConsoleClientPage{},
	"console_client_form": newConsoleClientFormView(ConsoleClientFormPage{}),
	"console_audit":       ConsoleAuditPage{Chain: &ConsoleChainStatus{}},
}

// New validates theme and parses every page template once.
func New(theme Theme) (*Renderer, error) {
	// The colour is written into a <style> element as trusted CSS, so it
	// must be exactly a hex colour: anything else could close the rule.
	if !colourRE.MatchString(theme.PrimaryColor) {
		return nil, fmt.Errorf("templates: primary colour %q is not of the form #rrggbb", theme.PrimaryColor)
	}
	if theme.ProductName == "" {
		theme.ProductName = defaultProductName
	}
	if theme.LogoURL == "" {
		theme.LogoURL = DefaultLogoURL
	}
	style := ":root{--primary:" + theme.PrimaryColor + "}"
	sum := sha256.Sum256([]byte(style))
	r := &Renderer{
		theme:     theme,
		style:     template.CSS(style),
		styleHash: "'sha256-" + base64.StdEncoding.EncodeToString(sum[:]) + "'",
		pages:     make(map[string]*template.Template, len(pageSamples)),
		mails:     make(map[identity.MailKind]mailTemplates, len(mailSubjects)),
		mailStyle: newMailColours(theme.PrimaryColor),
	}

	// fields.html holds the labelled-input partial the forms share,
	// console_nav.html the admin console's navigation.
	layout, err := template.ParseFS(files, "layout.html", "fields.html", "console_nav.html")
	if err != nil {
		return nil, fmt.Errorf("templates: parse layout: %w", err)
	}
	for name, sample := range pageSamples {
		t, err := layout.Clone()
		if err != nil {
			return nil, fmt.Errorf("templates: clone layout for %s: %w", name, err)
		}
		if t, err = t.ParseFS(files, name+".html"); err != nil {
			return nil, fmt.Errorf("templates: parse %s: %w", name, err)
		}
		r.pages[name] = t
		if err := r.render(io.Discard, name, sample); err != nil {
			return nil, err
		}
	}
	if err := r.parseMails(); err != nil {
		return nil, err
	}
	return r, nil
}

// StyleHash returns the Content-Security-Policy source expression
// ('sha256-…') of the inline <style> element every page carries, for the
// style-src directive.
func (r *Renderer) StyleHash() string { return r.styleHash }

// render executes page into a buffer and copies it to w only on success.
func (r *Renderer) render(w io.Writer, page string, data any) error {
	t, ok := r.pages[page]
	if !ok {
		return fmt.Errorf("templates: no page %q", page)
	}
	var buf bytes.Buffer
	err := t.ExecuteTemplate(&buf, "layout", view{Theme: r.theme, Style: r.style, Page: data})
	if err != nil {
		return fmt.Errorf("templates: render %s: %w", page, err)
	}
	if _, err := buf.WriteTo(w); err != nil {
		return fmt.Errorf("templates: write %s: %w", page, err)
	}
	return nil
}
