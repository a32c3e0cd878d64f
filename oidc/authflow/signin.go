package authflow

import (
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"net/http"
	"net/url"
	"path"
	"strings"

	"github.com/labstack/echo/v4"

	"gatehouse/identity"
	"gatehouse/identity/audit"
	"gatehouse/identity/mfa"
	"gatehouse/identity/usage"
	"gatehouse/oidc"
	"gatehouse/oidc/captcha"
	"gatehouse/templates"
)

const (
	msgBadLogin = "Incorrect username or password."
	// msgDisabled is shown only after the right password: a wrong one on
	// a disabled account reads as msgBadLogin.
	msgDisabled = "This account has been deactivated. Contact your administrator."
)

// signInStep is the password sign-in: its page, and the home page that
// leads to it.
type signInStep struct{ *Handler }

func (s signInStep) render(c echo.Context, status int, f *Flow, client *oidc.Client, login, msg string) error {
	p := templates.LoginPage{Action: oidc.PathLogin, CSRF: oidc.CSRFToken(c), Login: login, Error: msg, ForgotURL: oidc.PathForgotPassword}
	if next := safeNext(c.QueryParam("next")); next != "" && f == nil {
		p.Action += "?next=" + url.QueryEscape(next)
	}
	if f != nil {
		p.Flow = f.ID
		if login == "" {
			p.Login = oidc.Truncate(f.Form.Get("login_hint"), oidc.MaxLoginLength)
		}
	}
	if client != nil {
		p.ClientName = client.DisplayName()
	}
	if s.needsCaptcha(c, login) {
		p.CaptchaURL, p.CaptchaWidget = s.Captcha.URL, s.Captcha.Widget
	}
	if s.passkeysAvailable() {
		p.PasskeyAction, p.PasskeyOptionsAction = passkeyLoginAction(c, f), PathPasskeyOptions
	}
	p.Upstreams, p.HomeRealms = s.upstreamButtons(), len(s.HomeRealms) > 0
	if s.SelfSignup {
		p.SignUpURL = oidc.PathSignUp
		if f != nil {
			p.SignUpURL += "?flow=" + f.ID
		}
	}
	return s.Pages.Login(oidc.StartPage(c, status), p)
}

func (s signInStep) page(c echo.Context) error {
	f, client, err := s.pageFlow(c)
	if err != nil {
		return err
	}
	return s.render(c, http.StatusOK, f, client, "", "")
}

func (s signInStep) submit(c echo.Context) error {
	ctx := c.Request().Context()
	f, client, err := s.pageFlow(c)
	if err != nil {
		return err
	}
	login, password := c.FormValue("login"), c.FormValue("password")
	if conn := s.realmConnector(login); conn != nil && len(login) <= oidc.MaxLoginLength {
		// Home-realm discovery: this address signs in at its
		// organisation's provider, so no password is checked here.
		if f == nil {
			f = s.directFlow(nextOrHome(c.QueryParam("next")))
		}
		return upstreamStep(s).redirect(c, f, conn, login)
	}
	if login == "" || password == "" || len(login) > oidc.MaxLoginLength {
		return s.render(c, http.StatusOK, f, client, oidc.Truncate(login, oidc.MaxLoginLength), msgBadLogin)
	}
	if s.needsCaptcha(c, login) {
		switch err := s.Captcha.Verifier.Verify(ctx, c.Request()); {
		case errors.Is(err, captcha.ErrFailed):
			return s.renderCaptcha(c, f, client, login)
		case errors.Is(err, captcha.ErrUnavailable):
			// Refusing would let whoever can cut the server off from the
			// service keep a chosen user out; the rate limits and the
			// lockout still hold without the check.
			s.Logger.WarnContext(ctx, "captcha service unavailable: sign-in goes on without the check", "error", err)
		case err != nil:
			return err
		}
	}
	// A locked account answers as a wrong password does: the owner learns
	// of the lockout from the unlock mail and the security activity, which
	// the identity service's hooks record with this request's details.
	user, connector, ok, err := s.authenticate(oidc.WithAuditRequest(ctx, c), login, password)
	if status, msg, refused := s.federationRefusal(c, login, err); refused {
		return s.render(c, status, f, client, login, msg)
	}
	if errors.Is(err, identity.ErrAccountDisabled) {
		s.Logger.InfoContext(ctx, "login failed", "reason", "account_disabled")
		details := s.failedLoginDetail(ctx, login)
		details["reason"] = "account_disabled"
		s.audit(c, audit.Entry{ActorType: audit.ActorUser, Action: audit.ActionLoginFailed, Outcome: audit.OutcomeFailure,
			Details: withClient(details, f)})
		return s.render(c, http.StatusOK, f, client, login, msgDisabled)
	}
	if err != nil {
		return err
	}
	if !ok {
		s.countFailure(c, login)
		s.Logger.InfoContext(ctx, "login failed", "reason", "bad_credentials")
		// Who was targeted, never the password (see failedLoginDetail).
		details := s.failedLoginDetail(ctx, login)
		details["reason"] = "bad_credentials"
		s.audit(c, audit.Entry{ActorType: audit.ActorUser, Action: audit.ActionLoginFailed, Outcome: audit.OutcomeFailure,
			Details: withClient(details, f)})
		return s.render(c, http.StatusOK, f, client, login, msgBadLogin)
	}
	if f == nil {
		// Signed in on the page itself: a flow without a client, which
		// ends where "next" points (see advance).
		f = s.directFlow(nextOrHome(c.QueryParam("next")))
	}
	f.Connector = connector
	if s.RequireVerifiedEmail && !user.EmailVerified {
		s.Logger.InfoContext(ctx, "login held for email verification", "user_id", user.ID)
		return verifyStep(s).hold(c, f, &Verification{UserID: user.ID, Email: user.Email, AMR: []string{"pwd"}}, StepSignIn, true)
	}
	// A user with a second factor proves it before anyone is signed in.
	// Signing in again over one's own session is a re-authentication,
	// which no remembered browser stands in for.
	before, err := s.Browser.SignedIn(c)
	if err != nil {
		return err
	}
	first := []mfa.Method{{Kind: mfa.MethodPassword}}
	switch check, err := s.secondFactor(c, f, user, first, before != nil && before.UserID == user.ID); {
	case err != nil:
		return err
	case check.Outcome == mfa.Challenge:
		s.Logger.InfoContext(ctx, "login waits for a second factor", "user_id", user.ID)
		f.challenge(&Challenge{UserID: user.ID, Used: first})
		return s.finishStep(c, f, StepSignIn)
	case check.Remembered:
		s.recognised(c, user.ID)
	}
	bs, err := s.Browser.SignIn(c, user, []string{"pwd"})
	if err != nil {
		return err
	}
	s.Logger.InfoContext(ctx, "login succeeded", "user_id", user.ID, "amr", "pwd", "connector_id", connector)
	method := usage.MethodPassword
	if connector != "" {
		// Password connectors are directories today (LDAP).
		method = usage.MethodLDAP
	}
	details := signedInDetails(f, method, []string{"pwd"}, bs.ID)
	if connector != "" {
		details["connector_id"] = connector
	}
	s.audit(c, oidc.UserEvent(audit.ActionLoginSucceeded, user.ID, details))
	f.signedIn(bs)
	return s.finishStep(c, f, StepSignIn)
}

func (s signInStep) home(c echo.Context) error {
	bs, err := s.Browser.SignedIn(c)
	if err != nil {
		return err
	}
	p := templates.HomePage{LoginURL: oidc.PathLogin, LogoutURL: oidc.PathEndSession, AccountURL: "/account"}
	if s.SelfSignup {
		p.SignUpURL = oidc.PathSignUp
	}
	if bs != nil {
		u, err := s.Users.GetUser(c.Request().Context(), bs.UserID)
		if err == nil {
			p.SignedIn = true
			p.DisplayName = u.Name()
			if p.DisplayName == "" {
				p.DisplayName = u.Username
			}
		}
	}
	return s.Pages.Home(oidc.StartPage(c, http.StatusOK), p)
}

// nextOrHome is where a sign-in outside any authorization flow ends.
func nextOrHome(next string) string {
	if next = safeNext(next); next != "" {
		return next
	}
	return "/"
}

// safeNext returns where a login outside any authorization flow may send
// the browser afterwards: only the account area and the admin console,
// never another site (an open redirect would let a phishing link borrow
// this domain).
func safeNext(next string) string {
	if strings.ContainsAny(next, "\\\r\n") {
		return ""
	}
	u, err := url.Parse(next)
	if err != nil || u.Scheme != "" || u.Host != "" || u.User != nil || u.Fragment != "" {
		return ""
	}
	// Only clean paths: "/account/../x" must not climb out of the area.
	if u.Path != path.Clean(u.Path) || (!within(u.Path, "/account") && !within(u.Path, "/admin")) {
		return ""
	}
	return next
}

// within reports whether p is area or a path under it.
func within(p, area string) bool { return p == area || strings.HasPrefix(p, area+"/") }

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

// needsCaptcha reports whether the address or the login name has seen
// Captcha.After failed sign-ins within the window.
func (s signInStep) needsCaptcha(c echo.Context, login string) bool {
	if s.Captcha.Failures == nil || s.Captcha.Verifier == nil {
		return false
	}
	for _, k := range failureKeys(c, login) {
		n, err := s.Captcha.Failures.Count(c.Request().Context(), k, s.Captcha.Window)
		if err != nil {
			s.Logger.WarnContext(c.Request().Context(), "failed-login counter unavailable", "error", err)
			continue
		}
		if n >= s.Captcha.After {
			return true
		}
	}
	return false
}

func (s signInStep) countFailure(c echo.Context, login string) {
	if s.Captcha.Failures == nil {
		return
	}
	for _, k := range failureKeys(c, login) {
		if err := s.Captcha.Failures.Add(c.Request().Context(), k, s.Captcha.Window); err != nil {
			s.Logger.WarnContext(c.Request().Context(), "failed-login counter unavailable", "error", err)
		}
	}
}

func (s signInStep) renderCaptcha(c echo.Context, f *Flow, client *oidc.Client, login string) error {
	p := templates.LoginPage{Action: oidc.PathLogin, CSRF: oidc.CSRFToken(c), Login: login, ForgotURL: oidc.PathForgotPassword,
		CaptchaURL: s.Captcha.URL, CaptchaWidget: s.Captcha.Widget,
		CaptchaError: "Please complete the check, then sign in again.", Upstreams: s.upstreamButtons(),
		HomeRealms: len(s.HomeRealms) > 0}
	if f != nil {
		p.Flow = f.ID
	}
	if client != nil {
		p.ClientName = client.DisplayName()
	}
	if s.SelfSignup {
		p.SignUpURL = oidc.PathSignUp
	}
	return s.Pages.Login(oidc.StartPage(c, http.StatusUnprocessableEntity), p)
}

// failedLoginDetail says in the audit trail which login name a failed
// sign-in used. The trail is append-only and people type passwords into
// the login field, so a name that belongs to no account is never kept in
// clear: only its HMAC under LoginAuditKey ("login_hmac"), which still
// shows that one unknown name was tried again and again. A name that
// belongs to an account is kept as typed ("login"). When that cannot be
// told (no LoginFinder, or the lookup failed) the name counts as unknown.
func (s signInStep) failedLoginDetail(ctx context.Context, login string) audit.Details {
	known := false
	if f, ok := s.Users.(LoginFinder); ok {
		var err error
		if known, err = f.LoginExists(ctx, login); err != nil {
			s.Logger.WarnContext(ctx, "login lookup for the audit trail failed", "error", err)
			known = false
		}
	}
	return loginDetail(s.LoginAuditKey, login, known)
}

// loginDetail is failedLoginDetail's rule. Without a key nothing about an
// unknown name is recorded: an HMAC under no key could be reversed by
// guessing.
func loginDetail(key []byte, login string, known bool) audit.Details {
	if known {
		return audit.Details{"login": oidc.Truncate(login, 100)}
	}
	if len(key) == 0 {
		return audit.Details{}
	}
	m := hmac.New(sha256.New, key)
	m.Write([]byte(strings.ToLower(strings.TrimSpace(login))))
	return audit.Details{"login_hmac": hex.EncodeToString(m.Sum(nil))}
}
