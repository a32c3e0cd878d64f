package recovery

import (
	"context"
	"errors"
	"log/slog"
	"net/http"

	"github.com/labstack/echo/v4"

	"gatehouse/identity"
	"gatehouse/oidc"
	"gatehouse/templates"
)

// Passwords is what the pages need of the identity service.
type Passwords interface {
	// RequestPasswordReset queues a reset link when the account exists;
	// it returns nil either way, once the mail is queued, and takes the
	// same time either way.
	RequestPasswordReset(ctx context.Context, login string) error
	// CheckResetToken reports whether a reset link is still good.
	CheckResetToken(ctx context.Context, token string) (string, error)
	// ResetPassword sets a new password with a reset link's token.
	ResetPassword(ctx context.Context, token, password string) (*identity.User, error)
}

// Unlocker ends a lockout with the e-mailed link.
type Unlocker interface {
	// UnlockWithToken ends the lockout the link's token was made for.
	UnlockWithToken(ctx context.Context, token string) error
}

// Handler serves the recovery pages.
type Handler struct {
	Passwords Passwords
	// Unlocker serves the unlock link; nil answers it 404.
	Unlocker Unlocker
	// Browser signs this browser out after a reset.
	Browser *oidc.Browser
	Pages   *templates.Renderer
	Logger  *slog.Logger
}

// Mount registers the pages on g behind the CSRF protection of every
// hosted form.
func (h *Handler) Mount(g *echo.Group) {
	csrf := oidc.CSRF(h.Browser.Secure)
	g.GET(oidc.PathForgotPassword, h.forgotPage, csrf)
	g.POST(oidc.PathForgotPassword, h.forgotSubmit, csrf)
	g.GET(oidc.PathResetPassword, h.resetPage, csrf)
	g.POST(oidc.PathResetPassword, h.resetSubmit, csrf)
	g.GET(oidc.PathSetPassword, h.resetPage, csrf)
	g.POST(oidc.PathSetPassword, h.resetSubmit, csrf)
	g.GET(oidc.PathUnlock, h.unlock, csrf)
}

func (h *Handler) unlock(c echo.Context) error {
	if h.Unlocker == nil {
		return echo.ErrNotFound
	}
	err := h.Unlocker.UnlockWithToken(c.Request().Context(), c.QueryParam("token"))
	if isCodeError(err) {
		return &oidc.PageError{Status: http.StatusBadRequest, Title: "This link has expired",
			Message: "The unlock link has expired or was already used. The lockout also ends by itself after a few minutes."}
	}
	if err != nil {
		return err
	}
	return h.Pages.Error(oidc.StartPage(c, http.StatusOK), templates.ErrorPage{Title: "Your account is unlocked",
		Message: "You can sign in again. If the failed attempts were not yours, change your password.", Status: http.StatusOK})
}

func (h *Handler) forgotPage(c echo.Context) error {
	return h.Pages.ForgotPassword(oidc.StartPage(c, http.StatusOK), templates.ForgotPasswordPage{Action: oidc.PathForgotPassword, CSRF: oidc.CSRFToken(c)})
}

// forgotSubmit answers the same way whether or not the account exists.
// The lookup and the queueing of the e-mail happen before the answer, so
// that the answer acknowledges a mail that is queued durably and survives
// a crash; RequestPasswordReset returns at the same time after it began
// for every case, so the timing tells an attacker nothing either. A
// failure of the store or the queue is an error page: the user may retry.
func (h *Handler) forgotSubmit(c echo.Context) error {
	login := oidc.Truncate(c.FormValue("login"), oidc.MaxLoginLength)
	if login != "" {
		if err := h.Passwords.RequestPasswordReset(c.Request().Context(), login); err != nil {
			return err
		}
	}
	return h.Pages.ForgotPassword(oidc.StartPage(c, http.StatusOK), templates.ForgotPasswordPage{
		Action: oidc.PathForgotPassword, CSRF: oidc.CSRFToken(c), Sent: true,
	})
}

// resetPageOf is the reset page, or the invitation's when the request
// came to PathSetPassword.
func resetPageOf(c echo.Context, token string) templates.ResetPasswordPage {
	p := templates.ResetPasswordPage{Action: oidc.PathResetPassword, CSRF: oidc.CSRFToken(c), Token: token}
	if c.Path() == oidc.PathSetPassword {
		p.Action, p.Invite = oidc.PathSetPassword, true
	}
	return p
}

func (h *Handler) resetPage(c echo.Context) error {
	token := c.QueryParam("token")
	p := resetPageOf(c, token)
	if _, err := h.Passwords.CheckResetToken(c.Request().Context(), token); err != nil {
		if !isCodeError(err) {
			return err
		}
		p.Invalid = true
	}
	return h.Pages.ResetPassword(oidc.StartPage(c, http.StatusOK), p)
}

func (h *Handler) resetSubmit(c echo.Context) error {
	ctx := c.Request().Context()
	token := c.FormValue("token")
	p := resetPageOf(c, token)
	// The reset's audit entry is written inside its transaction
	// (identity.Recovery.OnPasswordReset), with this request's details.
	u, err := h.Passwords.ResetPassword(oidc.WithAuditRequest(ctx, c), token, c.FormValue("password"))
	var ve *identity.ValidationError
	switch {
	case errors.As(err, &ve):
		p.Errors = ve.Fields
		return h.Pages.ResetPassword(oidc.StartPage(c, http.StatusUnprocessableEntity), p)
	case isCodeError(err):
		p.Invalid = true
		return h.Pages.ResetPassword(oidc.StartPage(c, http.StatusOK), p)
	case err != nil:
		return err
	}
	// Every session of the user ended, this browser's included.
	if err := h.Browser.SignOut(c, nil); err != nil {
		return err
	}
	h.Logger.InfoContext(ctx, "password reset", "user_id", u.ID)
	p.Done, p.Token = true, ""
	return h.Pages.ResetPassword(oidc.StartPage(c, http.StatusOK), p)
}

// isCodeError reports the errors a wrong, expired, used or exhausted code
// or link produces; they all read the same to the user.
func isCodeError(err error) bool {
	return errors.Is(err, identity.ErrCodeInvalid) || errors.Is(err, identity.ErrTooManyAttempts)
}
