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
	// ErrPreconditionFailed: a change was made on the strength of a
	// version of the user (an ETag) that is no longer current; someone
	// changed the user meanwhile. An HTTP layer answers 412.
	ErrPreconditionFailed = errors.New("identity: the user changed since it was read")
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
	MiddleName    string
	Nickname      string
	Picture       string // absolute http(s) URL
	Website       string // absolute http(s) URL
	Gender        string // free text; OIDC defines "female" and "male"
	Birthdate     string // YYYY-MM-DD, YYYY or 0000-MM-DD (OIDC Core §5.1)
	Locale        string // BCP 47 language tag
	Zoneinfo      string // IANA time zone name
	Address       Address
	Roles         []string
	Status        Status
	CreatedAt     time.Time
	UpdatedAt     time.Time
	LastLoginAt   *time.Time
	// LockedUntil is the end of the latest temporary lockout (see
	// LockoutPolicy); it may have passed. Nil when none was recorded.
	LockedUntil *time.Time
	// LockedPermanently is set by a lockout that does not expire; only
	// the unlock link or an administrator ends it.
	LockedPermanently bool
}

// Address is a postal address, the "address" claim of OpenID Connect Core
// §5.1.1. StreetAddress and Formatted may hold several lines separated by
// "\n".
type Address struct {
	Formatted     string
	StreetAddress string
	Locality      string
	Region        string
	PostalCode    string
	Country       string
}

// IsZero reports whether no part of the address is set.
func (a Address) IsZero() bool { return a == Address{} }

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

// LockedAt reports whether a brute-force lockout keeps the user from
// signing in at now.
func (u *User) LockedAt(now time.Time) bool {
	return u.LockedPermanently || u.LockedUntil != nil && now.Before(*u.LockedUntil)
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

// UserFinder finds users; every part of the identity service needs it.
type UserFinder interface {
	// GetUser returns the user with the given ID, or ErrNotFound.
	GetUser(ctx context.Context, id string) (*User, error)
	// FindUserByLogin returns the user whose username or email equals login
	// case-insensitively, with the stored password hash, or ErrNotFound.
	FindUserByLogin(ctx context.Context, login string) (*User, string, error)
}

// UserStore persists users and their password hashes. Each part of the
// identity service takes only the slice of it that it uses (AccountStore,
// LoginStore, ContactStore, RecoveryStore, ProfileStore).
type UserStore interface {
	UserFinder
	// CreateUser inserts u with its password hash (empty for none). It
	// returns ErrUsernameTaken or ErrEmailTaken on a uniqueness conflict.
	CreateUser(ctx context.Context, u *User, passwordHash string) error
	// UpdateUser saves every field of u except the password hash,
	// CreatedAt, LastLoginAt and the lockout fields, or returns ErrNotFound, ErrUsernameTaken
	// or ErrEmailTaken.
	UpdateUser(ctx context.Context, u *User) error
	// UpdateProfile saves only the fields a person edits on their profile
	// (username, names, nickname, picture, website, gender, birthdate,
	// locale, zoneinfo, address) and UpdatedAt, in one statement, so it
	// never undoes a concurrent change of contact details or status. It
	// returns ErrNotFound or ErrUsernameTaken.
	UpdateProfile(ctx context.Context, u *User) error
	// PasswordHash returns the user's password hash (empty for none), or
	// ErrNotFound.
	PasswordHash(ctx context.Context, userID string) (string, error)
	// MarkEmailVerified marks the user's e-mail address verified, but only
	// while it still equals email (ignoring case); otherwise, or for an
	// unknown user, it returns ErrNotFound.
	MarkEmailVerified(ctx context.Context, userID, email string, at time.Time) error
	// SetEmail replaces the user's e-mail address with a verified one. It
	// returns ErrNotFound or ErrEmailTaken.
	SetEmail(ctx context.Context, userID, email string, at time.Time) error
	// SetPhone replaces the user's phone number (E.164) and its verified
	// flag, or returns ErrNotFound.
	SetPhone(ctx context.Context, userID, phone string, verified bool, at time.Time) error
	// SetPasswordHash replaces the user's password hash and sets
	// UpdatedAt from the store's clock.
	SetPasswordHash(ctx context.Context, userID, hash string) error
	// RecordLogin sets the last login time.
	RecordLogin(ctx context.Context, userID string, at time.Time) error
	// ListUsers returns users ordered by creation time.
	ListUsers(ctx context.Context, limit, offset int) ([]*User, error)

	// CountLoginAttempt adds one to the user's failed logins in one
	// statement, whether or not the account is locked, and returns the
	// new count with the lockout state read in the same statement, so
	// concurrent attempts count exactly and each sees the others. A
	// password attempt is counted before its hash is checked; a success
	// then clears the count. It returns ErrNotFound for an unknown user.
	CountLoginAttempt(ctx context.Context, userID string) (LoginCount, error)
	// LockUser starts a lockout if the user still has l.Lockouts lockouts
	// and at least l.MinFailures failed logins: failed logins go back to
	// zero, lockouts up by one, and the lock is set (locked_until NULL
	// when l.Until is zero). It reports whether it did; the check and the
	// write are one statement, so of concurrent calls at most one starts
	// a given lockout. A lockout sets UpdatedAt from the store's clock.
	LockUser(ctx context.Context, userID string, l Lock) (bool, error)
	// ClearLoginFailures sets failed logins and lockouts to zero and
	// clears an expired lock, unless the account is locked at now; then,
	// or for an unknown user, it returns ErrNotFound.
	ClearLoginFailures(ctx context.Context, userID string, now time.Time) error
	// UnlockUser ends any lockout, permanent ones included, sets
	// failed logins and lockouts to zero and UpdatedAt from the store's
	// clock, or returns ErrNotFound.
	UnlockUser(ctx context.Context, userID string) error
}

// LoginCount is a user's lockout state right after
// UserStore.CountLoginAttempt.
type LoginCount struct {
	Failures          int        // failed logins, this attempt included
	Lockouts          int        // lockouts since the last success
	LockedUntil       *time.Time // as User.LockedUntil
	LockedPermanently bool
}

// LockedAt reports whether a lockout holds at now.
func (c LoginCount) LockedAt(now time.Time) bool {
	return c.LockedPermanently || c.LockedUntil != nil && now.Before(*c.LockedUntil)
}

// Lock is a lockout for UserStore.LockUser to start.
type Lock struct {
	Lockouts    int       // the lockouts the user must still have
	MinFailures int       // the failed logins the user must have at least
	Until       time.Time // end of a temporary lockout; zero when Permanent
	Permanent   bool
}
