package authflow

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/url"

	"github.com/labstack/echo/v4"

	"gatehouse/identity"
	"gatehouse/identity/audit"
	"gatehouse/oidc"
	"gatehouse/templates"
)

// verifyStep proves the e-mail address of a user whose first sign-in is
// held for it (registration.require_verified_email), and serves the same
// page to a signed-in user verifying their address from the account.
//
// The held user is in the flow (Flow.Held), never in a cookie of its own.
// The page is found at one address whether or not an authorization
// request is under way: it is about the flow of this browser held last
// (FlowStore.HeldFlow), as only the browser that started a flow can
// continue it.
type verifyStep struct{ *Handler }

var errNothingToVerify = &oidc.PageError{Status: http.StatusBadRequest, Title: "Nothing to verify",
	Message: "Sign in first; the verification page belongs to a sign-in or to your account."}

// hold stops f until the user of v proves their address, and hands it to
// the dispatcher, which sends the browser to this step. sendCode mails a
// code first (sign-up already sent one).
func (s verifyStep) hold(c echo.Context, f *Flow, v *Verification, from Step, sendCode bool) error {
	if sendCode {
		var ce *identity.CooldownError
		if err := s.Verifier.StartEmailVerification(c.Request().Context(), v.UserID); err != nil && !errors.As(err, &ce) {
			return err
		}
	}
	f.hold(v, s.Now().UTC())
	return s.finishStep(c, f, from)
}

// target is the user the page is about: the one held by this browser's
// flow first, else the signed-in user. A held sign-up decoy has no
// account; its page looks the same.
func (s verifyStep) target(c echo.Context) (*identity.User, *Flow, error) {
	f, err := s.heldFlow(c)
	if err != nil {
		return nil, nil, err
	}
	id := ""
	if f != nil {
		if f.Held.Decoy {
			return &identity.User{ID: f.Held.UserID, Email: f.Held.Email}, f, nil
		}
		id = f.Held.UserID
	} else if bs, err := s.Browser.SignedIn(c); err != nil {
		return nil, nil, err
	} else if bs != nil {
		id = bs.UserID
	}
	if id == "" {
		return nil, nil, errNothingToVerify
	}
	u, err := s.Users.GetUser(c.Request().Context(), id)
	if errors.Is(err, identity.ErrNotFound) {
		return nil, nil, errNothingToVerify
	}
	return u, f, err
}

// check checks a code for the page's target.
func (s verifyStep) check(ctx context.Context, u *identity.User, f *Flow, code string) error {
	if f == nil || !f.Held.Decoy {
		return s.Verifier.VerifyEmailCode(ctx, u.ID, code)
	}
	if d, ok := s.Verifier.(DecoyVerifier); ok {
		if err := d.VerifyDecoyCode(ctx, u.ID, code); err != nil {
			return err
		}
	}
	return identity.ErrCodeInvalid // no code verifies an account that does not exist
}

// send mails the page's target a new code.
func (s verifyStep) send(ctx context.Context, u *identity.User, f *Flow) error {
	if f == nil || !f.Held.Decoy {
		return s.Verifier.StartEmailVerification(ctx, u.ID)
	}
	if d, ok := s.Verifier.(DecoyVerifier); ok {
		return d.ResendDecoyCode(ctx, u.ID, u.Email)
	}
	return nil
}

func (s verifyStep) render(c echo.Context, status int, u *identity.User, errs map[string]string, notice string) error {
	return s.Pages.VerifyEmail(oidc.StartPage(c, status), templates.VerifyEmailPage{
		Action: oidc.PathVerifyEmail, ResendAction: oidc.PathVerifyResend, CSRF: oidc.CSRFToken(c),
		Email: u.Email, Errors: errs, Notice: notice,
	})
}

// page serves the link from the e-mail (token) and the code form.
func (s verifyStep) page(c echo.Context) error {
	if token := c.QueryParam("token"); token != "" {
		return s.link(c, token)
	}
	u, _, err := s.target(c)
	if err != nil {
		return err
	}
	return s.render(c, http.StatusOK, u, nil, "")
}

// link verifies the address behind the e-mailed link. Opened in the
// browser whose sign-in is held for that user, it lets the sign-in go on.
func (s verifyStep) link(c echo.Context, token string) error {
	ctx := c.Request().Context()
	u, err := s.Verifier.VerifyEmailToken(ctx, token)
	if isCodeError(err) {
		return &oidc.PageError{Status: http.StatusBadRequest, Title: "This link has expired",
			Message: "The verification link has expired or was already used. Sign in to get a new one."}
	}
	if err != nil {
		return err
	}
	s.Logger.InfoContext(ctx, "email verified", "user_id", u.ID, "method", "link")
	s.audit(c, oidc.UserEvent(audit.ActionEmailVerified, u.ID, audit.Details{"method": "link"}))
	f, err := s.heldFlow(c)
	if err != nil {
		return err
	}
	if f != nil && !f.Held.Decoy && f.Held.UserID == u.ID {
		return s.verified(c, u, f)
	}
	return s.Pages.VerifyEmail(oidc.StartPage(c, http.StatusOK), templates.VerifyEmailPage{
		Email: u.Email, Notice: "Your email address is verified.", Verified: true,
	})
}

func (s verifyStep) submit(c echo.Context) error {
	ctx := c.Request().Context()
	u, f, err := s.target(c)
	if err != nil {
		return err
	}
	err = s.check(ctx, u, f, c.FormValue("code"))
	switch {
	case errors.Is(err, identity.ErrTooManyAttempts):
		return s.render(c, http.StatusUnprocessableEntity, u, map[string]string{"code": "Too many wrong codes. Send a new code and try again."}, "")
	case isCodeError(err):
		return s.render(c, http.StatusUnprocessableEntity, u, map[string]string{"code": "That code is not right or has expired."}, "")
	case err != nil:
		return err
	}
	s.Logger.InfoContext(ctx, "email verified", "user_id", u.ID, "method", "code")
	s.audit(c, oidc.UserEvent(audit.ActionEmailVerified, u.ID, audit.Details{"method": "one_time_number"}))
	if f != nil {
		return s.verified(c, u, f)
	}
	return c.Redirect(http.StatusSeeOther, "/account?"+url.Values{"notice": {"email_verified"}}.Encode())
}

func (s verifyStep) resend(c echo.Context) error {
	u, f, err := s.target(c)
	if err != nil {
		return err
	}
	err = s.send(c.Request().Context(), u, f)
	var ce *identity.CooldownError
	switch {
	case errors.As(err, &ce):
		return s.render(c, http.StatusTooManyRequests, u, nil,
			fmt.Sprintf("A code was sent moments ago. You can ask for another in %d seconds.", int(ce.RetryAfter.Seconds()+0.5)))
	case err != nil:
		return err
	}
	return s.render(c, http.StatusOK, u, nil, "We sent a new code to "+u.Email+".")
}

// verified signs in the user the flow f held, now that their address is
// proved, and hands the flow back to the dispatcher.
func (s verifyStep) verified(c echo.Context, u *identity.User, f *Flow) error {
	bs, err := s.Browser.SignIn(c, u, f.Held.AMR)
	if err != nil {
		return err
	}
	f.signedIn(bs)
	return s.finishStep(c, f, StepVerifyEmail)
}

// isCodeError reports the errors a wrong, expired, used or exhausted code
// or link produces; they all read the same to the user.
func isCodeError(err error) bool {
	return errors.Is(err, identity.ErrCodeInvalid) || errors.Is(err, identity.ErrTooManyAttempts)
}
