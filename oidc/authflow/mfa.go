package authflow

import (
	"context"
	"errors"
	"net/http"
	"slices"
	"strconv"
	"strings"

	"github.com/labstack/echo/v4"

	"gatehouse/identity"
	"gatehouse/identity/audit"
	"gatehouse/identity/mfa"
	"gatehouse/oidc"
	"gatehouse/templates"
)

// PathMFA is the page of the second-factor step; PathMFAContinue hands a
// flow back to the dispatcher after the enrolment page (?flow=ID).
const (
	PathMFA         = "/login/mfa"
	PathMFAContinue = PathMFA + "/continue"
	// PathMFAPasskey answers passkey.js with the options of a
	// second-factor passkey assertion (?flow=ID).
	PathMFAPasskey = PathMFA + "/passkey"
)

// Notifier queues the user's security notices; identity.Notifier is one.
type Notifier interface {
	SendMail(ctx context.Context, m identity.Mail) error
}

// maxWrongCodes ends a flow: after this many wrong second-factor codes
// no code, right or wrong, continues it.
const maxWrongCodes = 5

// SecondFactors is what the sign-in needs of identity/mfa.
type SecondFactors interface {
	// ListFactors returns the user's confirmed factors.
	ListFactors(ctx context.Context, userID string) ([]mfa.Factor, error)
	// VerifyTOTP accepts a code of one of the user's authenticator apps
	// once, or returns mfa.ErrInvalidCode.
	VerifyTOTP(ctx context.Context, userID, code string) (*mfa.Factor, error)
	// UseRecoveryCode spends one recovery code, or returns
	// mfa.ErrInvalidCode.
	UseRecoveryCode(ctx context.Context, userID, code string) error
	// RemainingRecoveryCodes counts the user's unused recovery codes.
	RemainingRecoveryCodes(ctx context.Context, userID string) (int, error)
}

// Passkeys is what the sign-in needs of identity/mfa's passkeys;
// *mfa.Passkeys is one.
type Passkeys interface {
	// Available reports whether browsers allow passkeys for the issuer.
	Available() bool
	// BeginAssertion starts a passkey assertion bound to binding: a
	// second factor of userID, or a passwordless sign-in when "".
	BeginAssertion(ctx context.Context, userID, binding string) (*mfa.Begun, error)
	// FinishAssertion verifies the browser's response, or returns
	// mfa.ErrPasskeyRefused or mfa.ErrCounterRegression.
	FinishAssertion(ctx context.Context, userID, ceremonyID, binding string, response []byte) (*mfa.Assertion, error)
}

// Challenge is a sign-in waiting for its second factor. Nobody is signed
// in by it until the factor is proved: the session the step then starts
// records both factors.
type Challenge struct {
	UserID string
	// Used are the methods proved so far (the password, or what the
	// session being stepped up used).
	Used []mfa.Method
	// Wrong counts the wrong codes; at maxWrongCodes the flow ends.
	Wrong int `json:",omitempty"`
	// Sent are the kinds of sign-in code (mfa.KindEmail, mfa.KindSMS)
	// sent in this flow, whose forms the page now shows.
	Sent []mfa.Kind `json:",omitempty"`
}

// challenge stops f until the user of ch proves a second factor.
// Whoever the flow was bound to no longer continues it.
func (f *Flow) challenge(ch *Challenge) {
	f.restart()
	f.MFA = ch
}

// methodsOf reads the methods a session used back from its amr claim,
// the inverse of mfa.AMR. A passkey reads "swk" or "hwk" (hardware-bound),
// with "user" when it verified the user. A password plus a recovery code
// reads ["pwd", "mfa"]: the only multi-factor amr whose methods do not
// make it multi-factor by themselves.
func methodsOf(amr []string) []mfa.Method {
	var out []mfa.Method
	for _, v := range amr {
		switch v {
		case "pwd":
			out = append(out, mfa.Method{Kind: mfa.MethodPassword})
		case "otp":
			out = append(out, mfa.Method{Kind: mfa.MethodTOTP})
		case "email":
			out = append(out, mfa.Method{Kind: mfa.MethodEmailCode})
		case "sms":
			out = append(out, mfa.Method{Kind: mfa.MethodSMSCode})
		case "swk", "hwk":
			out = append(out, mfa.Method{Kind: mfa.MethodPasskey, HardwareBound: v == "hwk",
				UserVerified: slices.Contains(amr, "user")})
		}
	}
	if slices.Contains(amr, "mfa") && !slices.Contains(mfa.AMR(out), "mfa") {
		out = append(out, mfa.Method{Kind: mfa.MethodRecoveryCode})
	}
	return out
}

// secondFactor decides whether a sign-in of user that used the methods
// used is enough for the flow f: the user's factors, the client's
// acr_values, and the configured policy and remembered browsers (decide;
// reauth marks a re-authentication). Without SecondFactors nobody has a
// factor.
func (h *Handler) secondFactor(c echo.Context, f *Flow, user *identity.User, used []mfa.Method, reauth bool) (factorCheck, error) {
	in, err := h.mfaInput(c.Request().Context(), f, user, used)
	if err != nil {
		return factorCheck{}, err
	}
	return h.decide(c, f, user, in, reauth)
}

// mfaStep asks for the second factor of a flow's Challenge.
type mfaStep struct{ *Handler }

var errNoChallenge = &oidc.PageError{Status: http.StatusBadRequest, Title: "This sign-in has expired",
	Message: "The sign-in took too long or was already completed. Please return to the application and start again."}

var errTooManyCodes = &oidc.PageError{Status: http.StatusBadRequest, Title: "Too many wrong codes",
	Message: "This sign-in has ended after too many wrong codes. Return to the application, or go to the home page, and sign in again."}

// flow loads the flow named by the page's "flow" parameter: only the
// browser that started it, and only while it waits for a second factor.
func (s mfaStep) flow(c echo.Context) (*Flow, *oidc.Client, error) {
	f, err := s.loadFlow(c, c.FormValue("flow"))
	if err != nil {
		return nil, nil, err
	}
	if f.MFA == nil {
		return nil, nil, errNoChallenge
	}
	if f.ClientID == "" {
		return f, nil, nil
	}
	client, err := s.Clients.Get(c.Request().Context(), f.ClientID)
	if oidc.Unavailable(c.Request().Context(), err) {
		return nil, nil, err
	}
	if err != nil {
		return nil, nil, errFlowExpired
	}
	return f, client, nil
}

func (s mfaStep) render(c echo.Context, status int, f *Flow, client *oidc.Client, method string, errs map[string]string) error {
	methods, err := s.challengeMethods(c.Request().Context(), f)
	if err != nil {
		return err
	}
	p, err := s.challengePage(c, f, client, method, methods)
	if err != nil {
		return err
	}
	p.Errors = errs
	return s.Pages.MFAChallenge(oidc.StartPage(c, status), p)
}

func (s mfaStep) page(c echo.Context) error {
	f, client, err := s.flow(c)
	if err != nil {
		return err
	}
	return s.render(c, http.StatusOK, f, client, c.QueryParam("method"), nil)
}

func (s mfaStep) submit(c echo.Context) error {
	ctx := c.Request().Context()
	f, client, err := s.flow(c)
	if err != nil {
		return err
	}
	if s.MFA == nil {
		return errNoChallenge
	}
	ch := f.MFA
	form := c.FormValue("method")
	var method mfa.Method
	switch form {
	case templates.MFAMethodEmail, templates.MFAMethodSMS:
		return s.signInCode(c, f, client, form)
	case templates.MFAMethodPasskey:
		method, err = s.passkey(c, f)
	case templates.MFAMethodRecovery:
		method = mfa.Method{Kind: mfa.MethodRecoveryCode}
		err = s.MFA.UseRecoveryCode(ctx, ch.UserID, c.FormValue("recovery_code"))
	default:
		form, method = templates.MFAMethodTOTP, mfa.Method{Kind: mfa.MethodTOTP}
		_, err = s.MFA.VerifyTOTP(ctx, ch.UserID, c.FormValue("code"))
	}
	if errors.Is(err, mfa.ErrInvalidCode) || errors.Is(err, mfa.ErrPasskeyRefused) || errors.Is(err, mfa.ErrCounterRegression) {
		return s.wrongCode(c, f, client, form)
	}
	if err != nil {
		return err
	}
	return s.passed(c, f, method)
}

// passed finishes the challenge of f, whose user proved method: the
// session it starts records every method of the sign-in.
func (s mfaStep) passed(c echo.Context, f *Flow, method mfa.Method) error {
	ctx := c.Request().Context()
	ch := f.MFA
	user, err := s.Users.GetUser(ctx, ch.UserID)
	if errors.Is(err, identity.ErrNotFound) || (err == nil && user.Status != identity.StatusActive) {
		return errNoChallenge
	}
	if err != nil {
		return err
	}
	// The flow moves on before the session starts: a flow that ended
	// meanwhile (five wrong codes in another tab) or that a twin request
	// already finished fails here, and nobody is signed in by it.
	if err := s.saveFlow(c, f); err != nil {
		return err
	}
	used := append(slices.Clone(ch.Used), method)
	amr := mfa.AMR(used)
	bs, err := s.Browser.SignInACR(c, user, amr, mfa.ACR(used))
	if err != nil {
		return err
	}
	s.Logger.InfoContext(ctx, "login succeeded", "user_id", user.ID, "amr", strings.Join(amr, " "))
	s.audit(c, oidc.UserEvent(audit.ActionLoginSucceeded, user.ID, signedInDetails(f, usageMethod(used), amr, bs.ID)))
	if method.Kind == mfa.MethodRecoveryCode {
		s.recoveryCodeUsed(c, user)
	}
	if err := s.rememberBrowser(c, user); err != nil {
		return err
	}
	f.signedIn(bs)
	return s.finishStep(c, f, StepMFA)
}

// wrongCode counts a wrong code in the flow, and ends the flow at
// maxWrongCodes: a guesser gets five tries per password proved.
func (s mfaStep) wrongCode(c echo.Context, f *Flow, client *oidc.Client, method string) error {
	ctx := c.Request().Context()
	f.MFA.Wrong++
	// Wrong codes count towards the address's failed sign-ins like wrong
	// passwords, so a guesser soon meets the CAPTCHA on the sign-in page.
	signInStep(s).countFailure(c, "")
	s.Logger.InfoContext(ctx, "login failed", "reason", "bad_second_factor", "user_id", f.MFA.UserID)
	s.audit(c, audit.Entry{ActorType: audit.ActorUser, Subject: f.MFA.UserID, Action: audit.ActionLoginFailed,
		Outcome: audit.OutcomeFailure, Details: withClient(audit.Details{"reason": "bad_second_factor"}, f)})
	// They count towards the account's lockout too: a password proves
	// nothing about the second factor, so each sign-in (which clears the
	// count) may guess a few codes, and then the account is locked.
	locked, err := s.Authenticator.RecordFailure(ctx, f.MFA.UserID, "second_factor")
	if err != nil {
		return err
	}
	if f.MFA.Wrong >= maxWrongCodes || locked {
		if err := s.Flows.DeleteFlow(ctx, f.ID); err != nil {
			return err
		}
		return errTooManyCodes
	}
	if err := s.saveFlow(c, f); err != nil {
		return err
	}
	key, msg := "code", "That code is not right. Enter the code the app shows now."
	switch method {
	case templates.MFAMethodPasskey:
		key, msg = "passkey", "Signing in with your passkey did not work. Try again, or use another way."
	case templates.MFAMethodRecovery:
		key, msg = "recovery_code", "That recovery code is not right or was already used."
	case templates.MFAMethodEmail:
		msg = "That code is not right. Enter the code from the latest e-mail we sent, or ask for a new one."
	case templates.MFAMethodSMS:
		msg = "That code is not right. Enter the code from the latest text message we sent, or ask for a new one."
	}
	return s.render(c, http.StatusUnprocessableEntity, f, client, method, map[string]string{key: msg})
}

// enrolled hands a flow back to the dispatcher once the enrolment page
// (StepEnrol) is done. Only the browser and the session the flow is bound
// to continue it; the dispatcher then asks for the new factor.
func (s mfaStep) enrolled(c echo.Context) error {
	f, err := s.loadFlow(c, c.QueryParam("flow"))
	if err != nil {
		return err
	}
	bs, err := s.Browser.SignedIn(c)
	if err != nil {
		return err
	}
	if f.ClientID == "" || !f.heldBy(bs) {
		return errFlowExpired
	}
	return s.finishStep(c, f, StepEnrol)
}

// passkeyBinding ties a second-factor assertion to its flow and to the
// browser that started the flow. The challenge waits server-side
// (mfa.Ceremonies) and is deleted by the request that finishes it.
func passkeyBinding(f *Flow) string { return "mfa:" + f.ID + ":" + f.Binding }

// passkeyOptions begins a second-factor passkey assertion: JSON for
// passkey.js.
func (s mfaStep) passkeyOptions(c echo.Context) error {
	f, _, err := s.flow(c)
	if err != nil {
		return err
	}
	if !s.passkeysAvailable() {
		return c.JSON(http.StatusNotFound, map[string]string{"error": "passkeys are not available"})
	}
	b, err := s.Passkeys.BeginAssertion(c.Request().Context(), f.MFA.UserID, passkeyBinding(f))
	if errors.Is(err, mfa.ErrNotFound) {
		return c.JSON(http.StatusNotFound, map[string]string{"error": "no passkey"})
	}
	if err != nil {
		return err
	}
	c.Response().Header().Set("Cache-Control", "no-store")
	return c.JSON(http.StatusOK, map[string]any{"ceremony": b.CeremonyID, "publicKey": b.Options})
}

// passkey verifies the passkey assertion posted as the second factor. A
// counter that went backwards (a possible clone) is refused like a wrong
// code and recorded in the audit trail; the security page then warns the
// owner.
func (s mfaStep) passkey(c echo.Context, f *Flow) (mfa.Method, error) {
	ctx := c.Request().Context()
	if !s.passkeysAvailable() {
		return mfa.Method{}, mfa.ErrPasskeyRefused
	}
	a, err := s.Passkeys.FinishAssertion(ctx, f.MFA.UserID, c.FormValue("ceremony"), passkeyBinding(f), []byte(c.FormValue("credential")))
	if errors.Is(err, mfa.ErrCounterRegression) {
		counterRegression(s.Handler, c, a)
		return mfa.Method{}, err
	}
	if err != nil {
		return mfa.Method{}, err
	}
	return a.Method(), nil
}

// counterRegression records a refused assertion whose counter went
// backwards.
func counterRegression(h *Handler, c echo.Context, a *mfa.Assertion) {
	h.Logger.WarnContext(c.Request().Context(), "passkey refused: signature counter went backwards", "user_id", a.UserID, "factor_id", a.Factor.ID)
	h.audit(c, audit.Entry{ActorType: audit.ActorUser, Subject: a.UserID, Action: audit.ActionMFACounterRegression,
		Outcome: audit.OutcomeFailure, Details: audit.Details{"factor_id": a.Factor.ID}})
}

// recoveryCodeUsed audits a sign-in with a recovery code and mails the
// user, with the codes left: a code in someone else's hands does not go
// unnoticed. The sign-in stands whatever happens here, so failures are
// logged, not returned.
func (s mfaStep) recoveryCodeUsed(c echo.Context, user *identity.User) {
	ctx := c.Request().Context()
	left, err := s.MFA.RemainingRecoveryCodes(ctx, user.ID)
	if err != nil {
		s.Logger.ErrorContext(ctx, "count recovery codes", "user_id", user.ID, "error", err)
		return
	}
	s.audit(c, oidc.UserEvent(audit.ActionMFARecoveryCodeUsed, user.ID, audit.Details{"codes_left": strconv.Itoa(left)}))
	if s.Notifier == nil || user.Email == "" {
		return
	}
	name := user.GivenName
	if name == "" {
		name = user.Username
	}
	m := identity.Mail{Kind: identity.MailRecoveryCodeUsed, To: user.Email, Name: name, CodesLeft: left}
	if err := s.Notifier.SendMail(ctx, m); err != nil {
		s.Logger.ErrorContext(ctx, "queue notice", "user_id", user.ID, "kind", string(m.Kind), "error", err)
	}
}
