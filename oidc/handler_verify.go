package oidc

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"time"

	"github.com/labstack/echo/v4"

	"gatehouse/identity"
	"gatehouse/identity/audit"
	"gatehouse/templates"
)

// pendingCookie holds a user who proved their password but must verify
// their e-mail address before the first login. It is authenticated and
// encrypted like the session cookie and names no session.
const pendingCookie = "gatehouse_pending"

type pendingLogin struct {
	UserID string
	FlowID string
	// Email is the address the page is about. The page of a registration
	// decoy (identity.TakenEmailError), which has no account to read it
	// from, takes it from here.
	Email string
	// decoy marks a pending login whose account does not exist.
	decoy bool
}

// Verifier is what the verification pages need of the identity service.
type Verifier interface {
	// StartEmailVerification mails a new verification link and code.
	StartEmailVerification(ctx context.Context, userID string) error
	// VerifyEmailToken verifies the address behind a link's token.
	VerifyEmailToken(ctx context.Context, token string) (*identity.User, error)
	// VerifyEmailCode verifies the user's address with a code.
	VerifyEmailCode(ctx context.Context, userID, code string) error
}

// isCodeError reports the errors a wrong, expired, used or exhausted code
// or link produces; they all read the same to the user.
func isCodeError(err error) bool {
	return errors.Is(err, identity.ErrCodeInvalid) || errors.Is(err, identity.ErrTooManyAttempts)
}

// DecoyVerifier is an optional ability of Recovery: the verification page
// of a registration that Users.Register answered with
// *identity.TakenEmailError. Without it every code is wrong and a resend
// pretends to send.
type DecoyVerifier interface {
	// VerifyDecoyCode fails every code as a wrong one would.
	VerifyDecoyCode(ctx context.Context, decoyID, code string) error
	// ResendDecoyCode answers a resend as for a real account.
	ResendDecoyCode(ctx context.Context, decoyID, email string) error
}

func (h *Handler) setPending(c echo.Context, userID, email, flowID string) error {
	cs, _ := h.Browser.Cookies.New(c.Request(), h.Browser.CookieName(pendingCookie))
	cs.Values = map[interface{}]interface{}{"u": userID, "e": email, "f": flowID, "x": h.Now().Add(flowLifetime).Unix()}
	cs.Options.MaxAge = int(flowLifetime / time.Second)
	if err := cs.Save(c.Request(), c.Response()); err != nil {
		return fmt.Errorf("pending cookie: %w", err)
	}
	return nil
}

func (h *Handler) getPending(c echo.Context) *pendingLogin {
	cs, _ := h.Browser.Cookies.Get(c.Request(), h.Browser.CookieName(pendingCookie))
	u, _ := cs.Values["u"].(string)
	e, _ := cs.Values["e"].(string)
	f, _ := cs.Values["f"].(string)
	x, _ := cs.Values["x"].(int64)
	if u == "" || h.Now().Unix() > x {
		return nil
	}
	return &pendingLogin{UserID: u, FlowID: f, Email: e}
}

func (h *Handler) clearPending(c echo.Context) error {
	cs, _ := h.Browser.Cookies.New(c.Request(), h.Browser.CookieName(pendingCookie))
	cs.Options.MaxAge = -1
	return cs.Save(c.Request(), c.Response())
}

// holdForVerification sends a user whose address is unverified to the
// code page instead of signing them in (registration.require_verified_email).
// A registration decoy (identity.TakenEmailError) comes this way too, so
// that its answer is that of a new account.
func (h *Handler) holdForVerification(c echo.Context, u *identity.User, f *Flow, sendCode bool) error {
	if sendCode {
		var ce *identity.CooldownError
		if err := h.Recovery.StartEmailVerification(c.Request().Context(), u.ID); err != nil && !errors.As(err, &ce) {
			return err
		}
	}
	flowID := ""
	if f != nil {
		flowID = f.ID
	}
	if err := h.setPending(c, u.ID, u.Email, flowID); err != nil {
		return err
	}
	return c.Redirect(http.StatusSeeOther, PathVerifyEmail)
}

// verifyTarget is the user whose address the verification page is about:
// the pending login first, else the signed-in user. A pending login
// without an account is a registration decoy; its page looks the same.
func (h *Handler) verifyTarget(c echo.Context) (*identity.User, *pendingLogin, error) {
	p := h.getPending(c)
	id := ""
	if p != nil {
		id = p.UserID
	} else if bs, err := h.Browser.SignedIn(c); err != nil {
		return nil, nil, err
	} else if bs != nil {
		id = bs.UserID
	}
	if id == "" {
		return nil, nil, errNothingToVerify
	}
	u, err := h.Users.GetUser(c.Request().Context(), id)
	if errors.Is(err, identity.ErrNotFound) && p != nil && p.Email != "" {
		p.decoy = true
		return &identity.User{ID: p.UserID, Email: p.Email}, p, nil
	}
	if errors.Is(err, identity.ErrNotFound) {
		return nil, nil, errNothingToVerify
	}
	return u, p, err
}

// verifyCode checks a code for the verification page's target.
func (h *Handler) verifyCode(ctx context.Context, u *identity.User, p *pendingLogin, code string) error {
	if p == nil || !p.decoy {
		return h.Recovery.VerifyEmailCode(ctx, u.ID, code)
	}
	if d, ok := h.Recovery.(DecoyVerifier); ok {
		if err := d.VerifyDecoyCode(ctx, u.ID, code); err != nil {
			return err
		}
	}
	return identity.ErrCodeInvalid // no code verifies an account that does not exist
}

// resendCode sends the verification page's target a new code.
func (h *Handler) resendCode(ctx context.Context, u *identity.User, p *pendingLogin) error {
	if p == nil || !p.decoy {
		return h.Recovery.StartEmailVerification(ctx, u.ID)
	}
	if d, ok := h.Recovery.(DecoyVerifier); ok {
		return d.ResendDecoyCode(ctx, u.ID, u.Email)
	}
	return nil
}

var errNothingToVerify = pageError(http.StatusBadRequest, "Nothing to verify",
	"Sign in first; the verification page belongs to a sign-in or to your account.")

func (h *Handler) renderVerify(c echo.Context, status int, u *identity.User, errs map[string]string, notice string) error {
	return h.Pages.VerifyEmail(StartPage(c, status), templates.VerifyEmailPage{
		Action: PathVerifyEmail, ResendAction: PathVerifyResend, CSRF: csrfToken(c),
		Email: u.Email, Errors: errs, Notice: notice,
	})
}

// verifyPage serves the link from the e-mail (token) and the code form.
func (h *Handler) verifyPage(c echo.Context) error {
	if token := c.QueryParam("token"); token != "" {
		u, err := h.Recovery.VerifyEmailToken(c.Request().Context(), token)
		if isCodeError(err) {
			return pageError(http.StatusBadRequest, "This link has expired",
				"The verification link has expired or was already used. Sign in to get a new one.")
		}
		if err != nil {
			return err
		}
		h.Logger.InfoContext(c.Request().Context(), "email verified", "user_id", u.ID, "method", "link")
		h.audit(c, UserEvent(audit.ActionEmailVerified, u.ID, audit.Details{"method": "link"}))
		if p := h.getPending(c); p != nil && p.UserID == u.ID {
			return h.completePending(c, u, p)
		}
		return h.Pages.VerifyEmail(StartPage(c, http.StatusOK), templates.VerifyEmailPage{
			Email: u.Email, Notice: "Your email address is verified.", Verified: true,
		})
	}
	u, _, err := h.verifyTarget(c)
	if err != nil {
		return err
	}
	return h.renderVerify(c, http.StatusOK, u, nil, "")
}

func (h *Handler) verifySubmit(c echo.Context) error {
	ctx := c.Request().Context()
	u, p, err := h.verifyTarget(c)
	if err != nil {
		return err
	}
	err = h.verifyCode(ctx, u, p, c.FormValue("code"))
	switch {
	case errors.Is(err, identity.ErrTooManyAttempts):
		return h.renderVerify(c, http.StatusUnprocessableEntity, u, map[string]string{"code": "Too many wrong codes. Send a new code and try again."}, "")
	case isCodeError(err):
		return h.renderVerify(c, http.StatusUnprocessableEntity, u, map[string]string{"code": "That code is not right or has expired."}, "")
	case err != nil:
		return err
	}
	h.Logger.InfoContext(ctx, "email verified", "user_id", u.ID, "method", "code")
	h.audit(c, UserEvent(audit.ActionEmailVerified, u.ID, audit.Details{"method": "one_time_number"}))
	if p != nil {
		return h.completePending(c, u, p)
	}
	return c.Redirect(http.StatusSeeOther, "/account?"+url.Values{"notice": {"email_verified"}}.Encode())
}

func (h *Handler) verifyResend(c echo.Context) error {
	u, p, err := h.verifyTarget(c)
	if err != nil {
		return err
	}
	err = h.resendCode(c.Request().Context(), u, p)
	var ce *identity.CooldownError
	switch {
	case errors.As(err, &ce):
		return h.renderVerify(c, http.StatusTooManyRequests, u, nil,
			fmt.Sprintf("A code was sent moments ago. You can ask for another in %d seconds.", int(ce.RetryAfter.Seconds()+0.5)))
	case err != nil:
		return err
	}
	return h.renderVerify(c, http.StatusOK, u, nil, "We sent a new code to "+u.Email+".")
}

// completePending signs in a user who just verified their address and
// continues the authorization flow they started, if any.
func (h *Handler) completePending(c echo.Context, u *identity.User, p *pendingLogin) error {
	if err := h.clearPending(c); err != nil {
		return err
	}
	bs, err := h.Browser.SignIn(c, u, []string{"pwd"})
	if err != nil {
		return err
	}
	if p.FlowID == "" {
		return c.Redirect(http.StatusSeeOther, "/")
	}
	f, err := h.loadFlow(c, p.FlowID)
	if err != nil {
		return err
	}
	f.signedIn(u.ID, bs.ID)
	return h.finishStep(c, f, stepLogin)
}
