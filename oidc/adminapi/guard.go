package adminapi

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"strings"

	"github.com/getkin/kin-openapi/openapi3filter"
	"github.com/labstack/echo/v4"

	"gatehouse/identity"
	"gatehouse/identity/access"
	"gatehouse/oidc"
)

// TokenVerifier checks a bearer access token locally, without a round
// trip to the introspection endpoint; (*oidc.Provider).VerifyAccessToken
// is one.
type TokenVerifier interface {
	VerifyAccessToken(ctx context.Context, token string) (*oidc.AccessToken, error)
}

// actorKey holds the caller's identity.Actor in the echo context.
const actorKey = "adminapi.actor"

// actor is the caller of a request that passed guard.
func actor(c echo.Context) identity.Actor {
	a, _ := c.Get(actorKey).(identity.Actor)
	return a
}

// guard runs before every handler: it finds the route in the document,
// authenticates the bearer token, checks the one permission the route
// needs, and validates the request against the document, in that order,
// so a caller without the permission learns nothing from the answer but
// that. It then runs the handler and writes any problem it returns.
func (h *Handler) guard(next echo.HandlerFunc) echo.HandlerFunc {
	return func(c echo.Context) error {
		op := h.doc.operations[c.Request().Method+" "+c.Path()]
		if op == nil {
			if allow := h.doc.allowed(c.Request().URL.Path); len(allow) > 0 {
				c.Response().Header().Set(echo.HeaderAllow, strings.Join(allow, ", "))
				return newProblem(http.StatusMethodNotAllowed, "This route does not take "+c.Request().Method+".").write(c)
			}
			return newProblem(http.StatusNotFound, "There is no such route in this API.").write(c)
		}
		a, p := h.authenticate(c, op.scope)
		if p != nil {
			return p.write(c)
		}
		in := &openapi3filter.RequestValidationInput{
			Request: c.Request(), PathParams: pathParams(c), Route: op.route,
			Options: &openapi3filter.Options{MultiError: true, AuthenticationFunc: openapi3filter.NoopAuthenticationFunc},
		}
		if err := openapi3filter.ValidateRequest(c.Request().Context(), in); err != nil {
			return requestProblem(err).write(c)
		}
		c.Set(actorKey, a)
		// The services' audit entries take the caller's address, user
		// agent and request ID from the context.
		c.SetRequest(c.Request().WithContext(oidc.WithAuditRequest(c.Request().Context(), c)))
		if h.CheckResponses {
			return h.checked(c, in, next)
		}
		return h.answer(c, next(c))
	}
}

// authenticate turns the bearer token into the Actor the services see.
// A user's token holds only the admin scopes its user's roles grant at
// this moment: a demotion takes effect at once, even on tokens already
// issued.
func (h *Handler) authenticate(c echo.Context, need access.Permission) (identity.Actor, *problem) {
	raw, ok := oidc.BearerToken(c.Request())
	if !ok {
		return identity.Actor{}, h.challenge(c, http.StatusUnauthorized, "", "An access token is required.", "")
	}
	ctx := c.Request().Context()
	tok, err := h.Verify.VerifyAccessToken(ctx, raw)
	if errors.Is(err, oidc.ErrInvalidToken) {
		return identity.Actor{}, h.challenge(c, http.StatusUnauthorized, oidc.BearerInvalidToken, "The access token is not valid.", "")
	}
	if err != nil {
		return identity.Actor{}, h.failure(c, err)
	}
	a := identity.Actor{UserID: tok.Subject, ClientID: tok.ClientID, Permissions: tok.Permissions()}
	if tok.Subject != "" {
		granted, live, err := h.rolePermissions(ctx, tok.Subject)
		if err != nil {
			return identity.Actor{}, h.failure(c, err)
		}
		if !live {
			return identity.Actor{}, h.challenge(c, http.StatusUnauthorized, oidc.BearerInvalidToken, "The access token is not valid.", "")
		}
		for p := range a.Permissions {
			if !granted.Has(p) {
				delete(a.Permissions, p)
			}
		}
	}
	if !a.Can(need) {
		return identity.Actor{}, h.challenge(c, http.StatusForbidden, oidc.BearerInsufficientScope,
			fmt.Sprintf("This call needs the %s permission.", need), string(need))
	}
	return a, nil
}

// rolePermissions is what the user's roles grant now; live is false when
// the user is gone or deactivated.
func (h *Handler) rolePermissions(ctx context.Context, userID string) (access.Set, bool, error) {
	u, err := h.Users.GetUser(ctx, userID)
	if errors.Is(err, identity.ErrNotFound) {
		return nil, false, nil
	}
	if err != nil {
		return nil, false, err
	}
	if u.Status != identity.StatusActive {
		return nil, false, nil
	}
	roles, err := h.Roles.ListRoles(ctx)
	if err != nil {
		return nil, false, err
	}
	return access.PermissionsOf(u.Roles, roles), true, nil
}

// challenge is an RFC 6750 §3 refusal: WWW-Authenticate with the error
// code (none when no token came at all, §3.1) and the scope needed, and
// the problem for the body.
func (h *Handler) challenge(c echo.Context, status int, code, detail, scope string) *problem {
	c.Response().Header().Set(echo.HeaderWWWAuthenticate, oidc.BearerChallengeHeader(code, detail, scope))
	return newProblem(status, detail)
}

// pathParams are the route's path parameters by their document names.
func pathParams(c echo.Context) map[string]string {
	m := make(map[string]string, len(c.ParamNames()))
	for i, name := range c.ParamNames() {
		m[name] = c.ParamValues()[i]
	}
	return m
}
