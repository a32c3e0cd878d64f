package templates

import "io"

// Default targets of the links between the recovery pages, matching the
// provider's routes; a page struct overrides them.
const (
	defaultLoginURL  = "/login"
	defaultForgotURL = "/forgot-password"
)

// forgotSentMessage is the one answer to a reset request. It reads the
// same whether or not the account exists, so the page tells nobody which
// usernames and addresses are registered.
const forgotSentMessage = "If an account exists for that username or email, we have sent a link to reset the password. Check your inbox."

// ForgotPasswordPage asks for the account whose password to reset.
type ForgotPasswordPage struct {
	Action   string
	CSRF     string
	Login    string // username or email to re-fill
	Sent     bool   // the request was taken: show forgotSentMessage instead of the form
	Error    string // problem with the login field, shown under it
	LoginURL string // "Back to sign in" link; "" means "/login"
}

// ResetPasswordPage sets a new password with the token of a reset link.
type ResetPasswordPage struct {
	Action string
	CSRF   string
	Token  string // the link's token, posted back as "token"
	// Errors maps a field name ("password") to the message shown under
	// it; messages for other keys are shown above the form.
	Errors  map[string]string
	Invalid bool // the link expired or was used: offer a new one instead of the form
	Done    bool // the password was changed: offer to sign in
	// Invite words the page for an invitation: the person sets their
	// first password ("Set your password").
	Invite bool
	// PasswordMinLength is the policy's minimum, for the hint and the
	// minlength attribute; 0 means the default of 8.
	PasswordMinLength int
	LoginURL          string // "" means "/login"
	ForgotURL         string // "Request a new link"; "" means "/forgot-password"
}

// VerifyEmailPage asks for the 6-digit code sent to the user's address.
type VerifyEmailPage struct {
	Action       string // code form
	ResendAction string // "Send a new code" form
	CSRF         string
	Flow         string // flow id, posted back as "flow" by both forms; omitted when empty
	Email        string // the address the code went to
	// Errors maps a field name ("code") to the message shown under it;
	// messages for other keys are shown above the form.
	Errors   map[string]string
	Notice   string // confirmation, e.g. "We sent a new code."
	Verified bool   // the address is verified: show Notice and a way on instead of the forms
	// ContinueURL is where a verified user goes next; "" means "/".
	ContinueURL string
}

// ForgotPassword renders the password reset request page.
func (r *Renderer) ForgotPassword(w io.Writer, p ForgotPasswordPage) error {
	return r.render(w, "forgot_password", newForgotView(p))
}

// ResetPassword renders the new-password page of a reset link.
func (r *Renderer) ResetPassword(w io.Writer, p ResetPasswordPage) error {
	return r.render(w, "reset_password", newResetView(p))
}

// VerifyEmail renders the e-mail verification page.
func (r *Renderer) VerifyEmail(w io.Writer, p VerifyEmailPage) error {
	return r.render(w, "verify_email", newVerifyView(p))
}

// alert is the list of problems shown above a form (the "alert" partial).
type alert struct {
	ID       string
	Messages []string
}

type forgotView struct {
	ForgotPasswordPage
	SentMessage string
	Login       field
}

func newForgotView(p ForgotPasswordPage) forgotView {
	if p.LoginURL == "" {
		p.LoginURL = defaultLoginURL
	}
	return forgotView{
		ForgotPasswordPage: p,
		SentMessage:        forgotSentMessage,
		Login: field{ID: "forgot-login", Name: "login", Label: "Username or email", Type: "text",
			Autocomplete: "username", Value: p.Login, Error: p.Error, Required: true, Verbatim: true},
	}
}

type resetView struct {
	ResetPasswordPage
	Password field
	Alert    alert
}

func newResetView(p ResetPasswordPage) resetView {
	if p.LoginURL == "" {
		p.LoginURL = defaultLoginURL
	}
	if p.ForgotURL == "" {
		p.ForgotURL = defaultForgotURL
	}
	minLen := passwordMin(p.PasswordMinLength)
	pw := field{ID: "reset-password", Name: "password", Label: "New password", Type: "password",
		Autocomplete: "new-password", Required: true, MinLength: minLen, Hint: passwordHint(minLen)}
	if p.Invite {
		pw.Label = "Password"
	}
	pw.Error = p.Errors[pw.key()]
	return resetView{ResetPasswordPage: p, Password: pw, Alert: alert{ID: "reset-error", Messages: otherErrors(p.Errors, pw)}}
}

type verifyView struct {
	VerifyEmailPage
	Code  field
	Alert alert
}

func newVerifyView(p VerifyEmailPage) verifyView {
	if p.ContinueURL == "" {
		p.ContinueURL = "/"
	}
	if p.Verified && p.Notice == "" {
		p.Notice = "Your email address is verified."
	}
	code := codeField("verify-code", "code", "Verification code", "")
	code.Error = p.Errors[code.key()]
	return verifyView{VerifyEmailPage: p, Code: code, Alert: alert{ID: "verify-error", Messages: otherErrors(p.Errors, code)}}
}

// codeField is an input for a 6-digit one-time code, posted as "code"; key
// tells the code inputs of one page apart.
func codeField(id, key, label, hint string) field {
	return field{ID: id, Name: "code", Key: key, Label: label, Type: "text", Autocomplete: "one-time-code",
		InputMode: "numeric", Pattern: "[0-9]{6}", MaxLength: 6, Required: true, Verbatim: true, Hint: hint}
}
