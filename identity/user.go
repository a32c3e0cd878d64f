package identity

import (
	"context"
	"errors"
	"time"
)

// Sentinel errors that callers branch on.
var (
	ErrNotFound      = errors.New("identity: not found")
	ErrUsernameTaken = errors.New("identity: username already taken")
	ErrEmailTaken    = errors.New("identity: email already registered")
)

// Status is the lifecycle state of an account.
type Status string

const (
	StatusActive   Status = "active"
	StatusDisabled Status = "disabled"
)

// User is an account in Gatehouse's own store. Claims-shaped fields follow
// OpenID Connect Core §5.1 so they map one to one onto standard claims.
type User struct {
	ID            string // UUID
	Username      string // unique case-insensitively
	Email         string // normalised (see NormalizeEmail); unique case-insensitively; may be empty
	EmailVerified bool
	Phone         string // E.164 when set
	PhoneVerified bool
	GivenName     string
	FamilyName    string
	Locale        string
	Zoneinfo      string
	Picture       string
	Roles         []string
	Status        Status
	CreatedAt     time.Time
	UpdatedAt     time.Time
	LastLoginAt   *time.Time
}

// Name is the display name built from given and family name.
func (u *User) Name() string {
	switch {
	case u.GivenName != "" && u.FamilyName != "":
		return u.GivenName + " " + u.FamilyName
	case u.GivenName != "":
		return u.GivenName
	default:
		return u.FamilyName
	}
}

// HasRole reports whether the user holds role.
func (u *User) HasRole(role string) bool {
	for _, r := range u.Roles {
		if r == role {
			return true
		}
	}
	return false
}

// UserStore persists users and their password hashes.
type UserStore interface {
	// CreateUser inserts u with its password hash (empty for none). It
	// returns ErrUsernameTaken or ErrEmailTaken on a uniqueness conflict.
	CreateUser(ctx context.Context, u *User, passwordHash string) error
	// GetUser returns the user with the given ID, or ErrNotFound.
	GetUser(ctx context.Context, id string) (*User, error)
	// FindUserByLogin returns the user whose username or email equals login
	// case-insensitively, with the stored password hash, or ErrNotFound.
	FindUserByLogin(ctx context.Context, login string) (*User, string, error)
	// UpdateUser saves u's profile fields, or returns ErrNotFound.
	UpdateUser(ctx context.Context, u *User) error
	// SetPasswordHash replaces the user's password hash.
	SetPasswordHash(ctx context.Context, userID, hash string) error
	// RecordLogin sets the last login time.
	RecordLogin(ctx context.Context, userID string, at time.Time) error
	// ListUsers returns users ordered by creation time.
	ListUsers(ctx context.Context, limit, offset int) ([]*User, error)
}
