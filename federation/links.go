package federation

import (
	"context"
	"errors"
	"fmt"
	"time"

	"gatehouse/identity"
)

// ErrLastSignInMethod is Links.Unlink's answer when the link is the
// user's only way to sign in: no local password, no other link and no
// passkey. Removing it would lock the user out.
var ErrLastSignInMethod = errors.New("federation: last way to sign in")

// LinkRemover is a LinkStore that also removes links.
type LinkRemover interface {
	LinkStore
	// DeleteUserLinks removes the user's links of connectorID and
	// reports how many there were; another user's links are never
	// touched.
	DeleteUserLinks(ctx context.Context, userID, connectorID string) (int, error)
}

// PasswordHashes tells whether a user has a local password.
type PasswordHashes interface {
	// PasswordHash returns the user's password hash, empty for none.
	PasswordHash(ctx context.Context, userID string) (string, error)
}

// Passkeys counts the passkeys a user can sign in with instead of a
// password.
type Passkeys interface {
	PasskeyCount(ctx context.Context, userID string) (int, error)
}

// LinkedAccount is one of the user's links as the account page shows it.
type LinkedAccount struct {
	ConnectorID string
	// Name is the connector's display name, or its ID when the connector
	// is no longer configured.
	Name     string
	LinkedAt time.Time
}

// Links lets users see and remove their own links. It keeps the rule
// that nobody removes their last way to sign in.
type Links struct {
	Store     LinkRemover
	Passwords PasswordHashes
	// Passkeys may be nil: then no user has one.
	Passkeys Passkeys
	// Names maps connector IDs to display names.
	Names map[string]string
	// Tx runs the check and the removal as one transaction; nil runs
	// them without one.
	Tx identity.Transactor
}

// List returns the user's links, oldest first, one per connector.
func (s *Links) List(ctx context.Context, userID string) ([]LinkedAccount, error) {
	links, err := s.Store.UserLinks(ctx, userID)
	if err != nil {
		return nil, err
	}
	var out []LinkedAccount
	seen := map[string]bool{}
	for _, l := range links {
		if seen[l.ConnectorID] {
			continue
		}
		seen[l.ConnectorID] = true
		out = append(out, LinkedAccount{ConnectorID: l.ConnectorID, Name: s.Name(l.ConnectorID), LinkedAt: l.CreatedAt})
	}
	return out, nil
}

// Name is the connector's display name, or its ID when unknown.
func (s *Links) Name(connectorID string) string {
	if n := s.Names[connectorID]; n != "" {
		return n
	}
	return connectorID
}

// Unlink removes the user's link to connectorID. It returns
// identity.ErrNotFound when the user has no such link (whoever else may
// have one), and ErrLastSignInMethod, changing nothing, when the link is
// the user's last way to sign in.
func (s *Links) Unlink(ctx context.Context, userID, connectorID string) error {
	run := func(ctx context.Context) error {
		links, err := s.Store.UserLinks(ctx, userID)
		if err != nil {
			return err
		}
		mine, others := 0, 0
		for _, l := range links {
			if l.ConnectorID == connectorID {
				mine++
			} else {
				others++
			}
		}
		if mine == 0 {
			return fmt.Errorf("federation: unlink %s: %w", connectorID, identity.ErrNotFound)
		}
		if others == 0 {
			other, err := s.otherMethod(ctx, userID)
			if err != nil {
				return err
			}
			if !other {
				return ErrLastSignInMethod
			}
		}
		if _, err := s.Store.DeleteUserLinks(ctx, userID, connectorID); err != nil {
			return err
		}
		return nil
	}
	if s.Tx == nil {
		return run(ctx)
	}
	return s.Tx.Run(ctx, run)
}

// otherMethod reports whether the user can sign in without any link: a
// local password or a passkey.
func (s *Links) otherMethod(ctx context.Context, userID string) (bool, error) {
	hash, err := s.Passwords.PasswordHash(ctx, userID)
	if err != nil {
		return false, err
	}
	if hash != "" {
		return true, nil
	}
	if s.Passkeys == nil {
		return false, nil
	}
	n, err := s.Passkeys.PasskeyCount(ctx, userID)
	return n > 0, err
}
