package oidc

import (
	"context"
	"fmt"
	"slices"

	"github.com/ory/fosite"

	"gatehouse/identity"
	"gatehouse/identity/access"
)

// Admin scopes are the permissions of identity/access used as OAuth
// scope values: a token with "users:read" may read users through the
// admin API. Who may hold one:
//
//   - A client may request one only when an administrator allowed it in
//     the client's scope (the CLI, later the admin API); dynamic client
//     registration refuses them, and fosite refuses a request for a
//     scope the client is not allowed (invalid_scope).
//   - Such a client using client_credentials gets the admin scopes it
//     asks for (all it is allowed when it asks for none).
//   - For a user (authorization code), the client gets only the admin
//     scopes the user's roles grant; the others are left out of the
//     grant, not refused. A refresh keeps what was granted.

// AdminScopes returns every admin scope, in the order of access.All.
func AdminScopes() []string {
	var out []string
	for _, p := range access.All() {
		out = append(out, string(p))
	}
	return out
}

// IsAdminScope reports whether s is an admin scope.
func IsAdminScope(s string) bool {
	_, err := access.ParsePermission(s)
	return err == nil
}

// RoleLister lists the roles whose permissions a user's roles stand for.
type RoleLister interface {
	// ListRoles returns the built-in roles and the custom ones.
	ListRoles(ctx context.Context) ([]access.Role, error)
}

// grantUserScopes grants a user's authorization the scopes it requested
// (fosite has checked that the client may request each) except the admin
// scopes the user's roles do not grant: an application the user signs in
// to acts with at most the user's own permissions, and one that was not
// allowed admin scopes never gets here with any.
func (h *Handler) grantUserScopes(ctx context.Context, ar fosite.AuthorizeRequester, u *identity.User) error {
	requested := ar.GetRequestedScopes()
	var perms access.Set
	if slices.ContainsFunc(requested, IsAdminScope) {
		var roles []access.Role
		if h.Roles != nil {
			var err error
			if roles, err = h.Roles.ListRoles(ctx); err != nil {
				return fmt.Errorf("oidc: roles of the user's permissions: %w", err)
			}
		}
		perms = access.PermissionsOf(u.Roles, roles)
	}
	for _, s := range requested {
		if IsAdminScope(s) && !perms.Has(access.Permission(s)) {
			continue
		}
		ar.GrantScope(s)
	}
	return nil
}

// defaultServiceScopes is the scope of a client_credentials request that
// named none (RFC 6749 §3.3 lets the server use a pre-defined default):
// the admin scopes the client is allowed. The other scopes describe a
// user, and a client acting for itself has none.
func defaultServiceScopes(c fosite.Client) []string {
	var out []string
	for _, s := range c.GetScopes() {
		if IsAdminScope(s) {
			out = append(out, s)
		}
	}
	return out
}
