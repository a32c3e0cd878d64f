package oidc

import (
	"context"
	"errors"
	"net/http"
	"slices"
	"strings"
	"time"

	"github.com/labstack/echo/v4"
	"github.com/ory/fosite"
	"github.com/ory/fosite/token/jwt"

	"gatehouse/identity"
)

var supportedGrants = map[string]bool{"authorization_code": true, "refresh_token": true, "client_credentials": true}

// tokenEndpoint is the token endpoint (RFC 6749 §3.2) and the lifetime
// rules of the grants it serves (grant.go).
type tokenEndpoint struct{ *Handler }

// serve answers a token request. fosite does the work; this
// adds the checks fosite leaves out and maps storage races to the errors
// RFC 6749 §5.2 prescribes.
func (h tokenEndpoint) serve(c echo.Context) error {
	ctx := c.Request().Context()
	r := c.Request()
	if err := r.ParseForm(); err != nil {
		return h.accessError(c, nil, fosite.ErrInvalidRequest.WithHint("The request body could not be parsed."))
	}
	if refused, err := h.clientAuthRefused(c); refused {
		return err
	}
	if err := checkTokenForm(r); err != nil {
		return h.accessError(c, nil, err)
	}
	sess := NewSession()
	ar, err := h.Provider.NewAccessRequest(ctx, r, sess)
	if err != nil {
		return h.accessError(c, ar, err)
	}
	if err := h.prepareGrant(ctx, ar, sess); err != nil {
		return h.accessError(c, ar, err)
	}
	resp, err := h.Provider.NewAccessResponse(ctx, ar)
	if err != nil {
		if errors.Is(err, ErrCodeRedeemed) || errors.Is(err, fosite.ErrInvalidatedAuthorizeCode) {
			h.revokeCodeGrant(ctx, ar.GetID())
		}
		return h.accessError(c, ar, err)
	}
	h.Provider.WriteAccessResponse(ctx, c.Response(), ar, resp)
	if h.Tokens != nil {
		h.Tokens.Issued(ar.GetClient().GetID(), grantOf(ar))
	}
	return nil
}

// TokenCounter counts issued tokens in memory (usage.Tokens): the token
// endpoint writes nothing more to the database for it.
type TokenCounter interface {
	// Issued counts one token response to clientID through grant.
	Issued(clientID, grant string)
}

// grantOf names ar's grant type, one of supportedGrants.
func grantOf(ar fosite.AccessRequester) string {
	for gt := range supportedGrants {
		if ar.GetGrantTypes().ExactOne(gt) {
			return gt
		}
	}
	return "other"
}

// checkTokenForm refuses what fosite would accept or answer wrongly.
func checkTokenForm(r *http.Request) error {
	// RFC 6749 §3.2: parameters MUST NOT be included more than once.
	for k, v := range r.PostForm {
		if len(v) > 1 {
			return fosite.ErrInvalidRequest.WithHintf("The '%s' parameter must not be included more than once.", k)
		}
	}
	if gt := r.PostForm.Get("grant_type"); gt != "" && !supportedGrants[gt] {
		return fosite.ErrUnsupportedGrantType.WithHintf("The grant type '%s' is not supported.", gt)
	}
	// RFC 7636 §4.1: a verifier is 43 to 128 unreserved characters;
	// fosite calls a malformed one invalid_grant.
	if v, ok := r.PostForm["code_verifier"]; ok && !validVerifier(v[0]) {
		return fosite.ErrInvalidRequest.WithHint("code_verifier must be 43 to 128 characters of [A-Za-z0-9-._~].")
	}
	// RFC 6749 §5.2: a request with no client authentication at all is
	// invalid_client (fosite calls it invalid_request).
	if r.Header.Get("Authorization") == "" && r.PostForm.Get("client_id") == "" && r.PostForm.Get("client_assertion") == "" {
		return fosite.ErrInvalidClient.WithHint("No client authentication was included.")
	}
	return nil
}

// prepareGrant applies, between fosite's validation and the issuing, the
// rules of each grant that fosite leaves out.
func (h tokenEndpoint) prepareGrant(ctx context.Context, ar fosite.AccessRequester, sess *Session) error {
	switch {
	case ar.GetGrantTypes().ExactOne("authorization_code"):
		h.startGrant(ar)
	case ar.GetGrantTypes().ExactOne("refresh_token"):
		return h.continueGrant(ctx, ar)
	case ar.GetGrantTypes().ExactOne("client_credentials"):
		// RFC 6749 §4.4: the client acts on its own behalf. fosite has
		// checked each requested scope against the client's (§3.3: the
		// request may narrow them, never widen).
		scopes := ar.GetRequestedScopes()
		if len(scopes) == 0 {
			scopes = defaultServiceScopes(ar.GetClient())
		}
		for _, s := range scopes {
			ar.GrantScope(s)
		}
		h.Provider.grantAudience(ar)
		id := ar.GetClient().GetID()
		sess.Subject = id
		// No ID token here: keep the stored session small, it is written
		// with every token and read with every introspection.
		sess.Claims, sess.Headers = nil, nil
		if c, ok := ar.GetClient().(*Client); ok && c.AccessTokenFormat == TokenFormatJWT {
			sess.JWTClaims = &jwt.JWTClaims{Subject: id, Extra: map[string]interface{}{"client_id": id}}
		}
	}
	return nil
}

// revokeCodeGrant revokes what a code issued, for a request that lost
// the race to redeem it. fosite revokes only when it reads the code as
// already used; a request that read it as unused and then lost the
// conditional update (or found it used on the second read) would
// otherwise leave the winner's tokens alive. RFC 6749 §4.1.2: a code used
// twice SHOULD revoke every token issued on it. The winner marks the code
// used and stores its tokens in one transaction, so once this request has
// seen the code used, the tokens are committed and the revocation, run
// outside the loser's rolled-back transaction, reaches them.
func (h tokenEndpoint) revokeCodeGrant(ctx context.Context, requestID string) {
	if requestID == "" {
		return
	}
	if err := h.Provider.Tokens.RevokeAccessToken(ctx, requestID); err != nil {
		h.Logger.ErrorContext(ctx, "revoking the tokens of a replayed code failed", "error", err)
	}
	if err := h.Provider.Tokens.RevokeRefreshToken(ctx, requestID); err != nil {
		h.Logger.ErrorContext(ctx, "revoking the tokens of a replayed code failed", "error", err)
	}
}

// unknownErrorField is what fosite calls an error it does not know.
const unknownErrorField = "error"

// accessError writes a token-endpoint error through fosite.
func (h tokenEndpoint) accessError(c echo.Context, ar fosite.AccessRequester, err error) error {
	// A code or refresh token that lost a race to a concurrent request is
	// simply no longer valid: invalid_grant, never a server error.
	if errors.Is(err, ErrCodeRedeemed) || errors.Is(err, ErrRefreshRotated) || errors.Is(err, fosite.ErrInvalidatedAuthorizeCode) {
		err = fosite.ErrInvalidGrant.WithHint("The grant was already used.")
	}
	// The database could not be used, or the request ran out of time:
	// 503, never invalid_client (fosite calls every failed client lookup
	// that) nor a server error, and no failed authentication is counted.
	// A request whose context ended gets the same answer; if its client
	// went away nobody reads it.
	if ctx := c.Request().Context(); ctx.Err() != nil || Unavailable(ctx, err) {
		h.reportOutage(ctx, err)
		c.Response().Header().Set("Retry-After", RetryAfter)
		if ar == nil {
			ar = fosite.NewAccessRequest(nil)
		}
		h.Provider.WriteAccessError(ctx, c.Response(), ar, fosite.ErrTemporarilyUnavailable.WithWrap(err))
		return nil
	}
	rfc := fosite.ErrorToRFC6749Error(err)
	switch rfc.ErrorField {
	case fosite.ErrJTIKnown.ErrorField:
		// RFC 7523 §3.2: a replayed client assertion is a failed client
		// authentication; fosite's "jti_known" is not an RFC 6749 code.
		err = fosite.ErrInvalidClient.WithHint("The client assertion was already used.")
		rfc = fosite.ErrorToRFC6749Error(err)
	case unknownErrorField:
		// An error fosite does not know would go out as {"error":"error"}:
		// RFC 6749 §5.2 has server_error for it.
		err = fosite.ErrServerError.WithWrap(err).WithDebug(err.Error())
		rfc = fosite.ErrorToRFC6749Error(err)
	}
	if rfc.ErrorField == fosite.ErrInvalidClient.ErrorField {
		h.clientAuthFailed(c)
	}
	if rfc.CodeField >= 500 {
		h.Logger.ErrorContext(c.Request().Context(), "token request failed", "error", err, "debug", rfc.DebugField)
	}
	if rfc.ErrorField == fosite.ErrInvalidClient.ErrorField {
		// RFC 6749 §5.2: 401 with a challenge for the scheme the client
		// used (or may use).
		scheme := "Basic"
		if a := c.Request().Header.Get("Authorization"); a != "" {
			scheme, _, _ = strings.Cut(a, " ")
		}
		c.Response().Header().Set("WWW-Authenticate", scheme+` realm="`+h.Provider.Issuer+`"`)
	}
	if ar == nil {
		ar = fosite.NewAccessRequest(nil)
	}
	h.Provider.WriteAccessError(c.Request().Context(), c.Response(), ar, err)
	return nil
}

// startGrant records when a grant begins, as its code is redeemed, and
// bounds the first refresh token by the grant's absolute lifetime.
func (h tokenEndpoint) startGrant(ar fosite.AccessRequester) {
	sess, ok := ar.GetSession().(*Session)
	if !ok {
		return
	}
	if sess.GrantedAt.IsZero() {
		sess.GrantedAt = h.Now().UTC()
	}
	h.capRefresh(sess)
}

// continueGrant applies the grant rules to a refresh request that fosite
// has validated, before anything is rotated: the grant must be within its
// absolute lifetime, and a requested scope may narrow the new access
// token but not go beyond the grant (RFC 6749 §6).
func (h tokenEndpoint) continueGrant(ctx context.Context, ar fosite.AccessRequester) error {
	sess, ok := ar.GetSession().(*Session)
	if !ok {
		return nil
	}
	// Deactivating a user revokes their tokens; this also stops a refresh
	// token that outlived a change of status made some other way.
	if h.Users != nil && sess.GetSubject() != "" {
		u, err := h.Users.GetUser(ctx, sess.GetSubject())
		switch {
		case errors.Is(err, identity.ErrNotFound) || err == nil && u.Status != identity.StatusActive:
			return fosite.ErrInvalidGrant.WithHint("The user's account is not active.")
		case err != nil:
			return err
		}
	}
	if sess.GrantedAt.IsZero() {
		// A grant from before grants were dated starts its clock now.
		sess.GrantedAt = h.Now().UTC()
	}
	if life := h.Provider.GrantLifetime; life > 0 && !h.Now().Before(sess.GrantedAt.Add(life)) {
		return fosite.ErrInvalidGrant.WithHint("The grant has reached its maximum lifetime; the user must authorize again.")
	}
	h.capRefresh(sess)
	return narrowScope(ar, sess)
}

// capRefresh keeps the next refresh token from outliving the grant: the
// idle lifetime fosite set applies only while it ends sooner.
func (h tokenEndpoint) capRefresh(sess *Session) {
	life := h.Provider.GrantLifetime
	if life <= 0 {
		return
	}
	end := sess.GrantedAt.Add(life).UTC().Round(time.Second)
	if exp := sess.GetExpiresAt(fosite.RefreshToken); exp.IsZero() || exp.After(end) {
		sess.SetExpiresAt(fosite.RefreshToken, end)
	}
}

// narrowScope honours the scope parameter of a refresh request. fosite
// grants the original scope whatever was asked; RFC 6749 §6 says a
// requested scope MUST NOT include any scope not originally granted, and
// when narrower applies to the new access token while the refresh token
// keeps the grant's scope (kept in the session for the store).
func narrowScope(ar fosite.AccessRequester, sess *Session) error {
	requested := strings.Fields(ar.GetRequestForm().Get("scope"))
	if len(requested) == 0 {
		return nil
	}
	grant := ar.GetGrantedScopes()
	for _, s := range requested {
		if !slices.Contains(grant, s) {
			return fosite.ErrInvalidScope.WithHintf("The scope '%s' was not granted; a refresh may only narrow the scope.", s)
		}
	}
	req, ok := ar.(*fosite.AccessRequest)
	if !ok {
		return nil
	}
	sess.GrantScope = slices.Clone([]string(grant))
	var narrowed fosite.Arguments
	for _, s := range requested {
		if !slices.Contains(narrowed, s) {
			narrowed = append(narrowed, s)
		}
	}
	req.GrantedScope = narrowed
	return nil
}
