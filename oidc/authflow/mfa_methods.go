package authflow

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/labstack/echo/v4"

	"gatehouse/identity"
	"gatehouse/identity/audit"
	"gatehouse/identity/mfa"
	"gatehouse/oidc"
	"gatehouse/templates"
)

// CodeSender sends and checks the sign-in codes of the challenge by
// e-mail and SMS; *identity.SignInCodes is one.
type CodeSender interface {
	// SendSignInCode sends a code for the sign-in flowID to the user's
	// verified address of ch, or returns *identity.CooldownError or
	// identity.ErrNoChannel.
	SendSignInCode(ctx context.Context, userID string, ch identity.CodeChannel, flowID string) error
	// CheckSignInCode accepts the code sent for flowID once, or returns
	// identity.ErrCodeInvalid, identity.ErrTooManyAttempts or
	// identity.ErrNoChannel.
	CheckSignInCode(ctx context.Context, userID string, ch identity.CodeChannel, flowID, code string) error
}

// methodKinds ties the challenge page's methods to the kinds of factor
// mfa.Decide offers.
var methodKinds = map[mfa.Kind]string{
	mfa.KindWebAuthn: templates.MFAMethodPasskey, mfa.KindTOTP: templates.MFAMethodTOTP,
	mfa.KindEmail: templates.MFAMethodEmail, mfa.KindSMS: templates.MFAMethodSMS,
}

// reachable are the kinds of sign-in code that can reach u: those the
// deployment can send (CodeKinds) to a verified address or number.
func (h *Handler) reachable(u *identity.User) []mfa.Kind {
	if h.Codes == nil || u == nil {
		return nil
	}
	var out []mfa.Kind
	for _, k := range h.CodeKinds {
		if (k == mfa.KindEmail && u.EmailVerified && u.Email != "") || (k == mfa.KindSMS && u.PhoneVerified && u.Phone != "") {
			out = append(out, k)
		}
	}
	return out
}

// mfaInput is what Decide weighs for a sign-in of user in f that used
// used: the user's factors, the client's acr_values, whether the
// configured policy requires MFA of them, and the codes that can reach
// them. (The grace period and remembered browsers are decide's.)
func (h *Handler) mfaInput(ctx context.Context, f *Flow, user *identity.User, used []mfa.Method) (mfa.Input, error) {
	in := mfa.Input{Used: used, Enrollable: []mfa.Kind{mfa.KindTOTP}, Required: h.Policy.Requires(user.Roles, f.ClientID)}
	if h.passkeysAvailable() {
		in.Enrollable = append(in.Enrollable, mfa.KindWebAuthn)
	}
	if f.Form != nil {
		in.ACRValues = strings.Fields(f.Form.Get("acr_values"))
	}
	if h.MFA == nil {
		return in, nil
	}
	var err error
	if in.Factors, err = h.MFA.ListFactors(ctx, user.ID); err != nil {
		return in, err
	}
	in.Reachable = h.reachable(user)
	return in, nil
}

// challengeMethods are the methods the challenge of f accepts, the
// user's default first: those Decide offers, then recovery codes while
// the user has some. A code by e-mail or SMS is among them only when
// Decide offers it, never to a user with an authenticator app or a
// passkey.
func (s mfaStep) challengeMethods(ctx context.Context, f *Flow) ([]string, error) {
	user, err := s.Users.GetUser(ctx, f.MFA.UserID)
	if errors.Is(err, identity.ErrNotFound) {
		return nil, errNoChallenge // the account was deleted meanwhile
	}
	if err != nil {
		return nil, err
	}
	in, err := s.mfaInput(ctx, f, user, f.MFA.Used)
	if err != nil {
		return nil, err
	}
	var out []string
	if d := mfa.Decide(in); d.Outcome == mfa.Challenge {
		for _, k := range mfa.Preferred(d.Offer, in.Factors) {
			// A passkey works only where the browser may use it: an
			// issuer moved to an IP address leaves the other methods.
			if m, ok := methodKinds[k]; ok && (k != mfa.KindWebAuthn || s.passkeysAvailable()) {
				out = append(out, m)
			}
		}
	}
	if s.MFA != nil {
		left, err := s.MFA.RemainingRecoveryCodes(ctx, f.MFA.UserID)
		if err != nil {
			return nil, err
		}
		if left > 0 {
			out = append(out, templates.MFAMethodRecovery)
		}
	}
	if len(out) == 0 {
		// Nothing to offer (a factor removed meanwhile): the app's form,
		// which refuses every code, rather than an empty page.
		out = []string{templates.MFAMethodTOTP}
	}
	return out, nil
}

// challengePage fills the page of f for method, which must be one of
// methods ("" takes the first).
func (s mfaStep) challengePage(c echo.Context, f *Flow, client *oidc.Client, method string, methods []string) (templates.MFAChallengePage, error) {
	if !slices.Contains(methods, method) {
		method = methods[0]
	}
	p := templates.MFAChallengePage{Action: PathMFA, CSRF: oidc.CSRFToken(c), Flow: f.ID, Method: method}
	if s.Browsers != nil {
		p.RememberFor, p.Remember = rememberFor(s.RememberBrowser), c.FormValue("remember") != ""
	}
	if method == templates.MFAMethodPasskey {
		p.PasskeyOptionsAction = PathMFAPasskey
	}
	if client != nil {
		p.ClientName = client.DisplayName()
	}
	for _, m := range methods {
		switch m {
		case method:
		case templates.MFAMethodEmail, templates.MFAMethodSMS:
			p.Others = append(p.Others, templates.MFAMethodOption{Method: m, Send: true})
		default:
			p.Others = append(p.Others, templates.MFAMethodOption{Method: m,
				URL: PathMFA + "?" + url.Values{"flow": {f.ID}, "method": {m}}.Encode()})
		}
	}
	if method == templates.MFAMethodEmail || method == templates.MFAMethodSMS {
		p.Sent = slices.Contains(f.MFA.Sent, mfa.Kind(method))
		u, err := s.Users.GetUser(c.Request().Context(), f.MFA.UserID)
		if errors.Is(err, identity.ErrNotFound) {
			return p, errNoChallenge // the account was deleted meanwhile
		}
		if err != nil {
			return p, err
		}
		p.Destination = identity.MaskPhone(u.Phone)
		if method == templates.MFAMethodEmail {
			p.Destination = identity.MaskEmail(u.Email)
		}
	}
	return p, nil
}

var errMethodRefused = &oidc.PageError{Status: http.StatusBadRequest, Title: "Not available for this sign-in",
	Message: "This way of verifying is not available for your account. Go back and use another one."}

// signInCode sends (send=1) or checks a code by e-mail or SMS. Only a
// method the challenge offers is served: a user with an authenticator
// app or a passkey gets no code, whatever the request says.
func (s mfaStep) signInCode(c echo.Context, f *Flow, client *oidc.Client, method string) error {
	ctx := c.Request().Context()
	methods, err := s.challengeMethods(ctx, f)
	if err != nil {
		return err
	}
	if s.Codes == nil || !slices.Contains(methods, method) {
		s.Logger.InfoContext(ctx, "second factor refused", "reason", "method_not_offered", "method", method, "user_id", f.MFA.UserID)
		return errMethodRefused
	}
	ch := identity.CodeChannel(method)
	if c.FormValue("send") != "" {
		return s.sendCode(c, f, client, method, methods)
	}
	err = s.Codes.CheckSignInCode(ctx, f.MFA.UserID, ch, f.ID, c.FormValue("code"))
	switch {
	case errors.Is(err, identity.ErrCodeInvalid), errors.Is(err, identity.ErrTooManyAttempts):
		return s.wrongCode(c, f, client, method)
	case errors.Is(err, identity.ErrNoChannel):
		return errMethodRefused
	case errors.Is(err, identity.ErrNotFound):
		return errNoChallenge
	case err != nil:
		return err
	}
	kind := mfa.MethodEmailCode
	if ch == identity.ChannelSMS {
		kind = mfa.MethodSMSCode
	}
	return s.passed(c, f, mfa.Method{Kind: kind})
}

// sendCode sends a code of method and shows its form.
func (s mfaStep) sendCode(c echo.Context, f *Flow, client *oidc.Client, method string, methods []string) error {
	ctx := c.Request().Context()
	err := s.Codes.SendSignInCode(ctx, f.MFA.UserID, identity.CodeChannel(method), f.ID)
	var cooldown *identity.CooldownError
	switch {
	case errors.As(err, &cooldown):
		p, err := s.challengePage(c, f, client, method, methods)
		if err != nil {
			return err
		}
		wait := max(int(cooldown.RetryAfter.Round(time.Second)/time.Second), 1)
		unit := "seconds"
		if wait == 1 {
			unit = "second"
		}
		p.Errors = map[string]string{"send": fmt.Sprintf("A code was sent moments ago. You can ask for a new one in %d %s.", wait, unit)}
		c.Response().Header().Set("Retry-After", strconv.Itoa(wait))
		return s.Pages.MFAChallenge(oidc.StartPage(c, http.StatusTooManyRequests), p)
	case errors.Is(err, identity.ErrNoChannel):
		return errMethodRefused
	case errors.Is(err, identity.ErrNotFound):
		return errNoChallenge
	case err != nil:
		return err
	}
	// Each code sent is in the user's security activity: a stream of
	// codes the owner did not ask for means someone has their password.
	s.audit(c, oidc.UserEvent(audit.ActionMFACodeSent, f.MFA.UserID, audit.Details{"channel": method}))
	if !slices.Contains(f.MFA.Sent, mfa.Kind(method)) {
		f.MFA.Sent = append(f.MFA.Sent, mfa.Kind(method))
	}
	if err := s.saveFlow(c, f); err != nil {
		return err
	}
	p, err := s.challengePage(c, f, client, method, methods)
	if err != nil {
		return err
	}
	p.Notice = "We sent a code to " + p.Destination + "."
	return s.Pages.MFAChallenge(oidc.StartPage(c, http.StatusOK), p)
}
