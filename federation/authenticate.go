package federation

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"gatehouse/identity"
)

// Authenticator checks the login form's username and password against
// the local accounts and the password connectors, so that people sign in
// on the same form whichever holds their password:
//
//   - a login name of a local user linked to a password connector is
//     checked by that connector, under the local account's lockout
//     (identity.Authenticator.AuthenticateExternal);
//   - one of a local user without such a link is a local sign-in;
//   - one that no local user has is tried on each connector in order; the
//     first that accepts it signs the person in through the Broker (a new
//     local user on a first login). When none does, the answer and its
//     timing are those of an unknown local name.
//
// It embeds the local Authenticator, whose other abilities (the lockout
// of second factors, passkey sign-ins) it keeps.
type Authenticator struct {
	*identity.Authenticator
	// Connectors are the enabled password connectors, in the order they
	// are tried.
	Connectors []PasswordConnector
	Links      LinkStore
	Broker     *Broker
}

// Authenticate checks login and password as described on Authenticator.
// Besides identity.Authenticator.Authenticate's answers it returns errors
// wrapping ErrUnavailable (a directory did not answer: try again later),
// ErrEmailInUse and ErrUsernameInUse (a first login that would take over
// an existing account).
func (a *Authenticator) Authenticate(ctx context.Context, login, password string) (*identity.User, bool, error) {
	u, _, ok, err := a.AuthenticateVia(ctx, login, password)
	return u, ok, err
}

// AuthenticateVia is Authenticate that also returns the ID of the
// connector that checked the password ("" for a local account).
func (a *Authenticator) AuthenticateVia(ctx context.Context, login, password string) (*identity.User, string, bool, error) {
	login = strings.TrimSpace(login)
	if login == "" || password == "" || len(a.Connectors) == 0 {
		// Empty passwords never reach a directory, where a bind with
		// one would be an unauthenticated bind that succeeds.
		return a.local(ctx, login, password)
	}
	u, _, err := a.Users.FindUserByLogin(ctx, login)
	switch {
	case errors.Is(err, identity.ErrNotFound):
		return a.upstream(ctx, login, password)
	case err != nil:
		return nil, "", false, fmt.Errorf("federation: authenticate: %w", err)
	}
	conn, link, err := a.linked(ctx, u.ID)
	if err != nil {
		return nil, "", false, err
	}
	if conn == nil {
		return a.local(ctx, login, password)
	}
	var id Identity
	user, ok, err := a.AuthenticateExternal(ctx, u.ID, func(ctx context.Context) (bool, error) {
		// The directory is asked for the linked entry's own name, which
		// the local username mirrors, whatever form of login was typed.
		var ok bool
		var err error
		id, ok, err = conn.Login(ctx, u.Username, password)
		// Another entry under the same name (the linked one was removed
		// and its name reused) is not this account.
		return ok && id.Subject == link.Subject, err
	})
	if err != nil || !ok {
		return nil, "", false, err
	}
	return a.signedIn(ctx, conn, id, user)
}

// local is the local account's sign-in.
func (a *Authenticator) local(ctx context.Context, login, password string) (*identity.User, string, bool, error) {
	u, ok, err := a.Authenticator.Authenticate(ctx, login, password)
	return u, "", ok, err
}

// upstream tries a login that no local user has on each connector.
func (a *Authenticator) upstream(ctx context.Context, login, password string) (*identity.User, string, bool, error) {
	var unavailable error
	for _, conn := range a.Connectors {
		id, ok, err := conn.Login(ctx, login, password)
		if err != nil {
			unavailable = err
			continue
		}
		if !ok {
			continue
		}
		u, err := a.Broker.Resolve(ctx, conn, id)
		if err != nil {
			return nil, "", false, err
		}
		// A known subject under a new name: the account's lockout and
		// status hold as for any other sign-in.
		user, ok, err := a.AuthenticateExternal(ctx, u.ID, func(context.Context) (bool, error) { return true, nil })
		if err != nil || !ok {
			return nil, "", false, err
		}
		return a.signedIn(ctx, conn, Identity{}, user)
	}
	if unavailable != nil {
		return nil, "", false, unavailable
	}
	// Unknown everywhere: answered as an unknown local name is, with the
	// time of a password check.
	return a.local(ctx, login, password)
}

// signedIn refreshes user from id (unless it was just resolved).
func (a *Authenticator) signedIn(ctx context.Context, conn PasswordConnector, id Identity, user *identity.User) (*identity.User, string, bool, error) {
	if id.Subject != "" {
		fresh, err := a.Broker.Resolve(ctx, conn, id)
		if err != nil {
			return nil, "", false, err
		}
		fresh.LastLoginAt = user.LastLoginAt
		user = fresh
	}
	return user, conn.ID(), true, nil
}

// linked returns the enabled password connector the user is linked to,
// with the link, or nil when there is none.
func (a *Authenticator) linked(ctx context.Context, userID string) (PasswordConnector, *Link, error) {
	links, err := a.Links.UserLinks(ctx, userID)
	if err != nil {
		return nil, nil, fmt.Errorf("federation: links of %s: %w", userID, err)
	}
	for _, l := range links {
		for _, c := range a.Connectors {
			if c.ID() == l.ConnectorID {
				return c, &l, nil
			}
		}
	}
	return nil, nil, nil
}

// PasswordManagedUpstream reports whether the user's password lives in a
// directory, and that directory's name: such users change it there, not
// through the local forgotten-password flow.
func (a *Authenticator) PasswordManagedUpstream(ctx context.Context, userID string) (string, bool, error) {
	c, _, err := a.linked(ctx, userID)
	if err != nil || c == nil {
		return "", false, err
	}
	return c.Name(), true, nil
}
