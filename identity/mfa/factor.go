package mfa

import (
	"errors"
	"time"
)

// Kind is the type of a second factor.
type Kind string

// The kinds of factor a user enrols (the CHECK of mfa_factors.kind).
const (
	KindTOTP     Kind = "totp"
	KindWebAuthn Kind = "webauthn"
	// KindEmail and KindSMS are sign-in codes sent to the user's
	// verified e-mail address or phone number. The factor stores no
	// address: it follows the user's current one, and is offered only
	// while that is verified.
	KindEmail Kind = "email"
	KindSMS   Kind = "sms"
)

// CodeKind reports whether k is a code sent by e-mail or SMS, the kinds
// weaker than an authenticator app or a passkey.
func (k Kind) CodeKind() bool { return k == KindEmail || k == KindSMS }

// Factor is one enrolled second factor of a user.
type Factor struct {
	ID     string
	UserID string
	Kind   Kind
	// Name is the user's label ("Phone", "YubiKey").
	Name string
	// SecretSealed is a TOTP secret sealed by a Sealer, bound to ID and
	// UserID; never the secret itself.
	SecretSealed string
	// LastStep is the last accepted TOTP time step (Unix time / 30 s).
	// Only a greater step is accepted, which refuses replayed codes.
	LastStep int64
	// WebAuthn is the credential of a KindWebAuthn factor.
	WebAuthn   *WebAuthnCredential
	CreatedAt  time.Time
	LastUsedAt *time.Time
	// ConfirmedAt is nil while enrolment is pending: such a factor is
	// not listed and not accepted.
	ConfirmedAt *time.Time
	// Default: the challenge of a sign-in shows this factor's kind
	// first. At most one factor of a user is the default.
	Default bool
	// CounterWarningAt is when a passkey's authenticator last reported a
	// signature counter that went backwards (perhaps a cloned key): nil
	// when never. The security page warns the user while it is set.
	CounterWarningAt *time.Time
}

// Confirmed reports whether enrolment finished.
func (f *Factor) Confirmed() bool { return f.ConfirmedAt != nil }

// WebAuthnCredential is a registered passkey. The store keeps ID and
// SignCount in columns (looked up and compared in SQL) and the rest as one
// JSON document.
type WebAuthnCredential struct {
	ID         []byte   `json:"-"`
	SignCount  uint32   `json:"-"`
	PublicKey  []byte   `json:"public_key"`
	AAGUID     []byte   `json:"aaguid,omitempty"`
	Transports []string `json:"transports,omitempty"`
	// HardwareBound is true only when attestation proved a hardware key
	// (never with attestation "none"); it earns amr hwk and acr phrh.
	HardwareBound bool `json:"hardware_bound,omitempty"`
	// BackupEligible and BackedUp are the authenticator data flags BE
	// and BS (a synced passkey).
	BackupEligible bool `json:"backup_eligible,omitempty"`
	BackedUp       bool `json:"backed_up,omitempty"`
}

// Errors callers branch on.
var (
	// ErrNotFound: no such factor of this user, or no such unused code.
	ErrNotFound = errors.New("mfa: not found")
	// ErrInvalidCode: the code is wrong, outside the window, or was
	// already accepted (a replay); the caller counts it as a failed try.
	ErrInvalidCode = errors.New("mfa: invalid code")
	// ErrExists: the user has this kind of sign-in code turned on
	// already.
	ErrExists = errors.New("mfa: already turned on")
	// ErrPasskeyRefused: a passkey registration or assertion did not
	// verify (wrong origin or relying party, bad signature, unknown
	// credential, a challenge expired or already used).
	ErrPasskeyRefused = errors.New("mfa: passkey refused")
	// ErrCounterRegression: the authenticator's signature counter did
	// not advance, a sign of a cloned key; the factor is flagged
	// (CounterWarningAt) and the sign-in refused.
	ErrCounterRegression = errors.New("mfa: passkey signature counter went backwards")
)
