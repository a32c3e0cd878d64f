package templates

import (
	"encoding/base64"
	"html/template"
	"io"
	"net/url"
	"strings"
)

// defaultSecurityURL is where a finished enrolment continues when
// TOTPSetupPage.ContinueURL is empty.
const defaultSecurityURL = "/account?section=security"

// TOTPSetupPage adds an authenticator app in two states: first the key
// (QR code, grouped secret, otpauth:// link) and a field for the first
// code; then, once that code was right, the recovery codes, shown once.
type TOTPSetupPage struct {
	// StartAction, when set, shows only the start of the enrolment (a
	// sign-in whose application asks for two-step verification): one
	// button that posts there.
	StartAction string
	// Passkeys, with StartAction, offers adding a passkey too (first: it
	// is the stronger factor, and the one acr_values=phr asks for).
	Passkeys AccountPasskeys
	// PasskeyOnly, on the start page, leaves the authenticator app out:
	// the sign-in asks for what only a passkey gives (acr_values=phr).
	PasskeyOnly bool
	Action      string // the code form
	CSRF        string
	// Flow is the sign-in the enrolment is part of, posted back as
	// "flow"; omitted when empty.
	Flow string
	// LaterAction, on the start page, offers "Set up later" (posting
	// the flow there) during the policy's grace period, which has
	// LaterDays left.
	LaterAction string
	LaterDays   int
	FactorID    string // the pending factor, posted back as "factor"
	Secret      string // base32 in groups of four
	URI         string // otpauth:// key URI
	// QRCode is SVG markup made by identity/mfa from URI: our own
	// drawing, shown as an image so no markup of it reaches the page.
	QRCode string
	// Errors maps a field name ("code") to the message shown under it;
	// messages for other keys are shown above the form.
	Errors map[string]string
	// RecoveryCodes, when set, means enrolment is done: they are shown
	// instead of the key, each in its own list item, with a download.
	RecoveryCodes []string
	ContinueURL   string // after the codes; "" means the security section
	// CodesNotice is shown above the recovery codes; "" says the app is
	// set up (the end of an enrolment).
	CodesNotice string
}

// TOTPSetup renders the authenticator app enrolment page.
func (r *Renderer) TOTPSetup(w io.Writer, p TOTPSetupPage) error {
	return r.render(w, "mfa_totp", newTOTPSetupView(p))
}

type totpSetupView struct {
	TOTPSetupPage
	Code  field
	Alert alert
	// QRCodeSrc is the SVG as a data: URL for an <img>, which the
	// Content-Security-Policy's img-src allows.
	QRCodeSrc template.URL
	// OTPAuthURL is URI typed as safe: html/template would replace a
	// scheme other than http(s) and mailto. It is our own URI.
	OTPAuthURL template.URL
	// DownloadURL holds RecoveryCodes as a text file.
	DownloadURL template.URL
}

func newTOTPSetupView(p TOTPSetupPage) totpSetupView {
	if p.ContinueURL == "" {
		p.ContinueURL = defaultSecurityURL
	}
	code := codeField("totp-code", "code", "Code from the app", "The 6-digit code the app shows now.")
	code.Error = p.Errors[code.key()]
	v := totpSetupView{TOTPSetupPage: p, Code: code, Alert: alert{ID: "totp-error", Messages: otherErrors(p.Errors, code)}}
	if p.QRCode != "" {
		v.QRCodeSrc = template.URL("data:image/svg+xml;base64," + base64.StdEncoding.EncodeToString([]byte(p.QRCode)))
	}
	if strings.HasPrefix(p.URI, "otpauth://") {
		v.OTPAuthURL = template.URL(p.URI)
	}
	if len(p.RecoveryCodes) > 0 {
		text := "Recovery codes. Each works once, in place of a code from your app.\r\n\r\n" +
			strings.Join(p.RecoveryCodes, "\r\n") + "\r\n"
		v.DownloadURL = template.URL("data:text/plain;charset=utf-8," + url.PathEscape(text))
	}
	return v
}

// MFAConfirmPage asks a user who just signed in again with their second
// factor to confirm the change they asked for before (removing a factor,
// new recovery codes): the change itself is a POST, which no sign-in
// should make on the user's behalf.
type MFAConfirmPage struct {
	Title   string // e.g. "Remove Authenticator app?"
	Message string
	// Action takes the POST of Button, with Factor as "factor" when set.
	Action, CSRF, Factor string
	Button               string // the button's text and accessible name
	CancelURL            string
}

// MFAConfirm renders the confirmation of a second-factor change.
func (r *Renderer) MFAConfirm(w io.Writer, p MFAConfirmPage) error {
	return r.render(w, "mfa_confirm", p)
}

// The ways a challenge page can ask for the second factor (the "method"
// field posted back).
const (
	MFAMethodPasskey  = "passkey"
	MFAMethodTOTP     = "totp"
	MFAMethodRecovery = "recovery"
	MFAMethodEmail    = "email"
	MFAMethodSMS      = "sms"
)

// MFAChallengePage asks a user who proved their password for a second
// factor: a code from their authenticator app, one of their recovery
// codes, or a code sent by e-mail or SMS. It shows one method (the
// user's default first) and offers the others.
type MFAChallengePage struct {
	Action string
	CSRF   string
	Flow   string // posted back as "flow"
	// Method is the method shown (MFAMethodTOTP, ...); "" is TOTP.
	Method string
	// Destination is where a code of MFAMethodEmail or MFAMethodSMS
	// goes, masked ("a•••@example.com").
	Destination string
	// Sent: a code of Method was sent in this sign-in, so the page asks
	// for it (and offers a new one); without, it offers to send one.
	Sent bool
	// Others are the other methods, each a link (URL) or, for a code to
	// send, a button that sends it.
	Others     []MFAMethodOption
	ClientName string // the application being signed in to; "" when none
	// Notice confirms a code sent.
	Notice string
	// PasskeyOptionsAction is set with Method MFAMethodPasskey: the
	// script asks it for the assertion's options and posts the result
	// to Action with method=passkey.
	PasskeyOptionsAction string
	// Errors maps a field name ("code", "recovery_code") to the message
	// shown under it; others are shown above the form.
	Errors map[string]string
	// RememberFor, when set ("30 days"), offers the checkbox "remember"
	// not to ask again on this browser for that long; Remember ticks it.
	RememberFor string
	Remember    bool
}

// MFAMethodOption is another way to answer the challenge.
type MFAMethodOption struct {
	Method string // MFAMethodTOTP, ...: the button's or link's id is "mfa-use-" + Method
	// URL shows the method's form; empty for a code to send, which is a
	// button posting Method with send=1.
	URL string
	// Label is the link's or button's text, and so its accessible name;
	// empty takes the method's usual one.
	Label string
	Send  bool
}

// methodLabels name the other methods on the challenge page.
var methodLabels = map[string]string{
	MFAMethodPasskey:  "Use a passkey",
	MFAMethodTOTP:     "Use your authenticator app",
	MFAMethodRecovery: "Use a recovery code",
	MFAMethodEmail:    "Send a code by e-mail",
	MFAMethodSMS:      "Send a code by SMS",
}

// MFAChallenge renders the second-factor page of a sign-in.
func (r *Renderer) MFAChallenge(w io.Writer, p MFAChallengePage) error {
	return r.render(w, "mfa_challenge", newMFAChallengeView(p))
}

type mfaChallengeView struct {
	MFAChallengePage
	Code  field
	Alert alert
	// ShowCode shows the code form; SendLabel, when set, the button that
	// sends a code.
	ShowCode  bool
	SendLabel string
}

func newMFAChallengeView(p MFAChallengePage) mfaChallengeView {
	if p.Method == "" {
		p.Method = MFAMethodTOTP
	}
	v := mfaChallengeView{ShowCode: true}
	code := codeField("mfa-code", "code", "Code from your authenticator app", "Open the app and enter the 6-digit code it shows.")
	switch p.Method {
	case MFAMethodPasskey:
		v.ShowCode = false
	case MFAMethodRecovery:
		code = field{ID: "mfa-recovery-code", Name: "recovery_code", Label: "Recovery code", Type: "text",
			Autocomplete: "one-time-code", MaxLength: 20, Required: true, Verbatim: true,
			Hint: "One of the codes you saved when you set up two-step verification, like ABCDE-FGHJK. Each works once."}
	case MFAMethodEmail, MFAMethodSMS:
		label, where := "Code from the e-mail", "by e-mail"
		if p.Method == MFAMethodSMS {
			label, where = "Code from the text message", "by SMS"
		}
		code = codeField("mfa-code", "code", label, "The 6-digit code we sent to "+p.Destination+".")
		v.ShowCode = p.Sent
		v.SendLabel = "Send a code " + where
		if p.Sent {
			v.SendLabel = "Send a new code"
		}
	}
	for i, o := range p.Others {
		if o.Label == "" {
			p.Others[i].Label = methodLabels[o.Method]
		}
	}
	code.Error = p.Errors[code.key()]
	v.MFAChallengePage, v.Code, v.Alert = p, code, alert{ID: "mfa-error", Messages: otherErrors(p.Errors, code)}
	if !v.ShowCode {
		v.Alert.Messages = otherErrors(p.Errors)
	}
	return v
}
