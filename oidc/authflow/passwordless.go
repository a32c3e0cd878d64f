package authflow

import (
	"context"
	"errors"
	"net/http"
	"net/url"
	"strings"

	"github.com/labstack/echo/v4"

	"gatehouse/identity"
	"gatehouse/identity/audit"
	"gatehouse/identity/mfa"
	"gatehouse/oidc"
)

// Passwordless sign-in: the routes the login page's passkey form uses.
const (
	PathPasskeyLogin   = "/login/passkey"
	PathPasskeyOptions = PathPasskeyLogin + "/options"
)

// msgBadPasskey is the one answer to every refused passkey sign-in: an
// unknown or removed passkey, a bad signature, a locked or inactive
// account all read the same.
const msgBadPasskey = "Signing in with a passkey did not work. Try again, or sign in with your password."

// PasskeyRecorder is an optional ability of Authenticator: it records a
// sign-in whose first factor was a passkey as a right password is (failure
// counts back to zero, last sign-in), and refuses a locked account.
type PasskeyRecorder interface {
	// RecordPasskeySignIn records the sign-in, or returns
	// identity.ErrLocked.
	RecordPasskeySignIn(ctx context.Context, userID string) error
}

// passwordlessStep is the passkey sign-in of the login page: a first
// factor that, with user verification, is two factors at once. It
// continues the flow exactly as a password does.
type passwordlessStep struct{ *Handler }

// loginBinding ties a passwordless ceremony to this browser (the flow
// cookie). The challenge waits server-side and is deleted by the request
// that finishes it.
func (s passwordlessStep) loginBinding(c echo.Context, create bool) (string, error) {
	b, err := s.binding(c, create)
	if err != nil || b == "" {
		return "", err
	}
	return "login:" + b, nil
}

// options begins a passwordless assertion: JSON for passkey.js.
func (s passwordlessStep) options(c echo.Context) error {
	if !s.passkeysAvailable() {
		return c.JSON(http.StatusNotFound, map[string]string{"error": "passkeys are not available"})
	}
	binding, err := s.loginBinding(c, true)
	if err != nil {
		return err
	}
	b, err := s.Passkeys.BeginAssertion(c.Request().Context(), "", binding)
	if err != nil {
		return err
	}
	c.Response().Header().Set("Cache-Control", "no-store")
	return c.JSON(http.StatusOK, map[string]any{"ceremony": b.CeremonyID, "publicKey": b.Options})
}

// submit finishes a passwordless sign-in.
func (s passwordlessStep) submit(c echo.Context) error {
	ctx := c.Request().Context()
	f, client, err := s.pageFlow(c)
	if err != nil {
		return err
	}
	if !s.passkeysAvailable() {
		return c.Redirect(http.StatusSeeOther, oidc.PathLogin)
	}
	binding, err := s.loginBinding(c, false)
	if err != nil {
		return err
	}
	a, err := s.Passkeys.FinishAssertion(ctx, "", c.FormValue("ceremony"), binding, []byte(c.FormValue("credential")))
	switch {
	case errors.Is(err, mfa.ErrCounterRegression):
		counterRegression(s.Handler, c, a)
		return s.refuse(c, f, client, "counter_regression", a.UserID)
	case errors.Is(err, mfa.ErrPasskeyRefused):
		return s.refuse(c, f, client, "bad_passkey", "")
	case err != nil:
		return err
	}
	user, err := s.Users.GetUser(ctx, a.UserID)
	if errors.Is(err, identity.ErrNotFound) {
		return s.refuse(c, f, client, "bad_passkey", "")
	}
	if err != nil {
		return err
	}
	if user.Status != identity.StatusActive || user.LockedAt(s.Now()) {
		return s.refuse(c, f, client, "account_unavailable", user.ID)
	}
	if r, ok := s.Authenticator.(PasskeyRecorder); ok {
		switch err := r.RecordPasskeySignIn(ctx, user.ID); {
		case errors.Is(err, identity.ErrLocked):
			return s.refuse(c, f, client, "account_unavailable", user.ID)
		case err != nil:
			return err
		}
	}
	if f == nil {
		f = s.directFlow(nextOrHome(c.QueryParam("next")))
	}
	used := []mfa.Method{a.Method()}
	amr := mfa.AMR(used)
	if s.RequireVerifiedEmail && !user.EmailVerified {
		s.Logger.InfoContext(ctx, "login held for email verification", "user_id", user.ID)
		return verifyStep(s).hold(c, f, &Verification{UserID: user.ID, Email: user.Email, AMR: amr}, StepSignIn, true)
	}
	before, err := s.Browser.SignedIn(c)
	if err != nil {
		return err
	}
	switch check, err := s.secondFactor(c, f, user, used, before != nil && before.UserID == user.ID); {
	case err != nil:
		return err
	case check.Outcome == mfa.Challenge:
		// A passkey without user verification is one factor; a user
		// with more factors proves another one.
		s.Logger.InfoContext(ctx, "login waits for a second factor", "user_id", user.ID)
		f.challenge(&Challenge{UserID: user.ID, Used: used})
		return s.finishStep(c, f, StepSignIn)
	case check.Remembered:
		s.recognised(c, user.ID)
	}
	bs, err := s.Browser.SignInACR(c, user, amr, mfa.ACR(used))
	if err != nil {
		return err
	}
	s.Logger.InfoContext(ctx, "login succeeded", "user_id", user.ID, "amr", strings.Join(amr, " "))
	s.audit(c, oidc.UserEvent(audit.ActionLoginSucceeded, user.ID, signedInDetails(f, usageMethod(used), amr, bs.ID)))
	f.signedIn(bs)
	return s.finishStep(c, f, StepSignIn)
}

// refuse answers a failed passkey sign-in with the login page and its
// one generic message, counts it like a wrong password and audits why.
func (s passwordlessStep) refuse(c echo.Context, f *Flow, client *oidc.Client, reason, userID string) error {
	signInStep(s).countFailure(c, "")
	s.Logger.InfoContext(c.Request().Context(), "login failed", "reason", reason, "method", "passkey")
	s.audit(c, audit.Entry{ActorType: audit.ActorUser, Subject: userID, Action: audit.ActionLoginFailed,
		Outcome: audit.OutcomeFailure, Details: withClient(audit.Details{"reason": reason, "method": "passkey"}, f)})
	return signInStep(s).render(c, http.StatusUnprocessableEntity, f, client, "", msgBadPasskey)
}

// passkeyLoginAction is the passkey form's action on the login page,
// keeping "next" like the password form.
func passkeyLoginAction(c echo.Context, f *Flow) string {
	if next := safeNext(c.QueryParam("next")); next != "" && f == nil {
		return PathPasskeyLogin + "?next=" + url.QueryEscape(next)
	}
	return PathPasskeyLogin
}
