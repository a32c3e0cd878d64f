package federation

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"strings"
	"time"

	"github.com/google/uuid"

	"gatehouse/identity"
)

// ErrEmailInUse: a first upstream login whose e-mail address belongs to
// an existing local account, through a connector not trusted to verify
// addresses. Linking would hand that account to whoever controls the
// upstream entry, so the login is refused.
var ErrEmailInUse = errors.New("federation: e-mail address belongs to an existing account")

// ErrUsernameInUse: a first upstream login whose username belongs to an
// existing local account that is not linked to it.
var ErrUsernameInUse = errors.New("federation: username belongs to an existing account")

// UserStore is what the Broker needs of identity's user store.
type UserStore interface {
	identity.UserFinder
	// CreateUser is identity.UserStore.CreateUser.
	CreateUser(ctx context.Context, u *identity.User, passwordHash string) error
	// UpdateUser is identity.UserStore.UpdateUser.
	UpdateUser(ctx context.Context, u *identity.User) error
	// SetUserRoles is identity.RoleHolderStore.SetUserRoles.
	SetUserRoles(ctx context.Context, userID string, roles []string, at time.Time) error
}

// Broker maps upstream identities onto local users.
type Broker struct {
	Users UserStore
	Links LinkStore
	// Tx runs a change of several rows as one transaction; nil runs it
	// as it comes.
	Tx     identity.Transactor
	Logger *slog.Logger
	Now    func() time.Time
}

func (b *Broker) now() time.Time {
	if b.Now != nil {
		return b.Now().UTC()
	}
	return time.Now().UTC()
}

func (b *Broker) run(ctx context.Context, fn func(context.Context) error) error {
	if b.Tx == nil {
		return fn(ctx)
	}
	return b.Tx.Run(ctx, fn)
}

// Resolve returns the local user of id: the linked one, refreshed from
// id, or a new one (or, for a connector trusted with e-mail addresses, the
// existing account with id's verified address, now linked). It refuses a
// first login that would take over an existing account with
// ErrEmailInUse or ErrUsernameInUse. The user's status is not checked.
func (b *Broker) Resolve(ctx context.Context, conn Connector, id Identity) (*identity.User, error) {
	if id.Subject == "" || id.ConnectorID != conn.ID() {
		return nil, fmt.Errorf("federation: identity without subject from connector %q", conn.ID())
	}
	u, err := b.resolve(ctx, conn, id)
	if errors.Is(err, ErrLinkExists) || errors.Is(err, ErrUsernameInUse) || errors.Is(err, ErrEmailInUse) {
		// Perhaps a concurrent first login of the same person made the
		// user and the link meanwhile: then this one finds the link now.
		// A real conflict gets the same answer again.
		u, err = b.resolve(ctx, conn, id)
	}
	return u, err
}

func (b *Broker) resolve(ctx context.Context, conn Connector, id Identity) (*identity.User, error) {
	var u *identity.User
	err := b.run(ctx, func(ctx context.Context) error {
		l, err := b.Links.GetLink(ctx, id.ConnectorID, id.Subject)
		switch {
		case err == nil:
			if u, err = b.Users.GetUser(ctx, l.UserID); err != nil {
				return fmt.Errorf("federation: linked user %s: %w", l.UserID, err)
			}
		case errors.Is(err, identity.ErrNotFound):
			if u, err = b.firstLogin(ctx, conn, id); err != nil {
				return err
			}
		default:
			return err
		}
		if err := b.refresh(ctx, u, id); err != nil {
			return err
		}
		return b.Links.TouchLink(ctx, id.ConnectorID, id.Subject, b.now())
	})
	if err != nil {
		return nil, err
	}
	return u, nil
}

// firstLogin links id to a new local user, or to the existing account
// with its address when conn is trusted with addresses.
func (b *Broker) firstLogin(ctx context.Context, conn Connector, id Identity) (*identity.User, error) {
	email := normalEmail(id.Email)
	var u *identity.User
	created := false
	if email != "" {
		existing, _, err := b.Users.FindUserByLogin(ctx, email)
		switch {
		case err == nil && existing.Email == email:
			if !trusted(conn) || !id.EmailVerified {
				return nil, ErrEmailInUse
			}
			u = existing
		case err != nil && !errors.Is(err, identity.ErrNotFound):
			return nil, err
		}
	}
	if u == nil {
		if _, _, err := b.Users.FindUserByLogin(ctx, id.Username); err == nil {
			return nil, ErrUsernameInUse
		}
		id, err := uuid.NewV7()
		if err != nil {
			return nil, err
		}
		now := b.now()
		u = &identity.User{ID: id.String(), Status: identity.StatusActive, CreatedAt: now, UpdatedAt: now}
		created = true
	}
	if created {
		apply(u, id)
		if err := b.Users.CreateUser(ctx, u, ""); err != nil {
			if errors.Is(err, identity.ErrUsernameTaken) {
				return nil, ErrUsernameInUse
			}
			if errors.Is(err, identity.ErrEmailTaken) {
				return nil, ErrEmailInUse
			}
			return nil, fmt.Errorf("federation: provision user: %w", err)
		}
	}
	now := b.now()
	if err := b.Links.CreateLink(ctx, Link{ConnectorID: id.ConnectorID, Subject: id.Subject, UserID: u.ID, CreatedAt: now, LastLoginAt: now}); err != nil {
		return nil, err
	}
	b.logger().InfoContext(ctx, "upstream account linked", "user_id", u.ID, "connector_id", id.ConnectorID, "provisioned", created)
	return u, nil
}

// refresh copies id's profile and roles onto u where they changed.
func (b *Broker) refresh(ctx context.Context, u *identity.User, id Identity) error {
	before := *u
	apply(u, id)
	if u.Username != before.Username || u.Email != before.Email || u.EmailVerified != before.EmailVerified ||
		u.GivenName != before.GivenName || u.FamilyName != before.FamilyName || u.Phone != before.Phone {
		u.UpdatedAt = b.now()
		switch err := b.Users.UpdateUser(ctx, u); {
		case errors.Is(err, identity.ErrEmailTaken):
			// The directory's new address is another account's.
			return fmt.Errorf("federation: refresh user %s: %w", u.ID, ErrEmailInUse)
		case errors.Is(err, identity.ErrUsernameTaken):
			return fmt.Errorf("federation: refresh user %s: %w", u.ID, ErrUsernameInUse)
		case err != nil:
			return fmt.Errorf("federation: refresh user %s: %w", u.ID, err)
		}
	}
	roles := slices.Clone(id.Roles)
	slices.Sort(roles)
	roles = slices.Compact(roles)
	have := slices.Clone(before.Roles)
	slices.Sort(have)
	if !slices.Equal(roles, have) {
		if err := b.Users.SetUserRoles(ctx, u.ID, roles, b.now()); err != nil {
			return fmt.Errorf("federation: set roles of %s: %w", u.ID, err)
		}
		u.Roles = roles
	}
	return nil
}

// apply copies the upstream profile onto u; empty upstream values leave
// the username and e-mail address as they are.
func apply(u *identity.User, id Identity) {
	if name := strings.TrimSpace(id.Username); name != "" {
		u.Username = name
	}
	// An address verified here stays verified while the directory keeps
	// it; a new one is verified only if the directory is trusted to.
	switch email := normalEmail(id.Email); {
	case email == "":
	case email != u.Email:
		u.Email, u.EmailVerified = email, id.EmailVerified
	case id.EmailVerified:
		u.EmailVerified = true
	}
	u.GivenName, u.FamilyName = id.GivenName, id.FamilyName
	// Only numbers already in E.164: a directory's free-form numbers
	// would not pass the local rules.
	if strings.HasPrefix(id.Phone, "+") && !strings.ContainsAny(id.Phone, " -()") {
		u.Phone = id.Phone
	}
}

// normalEmail is the normalised address, or "" for one identity would
// refuse.
func normalEmail(s string) string {
	e, err := identity.NormalizeEmail(s)
	if err != nil {
		return ""
	}
	return e
}

func trusted(conn Connector) bool {
	t, ok := conn.(TrustedEmails)
	return ok && t.TrustEmail()
}

func (b *Broker) logger() *slog.Logger {
	if b.Logger != nil {
		return b.Logger
	}
	return slog.New(slog.DiscardHandler)
}
