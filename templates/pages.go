package templates

import (
	"fmt"
	"io"
	"maps"
	"net/http"
	"slices"
	"strings"
)

// LoginPage is the sign-in form. All strings are plain text.
type LoginPage struct {
	Action string // form action URL
	Flow   string // flow id, posted back as "flow"; omitted when empty
	CSRF   string // CSRF token, posted back as "csrf"
	Login  string // username or email to re-fill
	// HomeRealms: some e-mail domains sign in at another provider, so the
	// form may be sent with the address alone (no password required).
	HomeRealms bool
	Error      string // general error shown above the fields, e.g. "Incorrect username or password."
	SignUpURL  string // "Create account" link; hidden when empty
	ForgotURL  string // "Forgot password?" link; hidden when empty
	ClientName string // application the user signs in for; "" for a direct sign-in
	// CaptchaURL, when set, makes the form carry the proof-of-work CAPTCHA
	// (after suspicious failures); CaptchaError says it was missing.
	CaptchaURL   string
	CaptchaError string
	// CaptchaWidget, when its Script is set, is a third-party CAPTCHA
	// (Turnstile, hCaptcha, reCAPTCHA) instead of the proof of work.
	CaptchaWidget CaptchaWidget
	// PasskeyAction, when set, offers "Sign in with a passkey" (posted
	// there by passkey.js, which asks PasskeyOptionsAction for the
	// options) and passkeys in the username field's autofill.
	PasskeyAction        string
	PasskeyOptionsAction string
	// Upstreams are the "Sign in with <Name>" buttons of upstream
	// providers, each a form posting to its Action.
	Upstreams []UpstreamButton
}

// UpstreamButton is a login page's button for an upstream provider.
type UpstreamButton struct {
	ID     string // connector ID, in the button's id (login-upstream-<ID>)
	Name   string
	Action string
}

// SignUpPage is the sign-up form.
type SignUpPage struct {
	Action   string
	Flow     string
	CSRF     string
	LoginURL string // "Already have an account? Sign in" link; hidden when empty
	Values   SignUpValues
	// Errors maps a field name (given_name, family_name, username, email,
	// password) to the message shown under that field.
	Errors  map[string]string
	General string // error not tied to one field
	// PasswordMinLength is the policy's minimum, for the hint and the
	// minlength attribute; 0 means the default of 8.
	PasswordMinLength int
	// CaptchaURL, when set, is where the proof-of-work challenge comes
	// from; the form then carries the CAPTCHA (static/altcha.js).
	CaptchaURL   string
	CaptchaError string
	// CaptchaWidget, when its Script is set, is a third-party CAPTCHA
	// (Turnstile, hCaptcha, reCAPTCHA) instead of the proof of work.
	CaptchaWidget CaptchaWidget
}

// SignUpValues re-fills the sign-up form. The password never is.
type SignUpValues struct {
	Username   string
	Email      string
	Phone      string
	GivenName  string
	FamilyName string
}

// ConsentPage asks the user to let a client access their account.
type ConsentPage struct {
	Action     string
	Flow       string
	CSRF       string
	ClientName string
	ClientURI  string // client's home page, linked when set
	Scopes     []Scope
}

// Scope is one permission listed on the consent page.
type Scope struct {
	Name        string // e.g. "email"; shown only when Description is empty
	Description string // e.g. "See your email address"
}

// LogoutPage confirms an RP-initiated or direct logout.
type LogoutPage struct {
	Action     string
	CSRF       string
	Request    string // opaque logout request, posted back as "request"; omitted when empty
	ClientName string // client that asked for the logout, if any
}

// LoggedOutPage confirms that the session has ended.
type LoggedOutPage struct{}

// HomePage is the landing page at "/".
type HomePage struct {
	SignedIn    bool
	DisplayName string
	LoginURL    string
	SignUpURL   string // "" hides the link, e.g. when registration is closed
	LogoutURL   string
	AccountURL  string // the signed-in user's account pages
}

// ErrorPage is the friendly error page. It holds data only: no error values
// and no stack traces reach it.
type ErrorPage struct {
	Title     string // "" means the status text
	Message   string // "" means a generic apology
	RequestID string // shown as "Error reference" when set
	Status    int
}

// Login renders the sign-in page.
func (r *Renderer) Login(w io.Writer, p LoginPage) error { return r.render(w, "login", p) }

// SignUp renders the sign-up page.
func (r *Renderer) SignUp(w io.Writer, p SignUpPage) error {
	return r.render(w, "signup", newSignUpView(p))
}

// Consent renders the consent page.
func (r *Renderer) Consent(w io.Writer, p ConsentPage) error {
	return r.render(w, "consent", consentView(p))
}

// Logout renders the logout confirmation.
func (r *Renderer) Logout(w io.Writer, p LogoutPage) error { return r.render(w, "logout", p) }

// LoggedOut renders the signed-out page.
func (r *Renderer) LoggedOut(w io.Writer, p LoggedOutPage) error {
	return r.render(w, "logged_out", p)
}

// Home renders the landing page.
func (r *Renderer) Home(w io.Writer, p HomePage) error { return r.render(w, "home", p) }

// Error renders the error page. The caller sets the HTTP status.
func (r *Renderer) Error(w io.Writer, p ErrorPage) error { return r.render(w, "error", errorView(p)) }

// consentView fills in a name for clients registered without one.
func consentView(p ConsentPage) ConsentPage {
	if p.ClientName == "" {
		p.ClientName = "An application"
	}
	return p
}

// errorView fills in a title and message when the caller gave none.
func errorView(p ErrorPage) ErrorPage {
	if p.Title == "" {
		p.Title = http.StatusText(p.Status)
	}
	if p.Title == "" {
		p.Title = "Something went wrong"
	}
	if p.Message == "" {
		p.Message = "Sorry, we could not complete your request. Please try again later."
	}
	return p
}

// minPasswordLength is the browser-side hint only; the server enforces the
// password policy.
const minPasswordLength = 8

// signUpView is SignUpPage with its fields laid out for the template.
type signUpView struct {
	SignUpPage
	Fields []field
}

// field is one labelled input, rendered by the "field" partial
// (fields.html). Its error and hint sit directly under the input, and the
// input names them in aria-describedby.
type field struct {
	ID           string // input id
	Name         string // form name
	Key          string // Errors key and base of the error and hint ids; "" means Name
	Label        string
	Type         string
	Autocomplete string
	Value        string
	Hint         string // shown under the input as Key+"-hint"
	Error        string // shown directly under the input as Key+"-error"
	Required     bool
	Verbatim     bool // no autocapitalisation or spellcheck
	MinLength    int
	MaxLength    int
	InputMode    string // e.g. "numeric"
	Pattern      string
	List         string // id of a <datalist> with suggestions
}

func (f field) key() string {
	if f.Key != "" {
		return f.Key
	}
	return f.Name
}

// ErrorID is the id of the element holding Error.
func (f field) ErrorID() string { return f.key() + "-error" }

// HintID is the id of the element holding Hint.
func (f field) HintID() string { return f.key() + "-hint" }

// DescribedBy is the aria-describedby list: the error first, then the hint.
func (f field) DescribedBy() string {
	var ids []string
	if f.Error != "" {
		ids = append(ids, f.ErrorID())
	}
	if f.Hint != "" {
		ids = append(ids, f.HintID())
	}
	return strings.Join(ids, " ")
}

// withErrors fills in each field's Error from errs, by Key.
func withErrors(fields []field, errs map[string]string) []field {
	for i := range fields {
		fields[i].Error = errs[fields[i].key()]
	}
	return fields
}

// otherErrors returns, sorted by key, the messages in errs that no field
// of the page shows, so that none is lost: they go in the page's alert.
func otherErrors(errs map[string]string, fields ...field) []string {
	shown := make(map[string]bool, len(fields))
	for _, f := range fields {
		shown[f.key()] = true
	}
	var out []string
	for _, k := range slices.Sorted(maps.Keys(errs)) {
		if !shown[k] && errs[k] != "" {
			out = append(out, errs[k])
		}
	}
	return out
}

// passwordHint is the hint under a new-password input.
func passwordHint(minLen int) string {
	return fmt.Sprintf("At least %d characters. Avoid common passwords.", minLen)
}

// passwordMin returns n, or the default when n is not set.
func passwordMin(n int) int {
	if n <= 0 {
		return minPasswordLength
	}
	return n
}

func newSignUpView(p SignUpPage) signUpView {
	minLen := passwordMin(p.PasswordMinLength)
	fields := []field{
		{Name: "given_name", Label: "First name", Type: "text", Autocomplete: "given-name", Value: p.Values.GivenName},
		{Name: "family_name", Label: "Last name", Type: "text", Autocomplete: "family-name", Value: p.Values.FamilyName},
		{Name: "username", Label: "Username", Type: "text", Autocomplete: "username", Value: p.Values.Username, Required: true, Verbatim: true,
			Hint: "Usernames are public: anyone can see whether one is taken."},
		{Name: "email", Label: "Email", Type: "email", Autocomplete: "email", Value: p.Values.Email, Required: true, Verbatim: true},
		{Name: "phone", Label: "Mobile phone (optional)", Type: "tel", Autocomplete: "tel", Value: p.Values.Phone, Verbatim: true,
			Hint: "With the country code, e.g. +44 7700 900123. You can verify it later."},
		{Name: "password", Label: "Password", Type: "password", Autocomplete: "new-password", Required: true, MinLength: minLen,
			Hint: passwordHint(minLen)},
	}
	for i := range fields {
		fields[i].ID = "register-" + fields[i].Name
	}
	return signUpView{SignUpPage: p, Fields: withErrors(fields, p.Errors)}
}

// CaptchaWidget is a third-party CAPTCHA on a form: the provider's script
// fills in its own hidden field inside the element with Class.
type CaptchaWidget struct {
	Script  string // the provider's script URL
	Class   string // e.g. "cf-turnstile"
	SiteKey string
}
