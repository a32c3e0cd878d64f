package mfa

import (
	"context"
	"time"
)

// Factors stores users' second factors. Methods return ErrNotFound for a
// factor that does not exist or belongs to another user.
type Factors interface {
	// CreateFactor inserts f, which carries its ID, UserID and CreatedAt.
	// A second factor of KindEmail or KindSMS for one user is ErrExists.
	CreateFactor(ctx context.Context, f *Factor) error
	// GetFactor returns one factor of the user, pending or confirmed.
	GetFactor(ctx context.Context, userID, id string) (*Factor, error)
	// ListFactors returns the user's factors, pending ones included,
	// oldest first.
	ListFactors(ctx context.Context, userID string) ([]Factor, error)
	// AcceptStep records an accepted TOTP code at step: it sets
	// last_step and last_used_at, and confirmed_at when confirm is true,
	// in one conditional UPDATE that applies only while last_step < step
	// (and, with confirm, only to a pending factor; without, only to a
	// confirmed one). It reports whether the row changed: false means the
	// step was already used, by this request's twin or earlier.
	AcceptStep(ctx context.Context, userID, id string, step int64, at time.Time, confirm bool) (bool, error)
	// SetDefaultFactor makes the user's confirmed factor id the default
	// and no other factor of theirs, in one statement.
	SetDefaultFactor(ctx context.Context, userID, id string) error
	// DeleteFactor removes one factor of the user.
	DeleteFactor(ctx context.Context, userID, id string) error
	// DeletePendingFactors removes the user's unconfirmed factors of
	// kind, so abandoned enrolments do not pile up.
	DeletePendingFactors(ctx context.Context, userID string, kind Kind) error
}

// Credentials stores what passkeys need of factors beyond Factors.
type Credentials interface {
	// FactorByCredentialID returns the factor of a WebAuthn credential
	// ID, whoever it belongs to (passwordless sign-in learns the user from
	// it), or ErrNotFound.
	FactorByCredentialID(ctx context.Context, credentialID []byte) (*Factor, error)
	// AcceptAssertion records a verified assertion of a confirmed
	// WebAuthn factor: sign_count becomes count and last_used_at at, in
	// one conditional UPDATE that applies only while the stored count is
	// below count (or both are 0: an authenticator without a counter). It
	// reports whether the row changed: false means the counter did not
	// advance, because of a clone or of a twin assertion racing this one.
	AcceptAssertion(ctx context.Context, userID, id string, count uint32, at time.Time) (bool, error)
	// FlagCounterRegression sets the factor's counter_warning_at.
	FlagCounterRegression(ctx context.Context, userID, id string, at time.Time) error
	// RenameFactor sets the name of one factor of the user.
	RenameFactor(ctx context.Context, userID, id, name string) error
}

// Purpose is what a WebAuthn ceremony was begun for.
type Purpose string

// The ceremonies (webauthn_ceremonies.purpose).
const (
	PurposeRegister     Purpose = "register"
	PurposeSecondFactor Purpose = "second_factor"
	PurposePasswordless Purpose = "passwordless"
)

// Ceremony is a WebAuthn registration or assertion begun and not yet
// finished: the challenge the browser signs, held server-side.
type Ceremony struct {
	ID      string
	Binding string
	Purpose Purpose
	// UserID is the user a registration or second factor is for; ""
	// for a passwordless sign-in, which learns the user from the passkey.
	UserID string
	// Session is the WebAuthn library's session data as JSON.
	Session   []byte
	ExpiresAt time.Time
}

// Ceremonies holds ceremonies between their begin and finish.
type Ceremonies interface {
	// CreateCeremony stores c.
	CreateCeremony(ctx context.Context, c *Ceremony) error
	// TakeCeremony deletes and returns the ceremony with id and binding
	// that has not expired at now, or returns ErrNotFound. The delete
	// decides: of two requests with one ceremony, one gets it.
	TakeCeremony(ctx context.Context, id, binding string, now time.Time) (*Ceremony, error)
	// DeleteExpiredCeremonies removes ceremonies expired at now.
	DeleteExpiredCeremonies(ctx context.Context, now time.Time) (int64, error)
}

// RecoveryCodes stores the keyed hashes of users' recovery codes.
type RecoveryCodes interface {
	// ReplaceRecoveryCodes voids the user's codes, used or not, and
	// stores hashes as the new set, atomically.
	ReplaceRecoveryCodes(ctx context.Context, userID string, hashes []string, at time.Time) error
	// UseRecoveryCode marks the user's unused code with hash as used in
	// one conditional UPDATE (used_at IS NULL) and reports whether it did.
	UseRecoveryCode(ctx context.Context, userID, hash string, at time.Time) (bool, error)
	// CountRecoveryCodes returns how many of the user's codes are unused.
	CountRecoveryCodes(ctx context.Context, userID string) (int, error)
}

// Sealer encrypts secrets at rest under the master key; *seal.Box is one.
// additionalData binds a sealed value to its row.
type Sealer interface {
	// Seal encrypts plaintext bound to additionalData.
	Seal(plaintext, additionalData []byte) string
	// Open decrypts a value Seal made with the same additionalData.
	Open(sealed string, additionalData []byte) ([]byte, error)
}

// Transactor runs fn in one database transaction carried by the context
// it passes fn; the stores join it. migrations/dbtx implements it.
type Transactor interface {
	Run(ctx context.Context, fn func(ctx context.Context) error) error
}
