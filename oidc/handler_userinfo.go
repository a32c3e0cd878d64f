package oidc

import (
	"errors"
	"net/http"
	"strings"

	"github.com/labstack/echo/v4"
	"github.com/ory/fosite"

	"gatehouse/identity"
)

// userinfoToken reads an RFC 6750 bearer token from the Authorization
// header (§2.1) or a form-encoded POST body (§2.2). The URI query form
// (§2.3) is not accepted: it leaks tokens into logs and history.
func userinfoToken(r *http.Request) string {
	if r.Header.Get("Authorization") != "" {
		tok, _ := BearerToken(r) // another scheme is no token at all
		return tok
	}
	if r.Method == http.MethodPost && strings.HasPrefix(r.Header.Get("Content-Type"), "application/x-www-form-urlencoded") {
		if err := r.ParseForm(); err == nil {
			return r.PostForm.Get("access_token")
		}
	}
	return ""
}

// bearerError answers an RFC 6750 §3 error with its challenge.
func bearerError(c echo.Context, status int, code, description string) error {
	BearerChallenge(c.Response(), status, code, description, "")
	return nil
}

// userinfo is the UserInfo endpoint (OIDC Core §5.3).
func (h *Handler) userinfo(c echo.Context) error {
	ctx := c.Request().Context()
	tok := userinfoToken(c.Request())
	if tok == "" {
		return bearerError(c, http.StatusUnauthorized, "", "")
	}
	use, ar, err := h.Provider.IntrospectToken(ctx, tok, fosite.AccessToken, NewSession())
	if Unavailable(ctx, err) {
		return h.unavailable(c, err) // the token may be valid
	}
	if err != nil || use != fosite.AccessToken {
		return bearerError(c, http.StatusUnauthorized, "invalid_token", "The access token is invalid or expired.")
	}
	if !ar.GetGrantedScopes().Has("openid") {
		return bearerError(c, http.StatusForbidden, "insufficient_scope", "The access token lacks the openid scope.")
	}
	u, err := h.Users.GetUser(ctx, ar.GetSession().GetSubject())
	if errors.Is(err, identity.ErrNotFound) || (err == nil && u.Status != identity.StatusActive) {
		return bearerError(c, http.StatusUnauthorized, "invalid_token", "The access token's user no longer exists.")
	}
	if err != nil {
		return err
	}
	claims := userClaims(u, ar.GetGrantedScopes())
	if roles, ok := sessionRoles(ar.GetSession()); ok && ar.GetGrantedScopes().Has(ScopeRoles) {
		claims[h.rolesClaim()] = roles
	}
	claims["sub"] = u.ID
	c.Response().Header().Set("Cache-Control", "no-store")
	return c.JSON(http.StatusOK, claims)
}
