package identity

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"gatehouse/identity/access"
	"gatehouse/identity/audit"
)

// Roles grants roles to users and keeps the custom roles: SetRoles,
// ListRoles, CreateRole and DeleteRole. Every change needs an actor
// holding users:admin, is audited, and runs in one transaction with its
// audit entry.
type Roles struct {
	*Core
	// Users holds the users' roles (users.roles).
	Users RoleHolderStore
	// Store keeps the custom roles.
	Store RoleStore
	// Audit records every change; required.
	Audit AuditRecorder
}

// RoleHolderStore is what Roles needs of a UserStore.
type RoleHolderStore interface {
	UserFinder
	// SetUserRoles replaces the user's roles and sets UpdatedAt, or
	// returns ErrNotFound.
	SetUserRoles(ctx context.Context, userID string, roles []string, at time.Time) error
	// LockActiveRoleHolders returns the IDs of the active users holding
	// any of roles, locking their rows until the transaction ends, so two
	// concurrent demotions cannot both count the other as the admin left.
	LockActiveRoleHolders(ctx context.Context, roles []string) ([]string, error)
	// CountRoleHolders returns how many users, in any status, hold role.
	CountRoleHolders(ctx context.Context, role string) (int64, error)
}

// RoleStore keeps custom roles; built-in ones never reach it.
type RoleStore interface {
	// ListRoles returns the custom roles ordered by name.
	ListRoles(ctx context.Context) ([]access.Role, error)
	// CreateRole stores r, or returns ErrRoleExists.
	CreateRole(ctx context.Context, r access.Role) error
	// DeleteRole removes the role named, or returns ErrNotFound.
	DeleteRole(ctx context.Context, name string) error
}

// AuditRecorder appends to the audit trail; *audit.Log is one.
type AuditRecorder interface {
	// Record appends e, in the transaction the context carries.
	Record(ctx context.Context, e audit.Entry) error
}

// Actor is who asks for an administrative change: the command line, a
// person, or a service. It is also who the audit trail names.
type Actor struct {
	// UserID is the signed-in user who acts. For Roles their stored roles
	// must grant users:admin, read again at each call, so a demotion
	// takes effect at once.
	UserID string
	// ClientID is the OAuth client that acts: alone for a service
	// calling with a client_credentials token, or on behalf of UserID.
	ClientID string
	// Permissions is what this call may do, as the layer that
	// authenticated it worked out (a token's scopes, narrowed by the
	// user's roles for a user's token). Services check it with Can.
	Permissions access.Set
	// Operator marks the command line: whoever runs it holds the
	// configuration and the database, so it is trusted with every
	// permission and audited as "cli".
	Operator bool
}

// OperatorActor is the command line.
var OperatorActor = Actor{Operator: true}

// Can reports whether the actor may use permission p: the operator
// always, anyone else when Permissions holds it.
func (a Actor) Can(p access.Permission) bool {
	return a.Operator || a.Permissions.Has(p)
}

// AuditIdentity is how the audit trail names the actor: "cli" for the
// operator, the user for a person (even through a client), the client
// for a service acting alone.
func (a Actor) AuditIdentity() (actorType, actorID string) {
	switch {
	case a.Operator:
		return audit.ActorAdmin, "cli"
	case a.UserID != "":
		return audit.ActorAdmin, a.UserID
	default:
		return audit.ActorClient, a.ClientID
	}
}

// Errors of Roles.
var (
	// ErrForbidden: the actor lacks the permission the change needs.
	ErrForbidden = errors.New("identity: permission denied")
	// ErrUnknownRole: a role granted is neither built-in nor custom.
	ErrUnknownRole = errors.New("identity: unknown role")
	// ErrRoleExists: a custom role of that name exists already.
	ErrRoleExists = errors.New("identity: role already exists")
)

// LastAdminError refuses a change that would leave no active user
// holding users:admin: nobody could grant roles any more but the command
// line. An HTTP layer answers it with 409 Conflict.
type LastAdminError struct {
	UserID string // the last active admin
}

func (e *LastAdminError) Error() string {
	return fmt.Sprintf("identity: user %s is the last active admin (users:admin); grant it to someone else first", e.UserID)
}

// RoleInUseError refuses to delete a custom role that users still hold:
// deleting it would silently take their permissions away. Take the role
// from them first.
type RoleInUseError struct {
	Role    string
	Holders int64
}

func (e *RoleInUseError) Error() string {
	return fmt.Sprintf("identity: role %q is held by %d user(s); take it from them first", e.Role, e.Holders)
}

// SetRoles replaces the roles of a user. Roles are checked by name
// (access.ValidateName), must be built-in or custom, and are kept once
// each in the order given. Removing users:admin from the last active user
// who holds it returns *LastAdminError. The change and its audit entry
// (actor, subject, old and new roles) commit together.
//
// Tokens carry the roles taken when they are issued: the change reaches
// tokens issued from now on, not those already out.
func (s *Roles) SetRoles(ctx context.Context, actor Actor, userID string, roles []string) (*User, error) {
	roles, err := uniqueRoleNames(roles)
	if err != nil {
		return nil, err
	}
	var out *User
	err = s.inTx(ctx, func(ctx context.Context) error {
		custom, err := s.Store.ListRoles(ctx)
		if err != nil {
			return err
		}
		if err := s.authorize(ctx, actor, custom); err != nil {
			return err
		}
		for _, r := range roles {
			if !known(r, custom) {
				return fmt.Errorf("%w %q", ErrUnknownRole, r)
			}
		}
		u, err := s.Users.GetUser(ctx, userID)
		if err != nil {
			return err
		}
		old := u.Roles
		wasAdmin := access.PermissionsOf(old, custom).Has(access.UsersAdmin)
		staysAdmin := access.PermissionsOf(roles, custom).Has(access.UsersAdmin)
		if wasAdmin && !staysAdmin && u.Status == StatusActive {
			if err := checkOtherAdmin(ctx, s.Users.LockActiveRoleHolders, u.ID, custom); err != nil {
				return err
			}
		}
		if err := s.Users.SetUserRoles(ctx, u.ID, roles, s.now()); err != nil {
			return err
		}
		u.Roles = roles
		out = u
		return s.record(ctx, actor, audit.ActionRolesChanged, u.ID, audit.Details{
			"old_roles": strings.Join(old, ","), "new_roles": strings.Join(roles, ","),
		})
	})
	if err != nil {
		return nil, fmt.Errorf("identity: set roles: %w", err)
	}
	return out, nil
}

// ListRoles returns the built-in roles, then the custom ones by name.
// Anyone may read them: they are names and permissions, no secrets.
func (s *Roles) ListRoles(ctx context.Context) ([]access.Role, error) {
	custom, err := s.Store.ListRoles(ctx)
	if err != nil {
		return nil, fmt.Errorf("identity: list roles: %w", err)
	}
	return append(access.BuiltIns(), custom...), nil
}

// CreateRole stores a custom role (see access.ValidateCustom) and audits
// it.
func (s *Roles) CreateRole(ctx context.Context, actor Actor, r access.Role) (access.Role, error) {
	r, err := access.ValidateCustom(r)
	if err != nil {
		return access.Role{}, err
	}
	r.CreatedAt = s.now()
	err = s.inTx(ctx, func(ctx context.Context) error {
		custom, err := s.Store.ListRoles(ctx)
		if err != nil {
			return err
		}
		if err := s.authorize(ctx, actor, custom); err != nil {
			return err
		}
		if err := s.Store.CreateRole(ctx, r); err != nil {
			return err
		}
		return s.record(ctx, actor, audit.ActionRoleCreated, r.Name, audit.Details{
			"role": r.Name, "permissions": joinPermissions(r.Permissions),
		})
	})
	if err != nil {
		return access.Role{}, fmt.Errorf("identity: create role %q: %w", r.Name, err)
	}
	return r, nil
}

// DeleteRole removes a custom role nobody holds. A built-in role returns
// access.ErrBuiltIn, one that users hold *RoleInUseError.
func (s *Roles) DeleteRole(ctx context.Context, actor Actor, name string) error {
	if _, ok := access.BuiltIn(name); ok {
		return fmt.Errorf("identity: delete role: %w %q cannot be deleted", access.ErrBuiltIn, name)
	}
	err := s.inTx(ctx, func(ctx context.Context) error {
		custom, err := s.Store.ListRoles(ctx)
		if err != nil {
			return err
		}
		if err := s.authorize(ctx, actor, custom); err != nil {
			return err
		}
		n, err := s.Users.CountRoleHolders(ctx, name)
		if err != nil {
			return err
		}
		if n > 0 {
			return &RoleInUseError{Role: name, Holders: n}
		}
		if err := s.Store.DeleteRole(ctx, name); err != nil {
			return err
		}
		return s.record(ctx, actor, audit.ActionRoleDeleted, name, audit.Details{"role": name})
	})
	if err != nil {
		return fmt.Errorf("identity: delete role %q: %w", name, err)
	}
	return nil
}

// authorize lets the operator through; a service acting alone when its
// Permissions hold users:admin; and a user who is active and whose roles
// grant users:admin, and, when the call came with a token
// (Permissions set), whose token grants it too.
func (s *Roles) authorize(ctx context.Context, actor Actor, custom []access.Role) error {
	if actor.Operator {
		return nil
	}
	if actor.Permissions != nil && !actor.Can(access.UsersAdmin) {
		return ErrForbidden
	}
	if actor.UserID == "" {
		if actor.ClientID != "" && actor.Can(access.UsersAdmin) {
			return nil
		}
		return ErrForbidden
	}
	u, err := s.Users.GetUser(ctx, actor.UserID)
	if errors.Is(err, ErrNotFound) {
		return ErrForbidden
	}
	if err != nil {
		return err
	}
	if u.Status != StatusActive || !access.PermissionsOf(u.Roles, custom).Has(access.UsersAdmin) {
		return ErrForbidden
	}
	return nil
}

// checkOtherAdmin returns *LastAdminError unless an active user other
// than userID holds users:admin; lock is LockActiveRoleHolders.
func checkOtherAdmin(ctx context.Context, lock func(context.Context, []string) ([]string, error), userID string, custom []access.Role) error {
	holders, err := lock(ctx, access.RolesWith(access.UsersAdmin, custom))
	if err != nil {
		return err
	}
	for _, id := range holders {
		if id != userID {
			return nil
		}
	}
	return &LastAdminError{UserID: userID}
}

func (s *Roles) record(ctx context.Context, actor Actor, action, subject string, d audit.Details) error {
	actorType, id := actor.AuditIdentity()
	return s.Audit.Record(ctx, audit.Entry{ActorType: actorType, ActorID: id, Subject: subject,
		Action: action, Outcome: audit.OutcomeSuccess, Details: d})
}

func uniqueRoleNames(roles []string) ([]string, error) {
	out := []string{}
	for _, r := range roles {
		if err := access.ValidateName(r); err != nil {
			return nil, err
		}
		if !slices.Contains(out, r) {
			out = append(out, r)
		}
	}
	return out, nil
}

func known(name string, custom []access.Role) bool {
	if _, ok := access.BuiltIn(name); ok {
		return true
	}
	return slices.ContainsFunc(custom, func(r access.Role) bool { return r.Name == name })
}

func joinPermissions(ps []access.Permission) string {
	s := make([]string, len(ps))
	for i, p := range ps {
		s[i] = string(p)
	}
	return strings.Join(s, ",")
}
