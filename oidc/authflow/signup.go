package authflow

import (
	"errors"
	"net/http"

	"github.com/labstack/echo/v4"

	"gatehouse/identity"
	"gatehouse/identity/audit"
	"gatehouse/oidc"
	"gatehouse/oidc/captcha"
	"gatehouse/templates"
)

var errSignUpClosed = &oidc.PageError{Status: http.StatusNotFound, Title: "Registration is closed",
	Message: "New accounts cannot be created here. Please contact your administrator."}

// signUpStep creates an account and signs its owner in, or holds them for
// e-mail verification.
type signUpStep struct{ *Handler }

func (s signUpStep) render(c echo.Context, status int, f *Flow, p templates.SignUpPage) error {
	p.Action, p.CSRF, p.LoginURL = oidc.PathSignUp, oidc.CSRFToken(c), oidc.PathLogin
	p.PasswordMinLength = s.PasswordMinLength
	if s.Captcha.Verifier != nil {
		p.CaptchaURL, p.CaptchaWidget = s.Captcha.URL, s.Captcha.Widget
	}
	if f != nil {
		p.Flow = f.ID
		p.LoginURL += "?flow=" + f.ID
	}
	return s.Pages.SignUp(oidc.StartPage(c, status), p)
}

func (s signUpStep) page(c echo.Context) error {
	if !s.SelfSignup {
		return errSignUpClosed
	}
	f, _, err := s.pageFlow(c)
	if err != nil {
		return err
	}
	return s.render(c, http.StatusOK, f, templates.SignUpPage{})
}

func (s signUpStep) submit(c echo.Context) error {
	if !s.SelfSignup {
		return errSignUpClosed
	}
	ctx := c.Request().Context()
	f, _, err := s.pageFlow(c)
	if err != nil {
		return err
	}
	in := identity.RegisterInput{
		Username: c.FormValue("username"), Email: c.FormValue("email"), Phone: c.FormValue("phone"), Password: c.FormValue("password"),
		GivenName: c.FormValue("given_name"), FamilyName: c.FormValue("family_name"),
	}
	values := templates.SignUpValues{Username: in.Username, Email: in.Email, Phone: in.Phone, GivenName: in.GivenName, FamilyName: in.FamilyName}
	if s.Captcha.Verifier != nil {
		switch err := s.Captcha.Verifier.Verify(ctx, c.Request()); {
		case errors.Is(err, captcha.ErrFailed):
			return s.render(c, http.StatusUnprocessableEntity, f, templates.SignUpPage{Values: values,
				CaptchaError: "Please complete the check (or wait for it to finish), then try again."})
		case errors.Is(err, captcha.ErrUnavailable):
			return captchaUnavailable(c, err)
		case err != nil:
			return err
		}
	}
	user, err := s.Users.Register(ctx, in)
	// Signed up on the page itself: a flow without a client that ends at
	// the home page.
	flow := func() *Flow {
		if f == nil {
			return s.directFlow("/")
		}
		return f
	}
	var taken *identity.TakenEmailError
	if errors.As(err, &taken) {
		// Answered as a new account, so the page tells nobody who has one.
		s.Logger.InfoContext(ctx, "registration with an e-mail address in use answered as new", "user_id", taken.OwnerID)
		s.audit(c, audit.Entry{ActorType: audit.ActorUser, Subject: taken.OwnerID, Action: audit.ActionRegistrationAttempt, Outcome: audit.OutcomeFailure})
		return verifyStep(s).hold(c, flow(), &Verification{UserID: taken.Decoy.ID, Email: taken.Decoy.Email, Decoy: true,
			AMR: []string{"pwd"}, SignUp: true}, StepSignUp, false)
	}
	var ve *identity.ValidationError
	if errors.As(err, &ve) {
		return s.render(c, http.StatusUnprocessableEntity, f, templates.SignUpPage{Values: values, Errors: ve.Fields})
	}
	if err != nil {
		return err
	}
	s.Logger.InfoContext(ctx, "user registered", "user_id", user.ID)
	s.audit(c, oidc.UserEvent(audit.ActionUserRegistered, user.ID, nil))
	if s.RequireVerifiedEmail {
		// Register already sent the verification message.
		return verifyStep(s).hold(c, flow(), &Verification{UserID: user.ID, Email: user.Email, AMR: []string{"pwd"}, SignUp: true}, StepSignUp, false)
	}
	bs, err := s.Browser.SignIn(c, user, []string{"pwd"})
	if err != nil {
		return err
	}
	f = flow()
	f.signedIn(bs)
	f.Done.SignUp = true
	return s.finishStep(c, f, StepSignUp)
}

// captchaUnavailable answers a sign-up that could not be checked because
// the CAPTCHA service is down: 503 and when to come back (RFC 9110
// §15.6.4, §10.2.3). No account is made without the check.
func captchaUnavailable(c echo.Context, err error) error {
	c.Response().Header().Set("Retry-After", "60")
	return &oidc.PageError{Status: http.StatusServiceUnavailable, Title: "Please try again in a minute",
		Message: "We cannot check that you are human right now. Please try again in a minute.", Err: err}
}
