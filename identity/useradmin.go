package identity

import (
	"context"
	"errors"
	"fmt"
	"time"

	"gatehouse/identity/access"
	"gatehouse/identity/audit"
)

// UserAdmin is the administration of users: create (with a password or
// an invitation), update, deactivate, reactivate, delete, send a reset
// link, unlock and end sessions. The command line, the admin API and the
// console all call it, so every rule of these changes lives here: the
// permission each needs, the last administrator who must stay, and the
// audit entry, written in the change's transaction.
type UserAdmin struct {
	*Core
	// Users stores the accounts.
	Users UserAdminStore
	// Roles keeps the custom roles, whose permissions decide who holds
	// users:admin.
	Roles RoleStore
	// Recovery mails reset links (SendPasswordReset); required for it.
	Recovery *Recovery
	// Sessions ends a user's browser sessions and tokens, with
	// back-channel logout; required.
	Sessions SessionRevoker
	// Erase removes what other stores keep about a deleted user (consents,
	// ended tokens); nil removes nothing more.
	Erase UserEraser
	// Audit records every change; required.
	Audit AuditRecorder
	// Policy decides which passwords are acceptable; zero fields take
	// DefaultPasswordPolicy's values.
	Policy PasswordPolicy
	// DefaultRegion reads phone numbers typed without a country code (see
	// Accounts.DefaultRegion).
	DefaultRegion string
	// InviteTTL is how long an invitation's link stays valid; zero means
	// DefaultInviteTTL.
	InviteTTL time.Duration
}

// UserAdminStore is what UserAdmin needs of a UserStore.
type UserAdminStore interface {
	UserFinder
	// CreateUser is UserStore.CreateUser.
	CreateUser(ctx context.Context, u *User, passwordHash string) error
	// UpdateUser is UserStore.UpdateUser.
	UpdateUser(ctx context.Context, u *User) error
	// GetUserForUpdate is GetUser, and holds the user's row against
	// other writers until the transaction ends, so that a check made on
	// what it read still holds when the change is written.
	GetUserForUpdate(ctx context.Context, id string) (*User, error)
	// SetUserStatus sets the user's status and UpdatedAt, or returns
	// ErrNotFound.
	SetUserStatus(ctx context.Context, userID string, status Status, at time.Time) error
	// DeleteUser removes the user and every row of the identity tables
	// that hangs on it, or returns ErrNotFound.
	DeleteUser(ctx context.Context, userID string) error
	// UnlockUser is UserStore.UnlockUser.
	UnlockUser(ctx context.Context, userID string) error
	// LockActiveRoleHolders is RoleHolderStore.LockActiveRoleHolders.
	LockActiveRoleHolders(ctx context.Context, roles []string) ([]string, error)
}

// UserEraser removes what a store outside identity keeps about a user
// being deleted.
type UserEraser interface {
	// EraseUser removes the user's rows, in the transaction the context
	// carries.
	EraseUser(ctx context.Context, userID string) error
}

func (s *UserAdmin) inviteTTL() time.Duration { return orDefault(s.InviteTTL, DefaultInviteTTL) }

// Deactivate disables the user: they can no longer sign in, and every
// browser session and token of theirs ends, with back-channel logout to
// the clients. The last active holder of users:admin cannot be
// deactivated (*LastAdminError). A disabled user is returned as it is.
func (s *UserAdmin) Deactivate(ctx context.Context, actor Actor, id string) (*User, error) {
	u, err := s.change(ctx, actor, access.UsersWrite, id, true, func(ctx context.Context, u *User) (string, audit.Details, error) {
		if u.Status == StatusDisabled {
			return "", nil, nil
		}
		if err := s.Users.SetUserStatus(ctx, u.ID, StatusDisabled, s.now()); err != nil {
			return "", nil, err
		}
		if err := s.endSessions(ctx, u.ID); err != nil {
			return "", nil, err
		}
		return audit.ActionUsersDeactivated, nil, nil
	})
	if err != nil {
		return nil, fmt.Errorf("identity: deactivate user: %w", err)
	}
	return u, nil
}

// Reactivate lets a disabled user sign in again. An active user is
// returned as it is.
func (s *UserAdmin) Reactivate(ctx context.Context, actor Actor, id string) (*User, error) {
	u, err := s.change(ctx, actor, access.UsersWrite, id, false, func(ctx context.Context, u *User) (string, audit.Details, error) {
		if u.Status == StatusActive {
			return "", nil, nil
		}
		if err := s.Users.SetUserStatus(ctx, u.ID, StatusActive, s.now()); err != nil {
			return "", nil, err
		}
		return audit.ActionUsersReactivated, nil, nil
	})
	if err != nil {
		return nil, fmt.Errorf("identity: reactivate user: %w", err)
	}
	return u, nil
}

// Delete removes the user and everything that hangs on it: sessions and
// tokens (with back-channel logout), one-time links, second factors,
// consents. It needs users:admin; the last active holder of users:admin
// cannot be deleted (*LastAdminError). The audit entry keeps the user's
// id only.
func (s *UserAdmin) Delete(ctx context.Context, actor Actor, id string) error {
	_, err := s.change(ctx, actor, access.UsersAdmin, id, true, func(ctx context.Context, u *User) (string, audit.Details, error) {
		if err := s.endSessions(ctx, u.ID); err != nil {
			return "", nil, err
		}
		if s.Erase != nil {
			if err := s.Erase.EraseUser(ctx, u.ID); err != nil {
				return "", nil, err
			}
		}
		if err := s.Users.DeleteUser(ctx, u.ID); err != nil {
			return "", nil, err
		}
		return audit.ActionUsersDeleted, nil, nil
	})
	if err != nil {
		return fmt.Errorf("identity: delete user: %w", err)
	}
	return nil
}

// SendPasswordReset mails the user the single-use reset link of "Forgot
// password". A user without an e-mail address gets a *ValidationError for
// FieldEmail, a disabled one ErrAccountDisabled, one sent a link moments
// ago a *CooldownError.
func (s *UserAdmin) SendPasswordReset(ctx context.Context, actor Actor, id string) error {
	if s.Recovery == nil || s.Notifier == nil {
		return errors.New("identity: UserAdmin.Recovery and Notifier must be set to send reset links")
	}
	_, err := s.change(ctx, actor, access.UsersWrite, id, false, func(ctx context.Context, u *User) (string, audit.Details, error) {
		switch {
		case u.Status != StatusActive:
			return "", nil, ErrAccountDisabled
		case u.Email == "":
			return "", nil, fieldError(FieldEmail, "The user has no e-mail address to send the link to.")
		}
		if err := s.Recovery.sendReset(ctx, u); err != nil {
			return "", nil, err
		}
		return audit.ActionUsersResetSent, nil, nil
	})
	if err != nil {
		return fmt.Errorf("identity: send password reset: %w", err)
	}
	return nil
}

// Unlock ends any lockout of the user, permanent ones included, and sets
// the failure counts to zero.
func (s *UserAdmin) Unlock(ctx context.Context, actor Actor, id string) (*User, error) {
	u, err := s.change(ctx, actor, access.UsersWrite, id, false, func(ctx context.Context, u *User) (string, audit.Details, error) {
		if err := s.Users.UnlockUser(ctx, u.ID); err != nil {
			return "", nil, err
		}
		return audit.ActionUsersUnlocked, nil, nil
	})
	if err != nil {
		return nil, fmt.Errorf("identity: unlock user: %w", err)
	}
	return u, nil
}

// EndSessions ends every browser session of the user and revokes every
// refresh and access token issued to them; clients with back-channel
// logout are told.
func (s *UserAdmin) EndSessions(ctx context.Context, actor Actor, id string) error {
	_, err := s.change(ctx, actor, access.UsersWrite, id, false, func(ctx context.Context, u *User) (string, audit.Details, error) {
		if err := s.endSessions(ctx, u.ID); err != nil {
			return "", nil, err
		}
		return audit.ActionUsersSessionsEnded, nil, nil
	})
	if err != nil {
		return fmt.Errorf("identity: end sessions: %w", err)
	}
	return nil
}

// change runs one change of the user with id in one transaction: the
// actor must hold p (ErrForbidden, checked before the user is looked
// up, so that it tells nothing of who exists), the user is read with its
// row held, fn changes it and names the audit action ("" when nothing
// changed: no entry), and the entry is recorded. It returns the user as
// stored afterwards (nil once deleted).
//
// With keepAdmin, the change is refused with *LastAdminError when the
// user is the last active holder of users:admin. The holders' rows are
// locked before the user's, in the one order every such change takes, so
// two of them at once (the last two admins deactivated together) wait
// for each other instead of deadlocking, and the second sees the first's
// change.
func (s *UserAdmin) change(ctx context.Context, actor Actor, p access.Permission, id string, keepAdmin bool,
	fn func(ctx context.Context, u *User) (string, audit.Details, error)) (*User, error) {
	if !actor.Can(p) {
		return nil, ErrForbidden
	}
	var out *User
	err := s.inTx(ctx, func(ctx context.Context) error {
		var custom []access.Role
		var holders []string
		if keepAdmin {
			var err error
			if custom, err = s.customRoles(ctx); err != nil {
				return err
			}
			if holders, err = s.Users.LockActiveRoleHolders(ctx, access.RolesWith(access.UsersAdmin, custom)); err != nil {
				return err
			}
		}
		u, err := s.Users.GetUserForUpdate(ctx, id)
		if err != nil {
			return err
		}
		if keepAdmin && lastAdmin(u, custom, holders) {
			return &LastAdminError{UserID: u.ID}
		}
		action, details, err := fn(ctx, u)
		if err != nil {
			return err
		}
		if action == "" {
			out = u
			return nil
		}
		if action != audit.ActionUsersDeleted {
			if out, err = s.Users.GetUser(ctx, u.ID); err != nil {
				return err
			}
		}
		return s.record(ctx, actor, action, u.ID, details)
	})
	if err != nil {
		return nil, err
	}
	return out, nil
}

// lastAdmin reports whether u is active, holds users:admin and no other
// of the active holders does.
func lastAdmin(u *User, custom []access.Role, holders []string) bool {
	if u.Status != StatusActive || !access.PermissionsOf(u.Roles, custom).Has(access.UsersAdmin) {
		return false
	}
	for _, id := range holders {
		if id != u.ID {
			return false
		}
	}
	return true
}

func (s *UserAdmin) customRoles(ctx context.Context) ([]access.Role, error) {
	if s.Roles == nil {
		return nil, nil
	}
	return s.Roles.ListRoles(ctx)
}

func (s *UserAdmin) endSessions(ctx context.Context, userID string) error {
	if s.Sessions == nil {
		return errors.New("identity: UserAdmin.Sessions is not set")
	}
	if err := s.Sessions.RevokeUserSessions(ctx, userID, ""); err != nil {
		return fmt.Errorf("identity: end sessions of %s: %w", userID, err)
	}
	return nil
}

func (s *UserAdmin) record(ctx context.Context, actor Actor, action, subject string, d audit.Details) error {
	if s.Audit == nil {
		return errors.New("identity: UserAdmin.Audit is not set")
	}
	actorType, id := actor.AuditIdentity()
	return s.Audit.Record(ctx, audit.Entry{ActorType: actorType, ActorID: id, Subject: subject,
		Action: action, Outcome: audit.OutcomeSuccess, Details: d})
}
