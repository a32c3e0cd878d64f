package oidc

import (
	"errors"
	"net/http"
	"net/url"
	"path"
	"strings"

	"github.com/labstack/echo/v4"

	"gatehouse/identity"
	"gatehouse/identity/audit"
	"gatehouse/oidc/captcha"
	"gatehouse/templates"
)

const msgBadLogin = "Incorrect username or password."

// pageFlow loads the flow named by the "flow" parameter, if any, and the
// client it belongs to.
func (h *Handler) pageFlow(c echo.Context) (*Flow, *Client, error) {
	id := c.FormValue("flow")
	if id == "" {
		return nil, nil, nil
	}
	f, err := h.loadFlow(c, id)
	if err != nil {
		return nil, nil, err
	}
	client, err := h.Provider.Clients.Get(c.Request().Context(), f.ClientID)
	if Unavailable(c.Request().Context(), err) {
		return nil, nil, err // 503: the flow may well be alive
	}
	if err != nil {
		return nil, nil, errFlowExpired
	}
	return f, client, nil
}

func (h *Handler) renderLogin(c echo.Context, status int, f *Flow, client *Client, login, msg string) error {
	p := templates.LoginPage{Action: PathLogin, CSRF: csrfToken(c), Login: login, Error: msg, ForgotURL: PathForgotPassword}
	if next := safeNext(c.QueryParam("next")); next != "" && f == nil {
		p.Action += "?next=" + url.QueryEscape(next)
	}
	if f != nil {
		p.Flow = f.ID
		if login == "" {
			p.Login = Truncate(f.Form.Get("login_hint"), MaxLoginLength)
		}
	}
	if client != nil {
		p.ClientName = client.DisplayName()
	}
	if h.loginNeedsCaptcha(c, login) {
		p.CaptchaURL, p.CaptchaWidget = h.CaptchaURL, h.CaptchaWidget
	}
	if h.SelfSignup {
		p.RegisterURL = PathSignUp
		if f != nil {
			p.RegisterURL += "?flow=" + f.ID
		}
	}
	return h.Pages.Login(StartPage(c, status), p)
}

func (h *Handler) loginPage(c echo.Context) error {
	f, client, err := h.pageFlow(c)
	if err != nil {
		return err
	}
	return h.renderLogin(c, http.StatusOK, f, client, "", "")
}

func (h *Handler) loginSubmit(c echo.Context) error {
	ctx := c.Request().Context()
	f, client, err := h.pageFlow(c)
	if err != nil {
		return err
	}
	login, password := c.FormValue("login"), c.FormValue("password")
	if login == "" || password == "" || len(login) > MaxLoginLength {
		return h.renderLogin(c, http.StatusOK, f, client, Truncate(login, MaxLoginLength), msgBadLogin)
	}
	if h.loginNeedsCaptcha(c, login) {
		switch err := h.Captcha.Verify(ctx, c.Request()); {
		case errors.Is(err, captcha.ErrFailed):
			return h.renderLoginCaptcha(c, f, client, login)
		case errors.Is(err, captcha.ErrUnavailable):
			// Refusing would let whoever can cut the server off from the
			// service keep a chosen user out; the rate limits and the
			// lockout still hold without the check.
			h.Logger.WarnContext(ctx, "captcha service unavailable: sign-in goes on without the check", "error", err)
		case err != nil:
			return err
		}
	}
	// A locked account answers as a wrong password does: the owner learns
	// of the lockout from the unlock mail and the security activity, which
	// the identity service's hooks record with this request's details.
	user, ok, err := h.Users.Authenticate(WithAuditRequest(ctx, c), login, password)
	if err != nil {
		return err
	}
	if !ok {
		h.countFailure(c, login)
		h.Logger.InfoContext(ctx, "login failed", "reason", "bad_credentials")
		// Who was targeted, never the password (see failedLoginDetail).
		details := h.failedLoginDetail(ctx, login)
		details["reason"] = "bad_credentials"
		h.audit(c, audit.Entry{ActorType: audit.ActorUser, Action: audit.ActionLoginFailed, Outcome: audit.OutcomeFailure,
			Details: details})
		return h.renderLogin(c, http.StatusOK, f, client, login, msgBadLogin)
	}
	if h.RequireVerifiedEmail && !user.EmailVerified {
		h.Logger.InfoContext(ctx, "login held for email verification", "user_id", user.ID)
		return h.holdForVerification(c, user, f, true)
	}
	bs, err := h.Browser.SignIn(c, user, []string{"pwd"})
	if err != nil {
		return err
	}
	h.Logger.InfoContext(ctx, "login succeeded", "user_id", user.ID, "amr", "pwd")
	h.audit(c, UserEvent(audit.ActionLoginSucceeded, user.ID, audit.Details{"amr": "pwd", "session_id": bs.ID}))
	if f == nil {
		next := safeNext(c.QueryParam("next"))
		if next == "" {
			next = "/"
		}
		return c.Redirect(http.StatusSeeOther, next)
	}
	f.signedIn(user.ID, bs.ID)
	return h.finishStep(c, f, stepLogin)
}

var errSignupClosed = pageError(http.StatusNotFound, "Registration is closed", "New accounts cannot be created here. Please contact your administrator.")

func (h *Handler) renderSignup(c echo.Context, status int, f *Flow, p templates.RegisterPage) error {
	p.Action, p.CSRF, p.LoginURL = PathSignUp, csrfToken(c), PathLogin
	p.PasswordMinLength = h.PasswordMinLength
	if h.Captcha != nil {
		p.CaptchaURL, p.CaptchaWidget = h.CaptchaURL, h.CaptchaWidget
	}
	if f != nil {
		p.Flow = f.ID
		p.LoginURL += "?flow=" + f.ID
	}
	return h.Pages.Register(StartPage(c, status), p)
}

func (h *Handler) signupPage(c echo.Context) error {
	if !h.SelfSignup {
		return errSignupClosed
	}
	f, _, err := h.pageFlow(c)
	if err != nil {
		return err
	}
	return h.renderSignup(c, http.StatusOK, f, templates.RegisterPage{})
}

func (h *Handler) signupSubmit(c echo.Context) error {
	if !h.SelfSignup {
		return errSignupClosed
	}
	ctx := c.Request().Context()
	f, _, err := h.pageFlow(c)
	if err != nil {
		return err
	}
	in := identity.RegisterInput{
		Username: c.FormValue("username"), Email: c.FormValue("email"), Phone: c.FormValue("phone"), Password: c.FormValue("password"),
		GivenName: c.FormValue("given_name"), FamilyName: c.FormValue("family_name"),
	}
	values := templates.RegisterValues{Username: in.Username, Email: in.Email, Phone: in.Phone, GivenName: in.GivenName, FamilyName: in.FamilyName}
	if h.Captcha != nil {
		switch err := h.Captcha.Verify(ctx, c.Request()); {
		case errors.Is(err, captcha.ErrFailed):
			return h.renderSignup(c, http.StatusUnprocessableEntity, f, templates.RegisterPage{Values: values,
				CaptchaError: "Please complete the check (or wait for it to finish), then try again."})
		case errors.Is(err, captcha.ErrUnavailable):
			return captchaUnavailable(c, err)
		case err != nil:
			return err
		}
	}
	user, err := h.Users.Register(ctx, in)
	var taken *identity.TakenEmailError
	if errors.As(err, &taken) {
		// Answered as a new account, so the page tells nobody who has one.
		h.Logger.InfoContext(ctx, "registration with an e-mail address in use answered as new", "user_id", taken.OwnerID)
		h.audit(c, audit.Entry{ActorType: audit.ActorUser, Subject: taken.OwnerID, Action: audit.ActionRegistrationAttempt, Outcome: audit.OutcomeFailure})
		return h.holdForVerification(c, taken.Decoy, f, false)
	}
	var ve *identity.ValidationError
	if errors.As(err, &ve) {
		return h.renderSignup(c, http.StatusUnprocessableEntity, f, templates.RegisterPage{
			Values: values,
			Errors: ve.Fields,
		})
	}
	if err != nil {
		return err
	}
	h.Logger.InfoContext(ctx, "user registered", "user_id", user.ID)
	h.audit(c, UserEvent(audit.ActionUserRegistered, user.ID, nil))
	if h.RequireVerifiedEmail {
		// Register already sent the verification message.
		return h.holdForVerification(c, user, f, false)
	}
	bs, err := h.Browser.SignIn(c, user, []string{"pwd"})
	if err != nil {
		return err
	}
	if f == nil {
		return c.Redirect(http.StatusSeeOther, "/")
	}
	f.signedIn(user.ID, bs.ID)
	f.RegisterDone = true
	return h.finishStep(c, f, stepRegister)
}

func (h *Handler) home(c echo.Context) error {
	bs, err := h.Browser.SignedIn(c)
	if err != nil {
		return err
	}
	p := templates.HomePage{LoginURL: PathLogin, LogoutURL: PathEndSession, AccountURL: "/account"}
	if h.SelfSignup {
		p.RegisterURL = PathSignUp
	}
	if bs != nil {
		u, err := h.Users.GetUser(c.Request().Context(), bs.UserID)
		if err == nil {
			p.SignedIn = true
			p.DisplayName = u.Name()
			if p.DisplayName == "" {
				p.DisplayName = u.Username
			}
		}
	}
	return h.Pages.Home(StartPage(c, http.StatusOK), p)
}

// safeNext returns where a login outside any authorization flow may send
// the browser afterwards: only the account area, never another site (an
// open redirect would let a phishing link borrow this domain).
func safeNext(next string) string {
	if strings.ContainsAny(next, "\\\r\n") {
		return ""
	}
	u, err := url.Parse(next)
	if err != nil || u.Scheme != "" || u.Host != "" || u.User != nil || u.Fragment != "" {
		return ""
	}
	// Only clean paths: "/account/../x" must not climb out of the area.
	if u.Path != path.Clean(u.Path) || (u.Path != "/account" && !strings.HasPrefix(u.Path, "/account/")) {
		return ""
	}
	return next
}

// failureKeys are the counters a failed sign-in adds to: the address and
// the login name as typed (known or not, so the CAPTCHA reveals nothing
// about which accounts exist).
func failureKeys(c echo.Context, login string) []string {
	keys := []string{"ip:" + c.RealIP()}
	if login != "" {
		keys = append(keys, "login:"+strings.ToLower(login))
	}
	return keys
}

// loginNeedsCaptcha reports whether the address or the login name has
// seen CaptchaAfter failed sign-ins within the window.
func (h *Handler) loginNeedsCaptcha(c echo.Context, login string) bool {
	if h.Failures == nil || h.Captcha == nil {
		return false
	}
	for _, k := range failureKeys(c, login) {
		n, err := h.Failures.Count(c.Request().Context(), k, h.FailureWindow)
		if err != nil {
			h.Logger.WarnContext(c.Request().Context(), "failed-login counter unavailable", "error", err)
			continue
		}
		if n >= h.CaptchaAfter {
			return true
		}
	}
	return false
}

func (h *Handler) countFailure(c echo.Context, login string) {
	if h.Failures == nil {
		return
	}
	for _, k := range failureKeys(c, login) {
		if err := h.Failures.Add(c.Request().Context(), k, h.FailureWindow); err != nil {
			h.Logger.WarnContext(c.Request().Context(), "failed-login counter unavailable", "error", err)
		}
	}
}

func (h *Handler) renderLoginCaptcha(c echo.Context, f *Flow, client *Client, login string) error {
	p := templates.LoginPage{Action: PathLogin, CSRF: csrfToken(c), Login: login, ForgotURL: PathForgotPassword,
		CaptchaURL: h.CaptchaURL, CaptchaWidget: h.CaptchaWidget,
		CaptchaError: "Please complete the check, then sign in again."}
	if f != nil {
		p.Flow = f.ID
	}
	if client != nil {
		p.ClientName = client.DisplayName()
	}
	if h.SelfSignup {
		p.RegisterURL = PathSignUp
	}
	return h.Pages.Login(StartPage(c, http.StatusUnprocessableEntity), p)
}
