package oidc

import (
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/labstack/echo/v4"
	"github.com/ory/fosite"
	"github.com/ory/fosite/token/jwt"

	"gatehouse/identity"
	"gatehouse/identity/audit"
)

// Steps a flow can return from.
const (
	stepLogin    = "login"
	stepRegister = "register"
	stepConsent  = "consent"
)

// authorize is the one dispatcher of the login flow (see doc.go).
func (h *Handler) authorize(c echo.Context) error {
	ctx := c.Request().Context()
	r := c.Request()
	q := r.URL.Query()

	var flow *Flow
	if id := q.Get("flow"); id != "" && r.Method == http.MethodGet && len(q) == 3 {
		var err error
		if flow, err = h.resumeFlow(c, id, q.Get("step"), q.Get("mac")); err != nil {
			return err
		}
		r = requestFromFlow(r, flow)
	}
	if err := r.ParseForm(); err != nil {
		return pageError(http.StatusBadRequest, "Invalid request", "The sign-in request could not be read.")
	}
	// Request objects are not supported (discovery says so); strip them
	// before fosite so that a request_uri is never fetched.
	_, hasRequest := r.Form["request"]
	_, hasRequestURI := r.Form["request_uri"]
	r.Form.Del("request")
	r.Form.Del("request_uri")
	for _, p := range []string{"client_id", "redirect_uri"} {
		if len(r.Form[p]) > 1 {
			return pageError(http.StatusBadRequest, "Invalid sign-in request",
				"The application sent a malformed sign-in request ("+p+" repeated). Please return to the application and try again.")
		}
	}

	ar, err := h.Provider.NewAuthorizeRequest(ctx, r)
	if err != nil {
		return h.authorizeError(c, ar, err)
	}
	client, ok := ar.GetClient().(*Client)
	if !ok {
		return fmt.Errorf("authorize: unexpected client type %T", ar.GetClient())
	}
	// RFC 8252 §7.3 lets native apps pick any loopback port; fosite allows
	// it for every client, so web clients are held to exact matching here.
	if client.ApplicationType != AppTypeNative && !containsString(client.RedirectURIs, r.Form.Get("redirect_uri")) && r.Form.Get("redirect_uri") != "" {
		return pageError(http.StatusBadRequest, "Invalid sign-in request",
			"The application's redirect address is not registered. Please contact the application's developer.")
	}
	for k, v := range r.Form {
		if len(v) > 1 {
			return h.authorizeError(c, ar, fosite.ErrInvalidRequest.WithHintf("The '%s' parameter must not be included more than once.", k))
		}
	}
	switch {
	case hasRequest:
		return h.authorizeError(c, ar, fosite.ErrRequestNotSupported)
	case hasRequestURI:
		return h.authorizeError(c, ar, fosite.ErrRequestURINotSupported)
	}
	// fosite checks PKCE and prompt only when issuing; check them before
	// the user is asked to sign in for a request that must fail anyway.
	if err := h.checkEarly(client, r.Form); err != nil {
		return h.authorizeError(c, ar, err)
	}

	if flow == nil {
		if flow, err = h.newFlow(c, client, r.Form); err != nil {
			return err
		}
	} else if flow.ClientID != client.ID {
		return pageError(http.StatusBadRequest, "Invalid sign-in request", "This sign-in link does not belong to this application.")
	}
	if req, ok := ar.(*fosite.AuthorizeRequest); ok {
		req.RequestedAt = flow.RequestedAt
	}
	return h.dispatch(c, ar, client, flow)
}

// checkEarly validates what fosite would reject only after the login:
// PKCE (RFC 7636, S256 only per RFC 9700 §2.1.1), prompt and max_age.
func (h *Handler) checkEarly(client *Client, form url.Values) error {
	challenge, method := form.Get("code_challenge"), form.Get("code_challenge_method")
	if challenge == "" && (client.IsPublic() || h.Provider.Config.EnforcePKCE) {
		return fosite.ErrInvalidRequest.WithHint("This client must use PKCE: send code_challenge with code_challenge_method=S256.")
	}
	if challenge != "" && method != "S256" {
		return fosite.ErrInvalidRequest.WithHint("Only code_challenge_method=S256 is supported.")
	}
	if challenge != "" && !validS256Challenge(challenge) {
		// RFC 7636 §4.4.1: a malformed challenge is invalid_request.
		return fosite.ErrInvalidRequest.WithHint("code_challenge must be the base64url SHA-256 of the verifier: 43 characters of [A-Za-z0-9-_].")
	}
	prompts := strings.Fields(form.Get("prompt"))
	for _, p := range prompts {
		if !containsString(h.Provider.Config.AllowedPromptValues, p) || (p == "create" && !h.SelfSignup) {
			return fosite.ErrInvalidRequest.WithHintf("The prompt value '%s' is not supported.", p)
		}
		if p == "none" && len(prompts) > 1 {
			return fosite.ErrInvalidRequest.WithHint("prompt=none cannot be combined with other values.")
		}
	}
	if ma := form.Get("max_age"); ma != "" {
		if n, err := strconv.ParseInt(ma, 10, 64); err != nil || n < 0 {
			return fosite.ErrInvalidRequest.WithHint("max_age must be a non-negative integer.")
		}
	}
	return nil
}

// dispatch decides the next step of a flow, or issues the response.
func (h *Handler) dispatch(c echo.Context, ar fosite.AuthorizeRequester, client *Client, flow *Flow) error {
	ctx := c.Request().Context()
	form := ar.GetRequestForm()
	prompt := map[string]bool{}
	for _, p := range strings.Fields(form.Get("prompt")) {
		prompt[p] = true
	}

	bs, err := h.currentSession(c)
	if err != nil {
		return err
	}
	var user *identity.User
	if bs != nil {
		user, err = h.Users.GetUser(ctx, bs.UserID)
		if errors.Is(err, identity.ErrNotFound) || (err == nil && user.Status != identity.StatusActive) {
			if err := h.clearSession(c, bs); err != nil {
				return err
			}
			bs, user = nil, nil
		} else if err != nil {
			return err
		}
	}
	// A flow bound to a session goes on only in that session (flow.go):
	// another user, or a new sign-in, in this browser starts it over.
	if flow.UserID != "" && !flow.heldBy(bs) {
		h.Logger.InfoContext(ctx, "login flow restarted after the browser session changed", "client_id", client.ID)
		flow.restart()
		if err := h.saveFlow(c, flow); err != nil {
			return err
		}
	}
	freshLogin := bs != nil && flow.LoginDone && bs.ID == flow.SessionID

	needLogin := bs == nil || flow.LoginRequired
	if !needLogin && !freshLogin {
		if prompt["login"] || prompt["select_account"] {
			needLogin = true
		}
		if maxAge, err := strconv.ParseInt(form.Get("max_age"), 10, 64); err == nil && maxAge >= 0 &&
			h.Now().After(bs.AuthTime.Add(time.Duration(maxAge)*time.Second)) {
			needLogin = true
		}
	}
	if !needLogin {
		if hint := form.Get("id_token_hint"); hint != "" {
			sub, err := h.hintSubject(ctx, hint)
			if err != nil {
				return h.authorizeError(c, ar, fosite.ErrInvalidRequest.WithHint("The id_token_hint is not a valid ID token of this provider."))
			}
			if sub != user.ID {
				if prompt["none"] || freshLogin {
					return h.authorizeError(c, ar, fosite.ErrLoginRequired.WithHint("The signed-in user is not the one named by id_token_hint."))
				}
				needLogin = true
			}
		}
	}

	// prompt=create (Initiating User Registration 1.0) asks for a new
	// account even when someone is signed in; the new account's session
	// replaces theirs. (checkEarly refused it when sign-up is off.)
	if prompt["create"] && !flow.RegisterDone && !freshLogin {
		return c.Redirect(http.StatusSeeOther, PathSignup+"?flow="+url.QueryEscape(flow.ID))
	}
	if needLogin {
		if prompt["none"] {
			return h.authorizeError(c, ar, fosite.ErrLoginRequired)
		}
		return c.Redirect(http.StatusSeeOther, PathLogin+"?flow="+url.QueryEscape(flow.ID))
	}

	requested := ar.GetRequestedScopes()
	if flow.ConsentDone && !flow.ConsentGranted {
		return h.authorizeError(c, ar, fosite.ErrAccessDenied.WithHint("The user denied the request."))
	}
	if !client.FirstParty && !flow.ConsentDone {
		granted, err := h.Consents.GetConsent(ctx, user.ID, client.ID)
		if err != nil {
			return err
		}
		if prompt["consent"] || !covers(granted, requested) {
			if prompt["none"] {
				return h.authorizeError(c, ar, fosite.ErrConsentRequired)
			}
			if flow.UserID == "" {
				// Signed in before this flow: the consent step will
				// hold the user to this session.
				flow.bind(bs)
				if err := h.saveFlow(c, flow); err != nil {
					return err
				}
			}
			return c.Redirect(http.StatusSeeOther, PathConsent+"?flow="+url.QueryEscape(flow.ID))
		}
	}
	return h.issue(c, ar, client, flow, user, bs)
}

// issue grants what the user approved and writes the authorization
// response through fosite.
func (h *Handler) issue(c echo.Context, ar fosite.AuthorizeRequester, client *Client, flow *Flow, user *identity.User, bs *BrowserSession) error {
	if (flow.UserID != "" || flow.ConsentDone) && !flow.heldBy(bs) {
		// dispatch restarts such a flow; never issue to another session.
		return errors.New("authorize: flow bound to another browser session")
	}
	// The code, its PKCE and OpenID Connect state, the consent and the
	// end of the flow are written together or not at all. The stores join
	// the transaction carried by the context.
	ctx, err := h.Provider.Tokens.BeginTX(c.Request().Context())
	if err != nil {
		return err
	}
	committed := false
	defer func() {
		if !committed {
			_ = h.Provider.Tokens.Rollback(ctx) // the error that got us here is the one to report
		}
	}()
	for _, s := range ar.GetRequestedScopes() {
		ar.GrantScope(s)
	}
	h.Provider.grantAudience(ar)
	sess := h.userSession(user, bs, client, ar.GetGrantedScopes(), flow.RequestedAt)
	resp, err := h.Provider.NewAuthorizeResponse(ctx, ar, sess)
	if err != nil {
		return h.authorizeError(c, ar, err)
	}
	if flow.ConsentDone && flow.ConsentGranted {
		prev, err := h.Consents.GetConsent(ctx, user.ID, client.ID)
		if err != nil {
			return err
		}
		if err := h.Consents.SaveConsent(ctx, user.ID, client.ID, union(prev, ar.GetGrantedScopes()), h.Now()); err != nil {
			return err
		}
	}
	if err := h.Flows.DeleteFlow(ctx, flow.ID); err != nil {
		return err
	}
	// The consent's audit entry joins the transaction too: no consent is
	// kept without its entry, nor an entry for a consent that was not.
	if flow.ConsentDone && flow.ConsentGranted {
		e := userEvent(audit.ActionConsentGranted, user.ID, audit.Details{"client_id": client.ID, "scope": strings.Join(ar.GetGrantedScopes(), " ")})
		if err := h.recordIn(ctx, c, e); err != nil {
			return err
		}
	}
	if err := h.Provider.Tokens.Commit(ctx); err != nil {
		return err
	}
	committed = true
	// RFC 9207: the response names its issuer.
	resp.AddParameter("iss", h.Provider.Issuer)
	h.Logger.InfoContext(ctx, "authorization granted", "client_id", client.ID, "user_id", user.ID, "scope", strings.Join(ar.GetGrantedScopes(), " "))
	allowFormPostScript(c)
	h.Provider.WriteAuthorizeResponse(ctx, c.Response(), ar, resp)
	return nil
}

// userSession builds the fosite session for a signed-in user: ID token
// claims (OIDC Core §2, §5.4) and RFC 9068 access-token claims.
func (h *Handler) userSession(u *identity.User, bs *BrowserSession, client *Client, granted fosite.Arguments, requestedAt time.Time) *Session {
	s := NewSession()
	s.Subject = u.ID
	s.Username = u.Username
	s.BrowserSessionID = bs.ID
	claims := s.Claims
	claims.Subject = u.ID
	claims.AuthTime = bs.AuthTime
	claims.RequestedAt = requestedAt
	claims.AuthenticationMethodsReferences = bs.AMR
	claims.AuthenticationContextClassReference = bs.ACR
	claims.Extra = userClaims(u, granted)
	claims.Extra["sid"] = bs.ID
	if client.AccessTokenFormat == TokenFormatJWT {
		s.JWTClaims = &jwt.JWTClaims{Subject: u.ID, Extra: map[string]interface{}{"client_id": client.ID, "sid": bs.ID, "auth_time": bs.AuthTime.Unix()}}
	}
	return s
}

// hintSubject returns the subject of a verified id_token_hint.
func (h *Handler) hintSubject(ctx context.Context, hint string) (string, error) {
	tok, err := h.decodeHint(ctx, hint)
	if err != nil {
		return "", err
	}
	sub, _ := tok.Claims["sub"].(string)
	if sub == "" {
		return "", errors.New("oidc: id_token_hint has no subject")
	}
	return sub, nil
}

// authorizeError writes an authorization error. When the redirect URI is
// not trusted it shows a page and never redirects (RFC 6749 §4.1.2.1);
// otherwise it redirects with the error, state and iss (RFC 9207).
func (h *Handler) authorizeError(c echo.Context, ar fosite.AuthorizeRequester, err error) error {
	if ctx := c.Request().Context(); Unavailable(ctx, err) {
		if ar == nil || !ar.IsRedirectURIValid() {
			return err // a 503 page (ErrorHandler)
		}
		// RFC 6749 §4.1.2.1: the client learns it may retry.
		h.reportOutage(ctx, err)
		err = fosite.ErrTemporarilyUnavailable.WithWrap(err)
	}
	rfc := fosite.ErrorToRFC6749Error(err)
	if ar == nil || !ar.IsRedirectURIValid() {
		msg := "The application sent a sign-in request that could not be accepted."
		switch rfc.ErrorField {
		case fosite.ErrInvalidClient.ErrorField:
			msg = "The application is not registered with this server. Please contact the application's developer."
		case fosite.ErrInvalidRequest.ErrorField:
			msg = "The application sent an invalid sign-in request: its client or redirect address is wrong. Please contact the application's developer."
		}
		return &PageError{Status: http.StatusBadRequest, Title: "Invalid sign-in request", Message: msg, Err: err}
	}
	if rfc.CodeField >= 500 && !errors.Is(err, fosite.ErrTemporarilyUnavailable) {
		h.Logger.ErrorContext(c.Request().Context(), "authorization failed", "error", err, "debug", rfc.DebugField)
	}
	values := rfc.ToValues()
	values.Set("state", ar.GetState())
	values.Set("iss", h.Provider.Issuer)
	redirect := *ar.GetRedirectURI()
	redirect.Fragment = ""
	w := c.Response()
	w.Header().Set("Cache-Control", "no-store")
	w.Header().Set("Pragma", "no-cache")
	if ar.GetResponseMode() == fosite.ResponseModeFormPost {
		allowFormPostScript(c)
		w.Header().Set(echo.HeaderContentType, echo.MIMETextHTMLCharsetUTF8)
		fosite.WriteAuthorizeFormPostResponse(redirect.String(), values, formPostTemplate, w)
		return nil
	}
	query := redirect.Query()
	for k, vs := range values {
		for _, v := range vs {
			query.Add(k, v)
		}
	}
	redirect.RawQuery = query.Encode()
	return c.Redirect(http.StatusSeeOther, redirect.String())
}

// allowFormPostScript lets the auto-submitting form_post page run its one
// script under the strict Content-Security-Policy.
func allowFormPostScript(c echo.Context) {
	sum := sha256.Sum256([]byte(formPostScript))
	c.Response().Header().Set("Content-Security-Policy", "default-src 'none'; script-src 'sha256-"+
		base64.StdEncoding.EncodeToString(sum[:])+"'; frame-ancestors 'none'; base-uri 'none'")
}

func (h *Handler) newFlow(c echo.Context, client *Client, form url.Values) (*Flow, error) {
	binding, err := h.flowBinding(c, true)
	if err != nil {
		return nil, err
	}
	now := h.Now().UTC().Truncate(time.Second)
	f := &Flow{
		ID: NewSecret(), ClientID: client.ID, Binding: binding, Form: form,
		RequestedAt: now, Version: 1, ExpiresAt: now.Add(flowLifetime),
	}
	if err := h.Flows.CreateFlow(c.Request().Context(), f); err != nil {
		return nil, err
	}
	return f, nil
}

var errFlowExpired = pageError(http.StatusBadRequest, "This sign-in has expired",
	"The sign-in took too long or was already completed. Please return to the application and start again.")

// loadFlow returns the flow named by id when it belongs to this browser.
func (h *Handler) loadFlow(c echo.Context, id string) (*Flow, error) {
	f, err := h.Flows.GetFlow(c.Request().Context(), id, h.Now())
	if errors.Is(err, ErrFlowNotFound) {
		return nil, errFlowExpired
	}
	if err != nil {
		return nil, err
	}
	binding, err := h.flowBinding(c, false)
	if err != nil {
		return nil, err
	}
	if binding == "" || !hmac.Equal([]byte(binding), []byte(f.Binding)) {
		return nil, errFlowExpired
	}
	return f, nil
}

// resumeFlow checks a step's return to the dispatcher.
func (h *Handler) resumeFlow(c echo.Context, id, step, mac string) (*Flow, error) {
	f, err := h.loadFlow(c, id)
	if err != nil {
		return nil, err
	}
	if !hmac.Equal([]byte(mac), []byte(h.stepMAC(f, step))) {
		return nil, errFlowExpired
	}
	return f, nil
}

func (h *Handler) stepMAC(f *Flow, step string) string {
	m := hmac.New(sha256.New, h.FlowKey)
	fmt.Fprintf(m, "%s|%d|%s", f.ID, f.Version, step)
	return base64.RawURLEncoding.EncodeToString(m.Sum(nil))
}

// finishStep saves a flow a step changed and sends the browser back to the
// dispatcher with a MAC bound to the flow's new version and the step.
func (h *Handler) finishStep(c echo.Context, f *Flow, step string) error {
	if err := h.saveFlow(c, f); err != nil {
		return err
	}
	q := url.Values{"flow": {f.ID}, "step": {step}, "mac": {h.stepMAC(f, step)}}
	return c.Redirect(http.StatusSeeOther, PathAuthorize+"?"+q.Encode())
}

// saveFlow stores a changed flow under its next version, which also voids
// every step MAC issued for the previous one.
func (h *Handler) saveFlow(c echo.Context, f *Flow) error {
	f.Version++
	if err := h.Flows.UpdateFlow(c.Request().Context(), f); err != nil {
		if errors.Is(err, ErrFlowConflict) {
			return errFlowExpired
		}
		return err
	}
	return nil
}

// requestFromFlow rebuilds the original authorization request.
func requestFromFlow(r *http.Request, f *Flow) *http.Request {
	r2 := r.Clone(r.Context())
	r2.Method = http.MethodGet
	u := *r.URL
	u.RawQuery = f.Form.Encode()
	r2.URL = &u
	r2.Form, r2.PostForm = nil, nil
	r2.Body = http.NoBody
	return r2
}

func containsString(list []string, s string) bool {
	for _, v := range list {
		if v == s {
			return true
		}
	}
	return false
}
