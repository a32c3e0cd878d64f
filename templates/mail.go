package templates

import (
	"bytes"
	"fmt"
	"html/template"
	"math"
	"strconv"
	"strings"
	texttemplate "text/template"

	"gatehouse/identity"
)

// mailSubjects gives each kind of e-mail its subject, after the product
// name and a colon. A kind is known exactly when it is listed here.
var mailSubjects = map[identity.MailKind]string{
	identity.MailVerifyEmail:              "confirm your email address",
	identity.MailConfirmEmailChange:       "confirm your new email address",
	identity.MailEmailChangeRequested:     "email change requested",
	identity.MailEmailChanged:             "your email address was changed",
	identity.MailPasswordReset:            "reset your password",
	identity.MailPasswordChanged:          "your password was changed",
	identity.MailAccountLocked:            "your account was locked",
	identity.MailRegistrationAttempt:      "someone tried to sign up with your email address",
	identity.MailMFAEnabled:               "two-step verification was turned on",
	identity.MailMFARemoved:               "a second factor was removed",
	identity.MailMFARenamed:               "a passkey was renamed",
	identity.MailRecoveryCodesRegenerated: "new recovery codes were made",
	identity.MailRecoveryCodeUsed:         "a recovery code was used",
	identity.MailSignInCode:               "your sign-in code",
	identity.MailInvite:                   "you are invited: set your password",
	identity.MailPasswordElsewhere:        "how to change your password",
	identity.MailLinkRemoved:              "a linked account was removed",
}

// mailTemplates are the two bodies of one kind of e-mail. Each executes
// "mail" with a mailView: the layout (mail_layout.*) calls the kind's
// "body" (mail_<kind>.*).
type mailTemplates struct {
	text *texttemplate.Template
	html *template.Template
}

// mailColours are the theme's colours for inline styles: mail clients
// ignore stylesheets and CSS variables.
type mailColours struct {
	Primary   template.CSS // button background, header rule
	OnPrimary template.CSS // button text: black or white, whichever contrasts more
	Link      template.CSS // links on white: the primary colour if readable, else dark grey
}

// mailView is what the mail templates execute with.
type mailView struct {
	Product string
	Subject string
	Mail    identity.Mail
	Colours mailColours
}

// mailSample is the data New renders every mail with, to settle escaping.
var mailSample = identity.Mail{To: "a@example.com", Name: "A", Link: "https://example.com/x?t=1",
	Code: "123456", NewEmail: "b@example.com", ExpiresIn: "10 minutes", ResetLink: "https://example.com/y?t=2"}

// parseMails parses the two templates of every kind and renders each once.
func (r *Renderer) parseMails() error {
	textLayout, err := texttemplate.ParseFS(files, "mail_layout.txt")
	if err != nil {
		return fmt.Errorf("templates: parse mail text layout: %w", err)
	}
	htmlLayout, err := template.ParseFS(files, "mail_layout.html")
	if err != nil {
		return fmt.Errorf("templates: parse mail html layout: %w", err)
	}
	for kind := range mailSubjects {
		name := "mail_" + string(kind)
		var mt mailTemplates
		if mt.text, err = textLayout.Clone(); err == nil {
			mt.text, err = mt.text.ParseFS(files, name+".txt")
		}
		if err != nil {
			return fmt.Errorf("templates: parse %s.txt: %w", name, err)
		}
		if mt.html, err = htmlLayout.Clone(); err == nil {
			mt.html, err = mt.html.ParseFS(files, name+".html")
		}
		if err != nil {
			return fmt.Errorf("templates: parse %s.html: %w", name, err)
		}
		r.mails[kind] = mt
		sample := mailSample
		sample.Kind = kind
		if _, _, _, err := r.RenderMail(sample); err != nil {
			return err
		}
	}
	return nil
}

// RenderMail renders the subject, the plain-text body and the HTML body of
// m. The subject starts with the product name ("Gatehouse: reset your
// password"). The text body carries the link as it is; the HTML body
// escapes every value and puts the link into href attributes, where a
// scheme other than http(s) or mailto is replaced by "#ZgotmplZ". An
// unknown m.Kind is an error.
func (r *Renderer) RenderMail(m identity.Mail) (subject, text, html string, err error) {
	mt, ok := r.mails[m.Kind]
	if !ok {
		return "", "", "", fmt.Errorf("templates: no mail of kind %q", m.Kind)
	}
	// The subject becomes a header: no line breaks may reach it.
	subject = strings.Join(strings.Fields(r.theme.ProductName+": "+mailSubjects[m.Kind]), " ")
	v := mailView{Product: r.theme.ProductName, Subject: subject, Mail: m, Colours: r.mailStyle}
	var tb, hb bytes.Buffer
	if err := mt.text.ExecuteTemplate(&tb, "mail", v); err != nil {
		return "", "", "", fmt.Errorf("templates: render mail %s text: %w", m.Kind, err)
	}
	if err := mt.html.ExecuteTemplate(&hb, "mail", v); err != nil {
		return "", "", "", fmt.Errorf("templates: render mail %s html: %w", m.Kind, err)
	}
	return subject, tb.String(), hb.String(), nil
}

// newMailColours derives the inline colours from primary, which New has
// checked to be "#rrggbb".
func newMailColours(primary string) mailColours {
	l := luminance(primary)
	c := mailColours{Primary: template.CSS(primary), OnPrimary: "#ffffff", Link: template.CSS(primary)}
	// WCAG 2 contrast ratios against white and against black.
	onWhite, onBlack := 1.05/(l+0.05), (l+0.05)/0.05
	if onBlack > onWhite {
		c.OnPrimary = "#000000"
	}
	if onWhite < 4.5 {
		c.Link = "#1f2937"
	}
	return c
}

// luminance is the WCAG 2 relative luminance of a "#rrggbb" colour.
func luminance(hex string) float64 {
	ch := func(i int) float64 {
		v, _ := strconv.ParseUint(hex[i:i+2], 16, 8)
		s := float64(v) / 255
		if s <= 0.04045 {
			return s / 12.92
		}
		return math.Pow((s+0.055)/1.055, 2.4)
	}
	return 0.2126*ch(1) + 0.7152*ch(3) + 0.0722*ch(5)
}
