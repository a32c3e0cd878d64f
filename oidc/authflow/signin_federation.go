package authflow

import (
	"context"
	"errors"
	"net/http"

	"github.com/labstack/echo/v4"

	"gatehouse/federation"
	"gatehouse/identity"
	"gatehouse/identity/audit"
)

const (
	// msgUnavailable: a directory did not answer. Local accounts are not
	// affected; people of the directory try again later.
	msgUnavailable = "We can't sign you in right now. Please try again in a few minutes."
	// msgLinkRefused: a first directory sign-in whose e-mail address or
	// username belongs to an existing account here.
	msgLinkRefused = "An account with your e-mail address or username already exists here, so your directory account cannot be used to sign in to it. Sign in with that account, or ask your administrator."
)

// ConnectorAuthenticator is an optional ability of Authenticator
// (federation.Authenticator has it): Authenticate that also names the
// upstream connector that checked the password, "" for a local account.
type ConnectorAuthenticator interface {
	AuthenticateVia(ctx context.Context, login, password string) (*identity.User, string, bool, error)
}

// authenticate checks the password, through the connectors when the
// Authenticator has them.
func (s signInStep) authenticate(ctx context.Context, login, password string) (*identity.User, string, bool, error) {
	if ca, ok := s.Authenticator.(ConnectorAuthenticator); ok {
		return ca.AuthenticateVia(ctx, login, password)
	}
	u, ok, err := s.Authenticator.Authenticate(ctx, login, password)
	return u, "", ok, err
}

// federationRefusal turns the refusals of federated sign-ins into the
// message the page shows, and records them.
// A directory outage is answered 503, as other outages are.
func (s signInStep) federationRefusal(c echo.Context, login string, err error) (status int, msg string, refused bool) {
	var reason string
	switch {
	case errors.Is(err, federation.ErrUnavailable):
		status, msg, reason = http.StatusServiceUnavailable, msgUnavailable, "directory_unavailable"
	case errors.Is(err, federation.ErrEmailInUse), errors.Is(err, federation.ErrUsernameInUse):
		status, msg, reason = http.StatusOK, msgLinkRefused, "account_exists"
	default:
		return 0, "", false
	}
	ctx := c.Request().Context()
	s.Logger.WarnContext(ctx, "login failed", "reason", reason, "error", err)
	details := s.failedLoginDetail(ctx, login)
	details["reason"] = reason
	s.audit(c, audit.Entry{ActorType: audit.ActorUser, Action: audit.ActionLoginFailed, Outcome: audit.OutcomeFailure,
		Details: details})
	return status, msg, true
}
