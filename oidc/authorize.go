package oidc

import (
	"context"
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

// SignIn is the interactive part of the authorization endpoint: the
// sign-in flow (package authflow). The endpoint parses and checks each
// request, SignIn decides what the user must still do and sends the
// browser there, and once nothing is left the endpoint issues the
// response. A step hands its flow back through the endpoint, which alone
// can rebuild the request.
type SignIn interface {
	// Resumed recognises a step handing its flow back to the endpoint and
	// returns the flow's original request; nil for a new request.
	Resumed(c echo.Context) (*ResumedFlow, error)
	// Continue takes a checked request on to the step its flow needs
	// next and returns no grant once it sent the browser there, or the
	// grant to issue when nothing is left. An OAuth error
	// (*fosite.RFC6749Error) goes back to the client; any other error is
	// a page.
	Continue(c echo.Context, req *AuthorizeRequest) (*Grant, error)
}

// ResumedFlow is a flow a step handed back to the endpoint.
type ResumedFlow struct {
	ID       string
	ClientID string
	// Form is the flow's original authorization request.
	Form url.Values
}

// AuthorizeRequest is a parsed and checked authorization request.
type AuthorizeRequest struct {
	Request fosite.AuthorizeRequester
	Client  *Client
	// FlowID is the resumed flow; "" for a new request.
	FlowID string
	// MaxAge is the max_age parameter in seconds; -1 when absent.
	MaxAge int64
	// HintGiven reports an id_token_hint; HintSubject is its subject when
	// it is a valid ID token of this provider, "" when it is not.
	HintGiven   bool
	HintSubject string
}

// Grant is what a finished sign-in flow lets the endpoint issue.
type Grant struct {
	User    *identity.User
	Session *BrowserSession
	// RequestedAt is when the flow began.
	RequestedAt time.Time
	// Consented: the user consented within the flow (audited once the
	// code is issued).
	Consented bool
	// Finish ends the flow in the transaction that issues the code, with
	// the scopes granted: the consent is remembered and the flow deleted
	// together with the code, or not at all.
	Finish func(ctx context.Context, granted []string) error
}

// authorize is the authorization endpoint (RFC 6749 §3.1, OIDC Core
// §3.1.2): parse and check, let the sign-in flow run, issue.
func (h *Handler) authorize(c echo.Context) error {
	ctx := c.Request().Context()
	r := c.Request()

	resumed, err := h.SignIn.Resumed(c)
	if err != nil {
		return err
	}
	if resumed != nil {
		r = requestFromForm(r, resumed.Form)
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

	req := &AuthorizeRequest{Request: ar, Client: client, MaxAge: -1}
	if resumed != nil {
		if resumed.ClientID != client.ID {
			return pageError(http.StatusBadRequest, "Invalid sign-in request", "This sign-in link does not belong to this application.")
		}
		req.FlowID = resumed.ID
	}
	if ma := r.Form.Get("max_age"); ma != "" {
		req.MaxAge, _ = strconv.ParseInt(ma, 10, 64) // checkEarly checked it
	}
	if hint := r.Form.Get("id_token_hint"); hint != "" {
		req.HintGiven = true
		req.HintSubject, _ = h.hintSubject(ctx, hint) // "" when it does not verify
	}
	grant, err := h.SignIn.Continue(c, req)
	var refusal *Refusal
	switch {
	case errors.As(err, &refusal):
		return h.authorizeError(c, ar, refusalError(refusal))
	case err != nil || grant == nil:
		return err
	}
	return h.issue(c, ar, client, grant)
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

// issue grants what the user approved and writes the authorization
// response through fosite.
func (h *Handler) issue(c echo.Context, ar fosite.AuthorizeRequester, client *Client, g *Grant) error {
	if req, ok := ar.(*fosite.AuthorizeRequest); ok {
		req.RequestedAt = g.RequestedAt
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
	if err := h.grantUserScopes(ctx, ar, g.User); err != nil {
		return err
	}
	h.Provider.grantAudience(ar)
	sess := h.userSession(g.User, g.Session, client, ar.GetGrantedScopes(), g.RequestedAt)
	resp, err := h.Provider.NewAuthorizeResponse(ctx, ar, sess)
	if err != nil {
		return h.authorizeError(c, ar, err)
	}
	if err := g.Finish(ctx, ar.GetGrantedScopes()); err != nil {
		return err
	}
	user := g.User
	// The consent's audit entry joins the transaction too: no consent is
	// kept without its entry, nor an entry for a consent that was not.
	if g.Consented {
		e := UserEvent(audit.ActionConsentGranted, user.ID, audit.Details{"client_id": client.ID, "scope": strings.Join(ar.GetGrantedScopes(), " ")})
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
	if granted.Has(ScopeRoles) {
		// Taken now, once (see Session.Roles).
		s.Roles = append([]string{}, u.Roles...)
		claims.Extra[h.rolesClaim()] = s.Roles
		if s.JWTClaims != nil {
			s.JWTClaims.Extra[h.rolesClaim()] = s.Roles
		}
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

// requestFromForm rebuilds an original authorization request.
func requestFromForm(r *http.Request, form url.Values) *http.Request {
	r2 := r.Clone(r.Context())
	r2.Method = http.MethodGet
	u := *r.URL
	u.RawQuery = form.Encode()
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

// refusalErrors are the OAuth errors of the sign-in flow's refusals.
var refusalErrors = map[string]*fosite.RFC6749Error{
	CodeInvalidRequest:      fosite.ErrInvalidRequest,
	CodeAccessDenied:        fosite.ErrAccessDenied,
	CodeLoginRequired:       fosite.ErrLoginRequired,
	CodeConsentRequired:     fosite.ErrConsentRequired,
	CodeInteractionRequired: fosite.ErrInteractionRequired,
	// OpenID Connect Core Unmet Authentication Requirements 1.0 §2: the
	// requested acr cannot be met (fosite does not know the code).
	CodeUnmetAuthenticationRequirements: {
		ErrorField:       CodeUnmetAuthenticationRequirements,
		DescriptionField: "The Authorization Server is unable to meet the requirements of the Relying Party for the authentication of the End-User.",
		CodeField:        http.StatusBadRequest,
	},
}

// refusalError is the OAuth error the flow's refusal r stands for.
func refusalError(r *Refusal) error {
	e, ok := refusalErrors[r.Code]
	if !ok {
		return fosite.ErrServerError.WithDebug("unknown refusal " + r.Code)
	}
	if r.Hint != "" {
		return e.WithHint(r.Hint)
	}
	return e
}

// The error codes a flow ends with (RFC 6749 §4.1.2.1, OpenID Connect
// Core §3.1.2.6).
const (
	CodeInvalidRequest  = "invalid_request"
	CodeAccessDenied    = "access_denied"
	CodeLoginRequired   = "login_required"
	CodeConsentRequired = "consent_required"
	// CodeInteractionRequired: the sign-in needs a page (a second
	// factor) and prompt=none forbids one.
	CodeInteractionRequired = "interaction_required"
	// CodeUnmetAuthenticationRequirements: acr_values asked for what the
	// user cannot achieve here.
	CodeUnmetAuthenticationRequirements = "unmet_authentication_requirements"
)

// Refusal is how the sign-in flow (oidc/authflow) ends a request with an
// OAuth error to the client: it names the code and why, and the
// authorization endpoint, which owns the OAuth library, writes it.
type Refusal struct {
	Code string // one of the Code constants
	Hint string // why, added to the error description; may be empty
}

func (r *Refusal) Error() string {
	if r.Hint == "" {
		return r.Code
	}
	return r.Code + ": " + r.Hint
}
