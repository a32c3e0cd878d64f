package identity

import (
	"context"
	"time"
)

// MailKind names a transactional e-mail. Each kind has a subject, a plain
// text and an HTML body in the templates package.
type MailKind string

// The e-mails Gatehouse sends.
const (
	// MailVerifyEmail carries a link and a 6-digit code proving the
	// address belongs to the user (at registration or on request).
	MailVerifyEmail MailKind = "verify_email"
	// MailConfirmEmailChange goes to a new address: link and code.
	MailConfirmEmailChange MailKind = "confirm_email_change"
	// MailEmailChangeRequested tells the old address a change was asked for.
	MailEmailChangeRequested MailKind = "email_change_requested"
	// MailEmailChanged tells the old address the change is done.
	MailEmailChanged MailKind = "email_changed"
	// MailPasswordReset carries the single-use reset link.
	MailPasswordReset MailKind = "password_reset"
	// MailPasswordChanged tells the user the password was changed or reset.
	MailPasswordChanged MailKind = "password_changed"
	// MailAccountLocked tells the user that failed sign-ins locked the
	// account, with a single-use link (valid 24 hours) that ends the
	// lockout.
	MailAccountLocked MailKind = "account_locked"
	// MailRegistrationAttempt tells the owner of an address that someone
	// tried to create an account with it, with links to sign in (Link) and
	// to reset the password (ResetLink).
	MailRegistrationAttempt MailKind = "registration_attempt"
	// MailMFAEnabled tells the user that a second factor was added to the
	// account, so that one added by someone else does not go unnoticed.
	MailMFAEnabled MailKind = "mfa_enabled"
	// MailMFARemoved tells the user that a second factor was removed
	// from the account (by the user or an administrator).
	MailMFARemoved MailKind = "mfa_removed"
	// MailMFARenamed tells the user that a passkey was renamed, so a
	// change made by someone else in their account does not go unnoticed.
	MailMFARenamed MailKind = "mfa_renamed"
	// MailRecoveryCodesRegenerated tells the user that new recovery
	// codes replaced the old ones.
	MailRecoveryCodesRegenerated MailKind = "recovery_codes_regenerated"
	// MailRecoveryCodeUsed tells the user that a recovery code signed
	// them in, and how many are left (Mail.CodesLeft): a code used by
	// someone else does not go unnoticed, and the owner knows when to
	// make new ones.
	MailRecoveryCodeUsed MailKind = "recovery_code_used"
	// MailSignInCode carries a 6-digit code that proves the second
	// factor of one sign-in (SignInCodes).
	MailSignInCode MailKind = "sign_in_code"
	// MailInvite invites a person an administrator created an account
	// for, with a single-use link (valid DefaultInviteTTL) to choose the
	// password.
	MailInvite MailKind = "invite"
	// MailPasswordElsewhere answers a forgotten-password request of a
	// user whose password lives in a directory (Mail.Directory names
	// it): it is changed there, so no reset link is sent. Mailed rather
	// than shown, so that the page does not tell whose password is where.
	MailPasswordElsewhere MailKind = "password_elsewhere"
	// MailLinkRemoved tells the user that the link to an upstream
	// account (Mail.Directory names its connector) was removed, so that
	// a removal by someone else does not go unnoticed.
	MailLinkRemoved MailKind = "link_removed"
)

// Mail is one transactional e-mail to render and send. Fields a kind does
// not use are empty.
type Mail struct {
	Kind     MailKind
	To       string // recipient address
	Name     string // how to greet the recipient
	Link     string // absolute URL (verification, reset or unlock)
	Code     string // 6-digit code
	NewEmail string // for the change notices
	// ResetLink is the absolute URL of the "forgot password" page
	// (registration attempt notice).
	ResetLink string
	// ExpiresIn is a human phrase such as "10 minutes".
	ExpiresIn string
	// ExpiresAt is when the code or link stops working; zero for a mail
	// that carries neither. A mail not delivered by then is dropped, not
	// sent stale.
	ExpiresAt time.Time
	// CodesLeft is how many recovery codes are left (MailRecoveryCodeUsed).
	CodesLeft int
	// Factor is the kind of second factor a factor notice is about
	// ("totp", "webauthn"); "" when it does not say.
	Factor string
	// Directory names where the password is kept
	// (MailPasswordElsewhere).
	Directory string
}

// SMS is one text message.
type SMS struct {
	To   string // E.164
	Text string
	// ExpiresAt is when the code in Text stops working; zero for none.
	ExpiresAt time.Time
}

// Notifier queues messages for delivery. Queueing is durable and fast: it
// never waits for an SMTP server or SMS provider.
type Notifier interface {
	// SendMail queues an e-mail.
	SendMail(ctx context.Context, m Mail) error
	// SendSMS queues a text message.
	SendSMS(ctx context.Context, m SMS) error
}

// SessionRevoker ends a user's browser sessions and the refresh and access
// tokens issued through them (after a password reset or change).
type SessionRevoker interface {
	// RevokeUserSessions revokes every session of the user except the one
	// with ID keep (empty keeps none), and every refresh and access token
	// issued to the user.
	RevokeUserSessions(ctx context.Context, userID, keep string) error
}
