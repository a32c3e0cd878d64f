package audit

import (
	"errors"
	"fmt"
	"time"
)

// Actor types: who caused an event.
const (
	ActorUser   = "user"
	ActorAdmin  = "admin"
	ActorClient = "client"
	ActorSystem = "system"
)

// Outcomes of an event.
const (
	OutcomeSuccess = "success"
	OutcomeFailure = "failure"
)

// Actions. Names are "object.past-tense-verb"; a new event gets a new
// constant here so that filters and reports can rely on the spelling.
const (
	ActionLoginSucceeded = "login.succeeded"
	ActionLoginFailed    = "login.failed" // Details["reason"] says why
	ActionLogout         = "logout"
	ActionUserRegistered = "user.registered"
	// ActionRegistrationAttempt: someone tried to register with the
	// subject's e-mail address.
	ActionRegistrationAttempt = "registration.attempted"
	ActionUserDeleted         = "user.deleted"
	ActionEmailVerified       = "email.verified"
	ActionEmailChanged        = "email.changed"
	ActionPhoneVerified       = "phone.verified"
	ActionPhoneChanged        = "phone.changed"
	ActionProfileUpdated      = "profile.updated"
	ActionPasswordChanged     = "password.changed"
	ActionPasswordReset       = "password.reset"
	ActionMFAEnabled          = "mfa.enabled"
	ActionMFADisabled         = "mfa.disabled"
	// ActionMFARenamed: the subject renamed one of their passkeys.
	ActionMFARenamed = "mfa.renamed"
	// ActionFederationUnlinked: the subject removed the link to an
	// upstream account (details: connector_id).
	ActionFederationUnlinked = "federation.unlinked"
	// ActionMFACounterRegression: a passkey's signature counter went
	// backwards (perhaps a cloned key); the sign-in was refused.
	ActionMFACounterRegression = "mfa.counter_regression"
	// ActionMFARecoveryCodesRegenerated: new recovery codes replaced the
	// subject's old ones.
	ActionMFARecoveryCodesRegenerated = "mfa.recovery_codes_regenerated"
	// ActionMFACodeSent: a sign-in code was sent to the subject for the
	// second factor of a sign-in (details: channel email or sms).
	ActionMFACodeSent = "mfa.code_sent"
	// ActionMFARecoveryCodeUsed: the subject signed in with one of their
	// recovery codes (details: how many are left).
	ActionMFARecoveryCodeUsed = "mfa.recovery_code_used"
	// ActionMFABrowserRemembered: the subject asked not to be asked for
	// a second factor on a browser; ActionMFABrowserRecognised: a
	// remembered browser stood in for the challenge of a sign-in;
	// ActionMFABrowserForgotten: one or all (Details["scope"]) remembered
	// browsers were forgotten.
	ActionMFABrowserRemembered = "mfa.browser_remembered"
	ActionMFABrowserRecognised = "mfa.browser_recognised"
	ActionMFABrowserForgotten  = "mfa.browser_forgotten"
	// ActionMFAEnrolmentPostponed: the subject chose "Set up later"
	// during the policy's enrolment grace period.
	ActionMFAEnrolmentPostponed = "mfa.enrolment_postponed"
	ActionLockoutStarted        = "lockout.started"
	ActionLockoutEnded          = "lockout.ended"
	ActionRolesChanged          = "roles.changed"
	ActionAdminAction           = "admin.action" // Details["operation"] names it
	ActionClientCreated         = "client.created"
	ActionClientUpdated         = "client.updated"
	ActionClientDeleted         = "client.deleted"
	ActionConsentGranted        = "consent.granted"
	ActionConsentRevoked        = "consent.revoked"
	ActionTokenRevoked          = "token.revoked"
	ActionSessionRevoked        = "session.revoked"
	ActionAuditPruned           = "audit.pruned"
	ActionAuditVerifyFails      = "audit.verify_failed"
)

// Actions of the roles (package identity/access). ActionRolesChanged
// above: an administrator replaced the subject's roles (details:
// old_roles, new_roles, comma-separated).
const (
	// ActionRoleCreated: a custom role was created (the subject is its
	// name; details: its permissions).
	ActionRoleCreated = "role.created"
	// ActionRoleDeleted: a custom role was deleted.
	ActionRoleDeleted = "role.deleted"
)

// Actions of client management (package oidc/clientreg, Admin).
// ActionClientCreated, ActionClientUpdated and ActionClientDeleted above
// serve it too.
const (
	// ActionClientSecretRotated: an administrator replaced the client's
	// secret, which is never in the details.
	ActionClientSecretRotated = "client.secret_rotated"
)

// Actions of the administration of users (identity.UserAdmin); the
// subject is the user's id, the actor the administrator, a service or
// "cli".
const (
	ActionUsersCreated       = "users.created"
	ActionUsersInvited       = "users.invited" // created without a password; the invitation was mailed
	ActionUsersUpdated       = "users.updated" // details: the fields changed, not their values
	ActionUsersDeactivated   = "users.deactivated"
	ActionUsersReactivated   = "users.reactivated"
	ActionUsersDeleted       = "users.deleted" // the entry keeps the id only
	ActionUsersResetSent     = "users.password_reset_sent"
	ActionUsersUnlocked      = "users.unlocked"
	ActionUsersSessionsEnded = "users.sessions_ended"
)

// Entry is one audit event. Seq, PrevHash and Hash are set by Seal when the
// store appends the entry; Time is set by Log.Record.
type Entry struct {
	Seq       int64
	Time      time.Time // UTC, microsecond precision
	ActorType string    // ActorUser, ActorAdmin, ActorClient or ActorSystem
	ActorID   string
	Subject   string // user id or client id the event concerns
	Action    string // an Action* constant
	Outcome   string // OutcomeSuccess or OutcomeFailure
	IP        string
	UserAgent string
	RequestID string
	Details   Details
	PrevHash  string // hex; "" for the first entry ever
	Hash      string // hex SHA-256, see ComputeHash
}

// ErrInvalid reports an entry that cannot be recorded.
var ErrInvalid = errors.New("audit: invalid entry")

// Validate checks the fields a store relies on. It does not look at Details;
// see Details.Secrets.
func (e *Entry) Validate() error {
	switch e.ActorType {
	case ActorUser, ActorAdmin, ActorClient, ActorSystem:
	default:
		return fmt.Errorf("%w: actor type %q", ErrInvalid, e.ActorType)
	}
	switch e.Outcome {
	case OutcomeSuccess, OutcomeFailure:
	default:
		return fmt.Errorf("%w: outcome %q", ErrInvalid, e.Outcome)
	}
	if e.Action == "" {
		return fmt.Errorf("%w: empty action", ErrInvalid)
	}
	if e.Time.IsZero() {
		return fmt.Errorf("%w: zero time", ErrInvalid)
	}
	return nil
}
