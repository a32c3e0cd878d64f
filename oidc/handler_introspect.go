package oidc

import (
	"errors"
	"net/http"
	"slices"
	"strings"

	"github.com/labstack/echo/v4"
	"github.com/ory/fosite"

	"gatehouse/identity/audit"
)

// introspect is the RFC 7662 endpoint. The caller must authenticate as a
// confidential client, with any method the token endpoint accepts, and
// sees only the tokens mayIntrospect allows it.
func (h *Handler) introspect(c echo.Context) error {
	ctx := c.Request().Context()
	r := c.Request()
	w := c.Response()
	w.Header().Set("Cache-Control", "no-store")
	w.Header().Set("Pragma", "no-cache")
	if err := r.ParseForm(); err != nil {
		return c.JSON(http.StatusBadRequest, map[string]string{"error": "invalid_request", "error_description": "The request body could not be parsed."})
	}
	if refused, err := h.clientAuthRefused(c); refused {
		return err
	}
	client, err := h.Provider.AuthenticateClient(ctx, r, r.PostForm)
	if Unavailable(ctx, err) {
		return h.unavailable(c, err) // not a failed authentication
	}
	if err != nil || client.IsPublic() {
		h.clientAuthFailed(c)
		w.Header().Set("WWW-Authenticate", `Basic realm="`+h.Provider.Issuer+`"`)
		return c.JSON(http.StatusUnauthorized, map[string]string{"error": "invalid_client", "error_description": "Client authentication failed."})
	}
	token := r.PostForm.Get("token")
	if token == "" || len(r.PostForm["token"]) > 1 {
		return c.JSON(http.StatusBadRequest, map[string]string{"error": "invalid_request", "error_description": "Exactly one 'token' parameter is required."})
	}
	sess := NewSession()
	use, ar, err := h.Provider.IntrospectToken(ctx, token, fosite.TokenUse(r.PostForm.Get("token_type_hint")), sess)
	if Unavailable(ctx, err) {
		// The token may well be active: saying inactive would end a
		// session at the resource server.
		return h.unavailable(c, err)
	}
	if err != nil || !mayIntrospect(client, use, ar) {
		// RFC 7662 §2.2: nothing more is said about an inactive token;
		// §4: a token the caller may not see looks exactly inactive.
		return c.JSON(http.StatusOK, map[string]bool{"active": false})
	}
	out := map[string]interface{}{
		"active":    true,
		"scope":     strings.Join(ar.GetGrantedScopes(), " "),
		"client_id": ar.GetClient().GetID(),
		"iat":       ar.GetRequestedAt().Unix(),
		"iss":       h.Provider.Issuer,
	}
	kind := fosite.AccessToken
	if use == fosite.RefreshToken {
		kind = fosite.RefreshToken
		out["token_type"] = "refresh_token"
	} else {
		out["token_type"] = "Bearer"
	}
	if exp := sess.GetExpiresAt(kind); !exp.IsZero() {
		out["exp"] = exp.Unix()
	}
	if sub := sess.GetSubject(); sub != "" {
		out["sub"] = sub
	}
	if sess.Username != "" {
		out["username"] = sess.Username
	}
	if roles, ok := sessionRoles(ar.GetSession()); ok && ar.GetGrantedScopes().Has(ScopeRoles) {
		out[h.rolesClaim()] = roles
	}
	// RFC 7662 §2.2 lets aud be given; it is always given here. A token
	// granted no audience (issued before audiences were recorded) is good
	// only at this provider's own endpoints, so its audience is the issuer.
	out["aud"] = []string{h.Provider.Issuer}
	if aud := ar.GetGrantedAudience(); len(aud) > 0 {
		out["aud"] = aud
	}
	return c.JSON(http.StatusOK, out)
}

// mayIntrospect decides who learns about a token (RFC 7662 §4, RFC 9700
// §4.3): the client it was issued to, and for access tokens a client an
// administrator registered as a resource server, when the token's
// audience names it (its client ID or one of its resource audiences).
// Refresh tokens are only ever presented to this provider, so only their
// own client may introspect them.
func mayIntrospect(caller fosite.Client, use fosite.TokenUse, ar fosite.Requester) bool {
	if ar.GetClient().GetID() == caller.GetID() {
		return true
	}
	rs, ok := caller.(*Client)
	if !ok || !rs.ResourceServer || use != fosite.AccessToken {
		return false
	}
	for _, aud := range ar.GetGrantedAudience() {
		if aud == rs.ID || slices.Contains(rs.ResourceAudience, aud) {
			return true
		}
	}
	return false
}

// revoke is the RFC 7009 endpoint; fosite checks the client and ownership
// and answers 200 for unknown tokens as §2.2 requires.
func (h *Handler) revoke(c echo.Context) error {
	ctx := c.Request().Context()
	r := c.Request()
	if refused, err := h.clientAuthRefused(c); refused {
		return err
	}
	var err error
	if perr := r.ParseForm(); perr != nil || r.PostForm.Get("token") == "" || len(r.PostForm["token"]) > 1 {
		// RFC 7009 §2.1: exactly one token is REQUIRED.
		err = fosite.ErrInvalidRequest.WithHint("Exactly one 'token' parameter is required.")
	} else {
		err = h.Provider.NewRevocationRequest(ctx, r)
		if err == nil {
			// RFC 7009 §2.2 answers the same for unknown tokens, so the
			// entry says a revocation was asked for, not that a token died.
			id, _, _ := r.BasicAuth()
			if id == "" {
				id = r.PostForm.Get("client_id")
			}
			h.audit(c, audit.Entry{ActorType: audit.ActorClient, ActorID: id, Subject: id, Action: audit.ActionTokenRevoked,
				Details: audit.Details{"kind": r.PostForm.Get("token_type_hint")}})
		}
	}
	// fosite answers 200 to every error but two, a storage failure
	// included (as temporarily_unavailable): a client would believe its
	// token revoked.
	if Unavailable(ctx, err) || errors.Is(err, fosite.ErrTemporarilyUnavailable) {
		return h.unavailable(c, err)
	}
	if err != nil && fosite.ErrorToRFC6749Error(err).ErrorField == fosite.ErrInvalidClient.ErrorField {
		h.clientAuthFailed(c)
		c.Response().Header().Set("WWW-Authenticate", `Basic realm="`+h.Provider.Issuer+`"`)
	}
	h.Provider.WriteRevocationResponse(ctx, c.Response(), err)
	return nil
}
