package oidc

import (
	"context"
	"errors"
	"net/http"

	"github.com/labstack/echo/v4"

	"gatehouse/identity"
	"gatehouse/templates"
)

// Paths of the recovery and verification pages.
const (
	PathForgotPassword = "/forgot-password"
	PathResetPassword  = "/reset-password"
	PathVerifyEmail    = "/verify-email"
	PathVerifyResend   = "/verify-email/resend"
)

// Recovery is what the recovery and verification pages need of the
// identity service.
type Recovery interface {
	// RequestPasswordReset queues a reset link when the account exists;
	// it returns nil either way, once the mail is queued, and takes the
	// same time either way.
	RequestPasswordReset(ctx context.Context, login string) error
	// CheckResetToken reports whether a reset link is still good.
	CheckResetToken(ctx context.Context, token string) (string, error)
	// ResetPassword sets a new password with a reset link's token.
	ResetPassword(ctx context.Context, token, password string) (*identity.User, error)
	// StartEmailVerification mails a new verification link and code.
	StartEmailVerification(ctx context.Context, userID string) error
	// VerifyEmailToken verifies the address behind a link's token.
	VerifyEmailToken(ctx context.Context, token string) (*identity.User, error)
	// VerifyEmailCode verifies the user's address with a code.
	VerifyEmailCode(ctx context.Context, userID, code string) error
}

func (h *Handler) forgotPage(c echo.Context) error {
	return h.Pages.ForgotPassword(StartPage(c, http.StatusOK), templates.ForgotPasswordPage{Action: PathForgotPassword, CSRF: csrfToken(c)})
}

// forgotSubmit answers the same way whether or not the account exists.
// The lookup and the queueing of the e-mail happen before the answer, so
// that the answer acknowledges a mail that is queued durably and survives
// a crash; RequestPasswordReset returns at the same time after it began
// for every case, so the timing tells an attacker nothing either. A
// failure of the store or the queue is an error page: the user may retry.
func (h *Handler) forgotSubmit(c echo.Context) error {
	login := truncate(c.FormValue("login"), maxLoginLength)
	if login != "" {
		if err := h.Recovery.RequestPasswordReset(c.Request().Context(), login); err != nil {
			return err
		}
	}
	return h.Pages.ForgotPassword(StartPage(c, http.StatusOK), templates.ForgotPasswordPage{
		Action: PathForgotPassword, CSRF: csrfToken(c), Sent: true,
	})
}

func (h *Handler) resetPage(c echo.Context) error {
	token := c.QueryParam("token")
	p := templates.ResetPasswordPage{Action: PathResetPassword, CSRF: csrfToken(c), Token: token}
	if _, err := h.Recovery.CheckResetToken(c.Request().Context(), token); err != nil {
		if !isCodeError(err) {
			return err
		}
		p.Invalid = true
	}
	return h.Pages.ResetPassword(StartPage(c, http.StatusOK), p)
}

func (h *Handler) resetSubmit(c echo.Context) error {
	ctx := c.Request().Context()
	token := c.FormValue("token")
	p := templates.ResetPasswordPage{Action: PathResetPassword, CSRF: csrfToken(c), Token: token}
	// The audit entry is written inside the reset's transaction
	// (identity.Service.OnPasswordReset), with this request's details.
	u, err := h.Recovery.ResetPassword(WithAuditRequest(ctx, c), token, c.FormValue("password"))
	var ve *identity.ValidationError
	switch {
	case errors.As(err, &ve):
		p.Errors = ve.Fields
		return h.Pages.ResetPassword(StartPage(c, http.StatusUnprocessableEntity), p)
	case isCodeError(err):
		p.Invalid = true
		return h.Pages.ResetPassword(StartPage(c, http.StatusOK), p)
	case err != nil:
		return err
	}
	// Every session of the user ended, this browser's included.
	if err := h.clearSession(c, nil); err != nil {
		return err
	}
	h.Logger.InfoContext(ctx, "password reset", "user_id", u.ID)
	p.Done, p.Token = true, ""
	return h.Pages.ResetPassword(StartPage(c, http.StatusOK), p)
}

// isCodeError reports the errors a wrong, expired, used or exhausted code
// or link produces; they all read the same to the user.
func isCodeError(err error) bool {
	return errors.Is(err, identity.ErrCodeInvalid) || errors.Is(err, identity.ErrTooManyAttempts)
}
