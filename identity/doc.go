// Package identity is the domain root of Gatehouse's user store: users,
// their passwords, profiles and contact details, and the rules that govern
// them.
//
// Storage sits behind small interfaces declared here (UserStore,
// TokenStore) and implemented in identity/sqlstore; identity/identitytest
// holds the one conformance suite every implementation runs. The identity
// service applies the rules (normalisation, uniqueness, the password
// policy and argon2id hashing, so that callers never touch a hash) in seven
// parts, one per responsibility, each over the slice of UserStore it uses
// and one shared Core (hasher, one-time tokens, notifier, unit of work,
// clock, logger):
//
//	Accounts       sign-up, creation by an administrator, lookup (AccountStore)
//	Authenticator  sign-in and brute-force lockout (LoginStore)
//	Contacts       e-mail and phone verification, e-mail change (ContactStore)
//	Recovery       forgotten password, reset, unlock link (RecoveryStore)
//	Profiles       profile edits, password change (ProfileStore)
//	SignInCodes    second-factor codes by e-mail and SMS (UserFinder)
//	Roles          granting roles, custom roles (RoleHolderStore, RoleStore; rules in identity/access)
//	UserAdmin      administration of users: create or invite, update (ETag), deactivate,
//	               reactivate, delete, reset link, unlock, end sessions (UserAdminStore)
//
// Roles and UserAdmin take an Actor and check its permission themselves;
// the command line, the admin API and the console call the same methods,
// and each change commits with its audit entry in one transaction.
//
// Proving control of an address or number, and recovering an account, run
// on one-time tokens: a 6-digit code and/or a link token (256 bits), of
// which only HMAC-SHA256 hashes under Core.TokenKey are stored. A user
// holds at most one token per Purpose; issuing a new one replaces it,
// unless the last one is unused and younger than the resend cooldown
// (CooldownError). Every well-formed code counts as an attempt before it
// is compared, and MaxCodeAttempts void the token; a token is used by one
// conditional update, so of concurrent uses exactly one succeeds. Callers
// see ErrCodeInvalid for every wrong, expired, used or replaced code alike.
//
//	Register / StartEmailVerification -> mail (link + code) -> VerifyEmailToken | VerifyEmailCode
//	ChangeEmail -> mail to the new address (link + code), notice to the old
//	            -> ConfirmEmailChangeToken | ConfirmEmailChangeCode -> notice to the old
//	StartPhoneVerification -> SMS (code) -> VerifyPhoneCode
//	SendSignInCode (verified address, one sign-in) -> mail | SMS (code) -> CheckSignInCode
//	RequestPasswordReset -> mail (link) -> CheckResetToken -> ResetPassword -> sessions revoked, notice
//	UserAdmin.Create (Invite) -> mail (link, 72 h) -> CheckResetToken -> ResetPassword -> address verified
//	ChangePassword (current password) -> other sessions revoked, notice
//	Authenticate (counted, then checked; a disabled account's right password -> ErrAccountDisabled)
//	            | RecordFailure -> MaxFailures reached -> locked, mail (unlock link)
//	            -> expires | UnlockWithToken | ResetPassword | Unlock (admin)
//
// Brute-force lockout (LockoutPolicy) counts sign-in attempts per account
// in the users row with conditional UPDATEs, a password attempt before its
// hash is checked, so concurrent attempts count exactly, at most
// MaxFailures of them are checked, and each lockout starts, and mails,
// once. While locked no password is checked and every attempt gets the
// answer of a wrong password, after the time a check takes; the owner
// learns of the lock from the mail and the security activity (hooks).
//
// Every argon2id hash and check runs in the Hasher's Pool: at most its
// workers at once, the rest waiting in a short queue, and ErrBusy for a
// caller that gets no worker in time or finds the queue full (a caller
// whose context ends while it waits gets the context's error). A sign-in
// takes its worker before its attempt is counted, so neither a refusal nor
// a caller that gave up counts towards a lockout.
//
// Messages go out through a Notifier, which only queues them (package
// identity/message delivers); sessions end through a SessionRevoker.
package identity
