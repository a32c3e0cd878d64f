package federation

import (
	"context"
	"errors"
	"time"
)

// ErrLinkExists is LinkStore.CreateLink's answer when the (connector,
// subject) pair is linked already.
var ErrLinkExists = errors.New("federation: link exists")

// Link ties an upstream subject to a local user.
type Link struct {
	ConnectorID string
	Subject     string
	UserID      string
	CreatedAt   time.Time
	LastLoginAt time.Time
}

// LinkStore keeps the links (table federation_links).
type LinkStore interface {
	// GetLink returns the link of (connectorID, subject), or
	// identity.ErrNotFound.
	GetLink(ctx context.Context, connectorID, subject string) (*Link, error)
	// UserLinks returns the user's links, oldest first.
	UserLinks(ctx context.Context, userID string) ([]Link, error)
	// CreateLink stores l, or returns ErrLinkExists.
	CreateLink(ctx context.Context, l Link) error
	// TouchLink sets the link's last login time, or returns
	// identity.ErrNotFound.
	TouchLink(ctx context.Context, connectorID, subject string, at time.Time) error
}
