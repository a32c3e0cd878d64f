// Package mfa owns the second factors of a user: authenticator apps
// (TOTP, RFC 6238), recovery codes and WebAuthn passkeys; and the
// pure rules of multi-factor sign-in (which factor a sign-in still needs,
// and the amr and acr claims of RFC 8176 and OpenID EAP).
//
// Enrolment of an authenticator app runs in two steps: BeginTOTP stores a
// pending factor with a fresh secret, sealed with the master key, and
// returns what the user needs to add it (grouped secret, otpauth:// URI,
// QR code as SVG); ConfirmTOTP activates it once the user typed a valid
// code. From then VerifyTOTP checks codes. Each accepted code advances the
// factor's last time step in one conditional UPDATE, so a code works once
// even when two requests race: the database decides.
//
// Sign-in codes by e-mail or SMS (KindEmail, KindSMS) are factors turned
// on by EnableCodes and confirmed at once: the user's verified address or
// number was the proof. They store no address and count only while the
// user can be reached (Input.Reachable); the codes themselves are
// identity's one-time tokens (identity.SignInCodes). Decide offers them
// only to a user without an authenticator app or passkey, and never for
// phr or phrh. One factor may be the user's default (SetDefault), whose
// kind the challenge shows first (Preferred).
//
// Passkeys (passkey.go, over github.com/go-webauthn/webauthn) register
// and verify WebAuthn credentials for the issuer's origin, as a second
// factor and as a passwordless first factor. Each ceremony's challenge
// is held server-side for five minutes and deleted by the request that
// finishes it, so it is used once; each assertion advances the stored
// signature counter in one conditional UPDATE, and a counter that goes
// backwards refuses the sign-in and flags the passkey.
//
// Recovery codes are stored as keyed hashes; one is used by one
// conditional UPDATE. Storage goes through the Factors and RecoveryCodes
// interfaces (identity/sqlstore implements them). Decide and the
// AMR and ACR functions are pure and know nothing of HTTP; the sign-in
// dispatcher calls them.
//
// Policy is the configured requirement (everyone, roles, clients) and its
// enrolment grace period, counted per user from the first sign-in it
// applied to them (Graces). A remembered browser (Browsers) holds a random
// token in a cookie; only the token's SHA-256 is stored, the row is found
// by it, and it is accepted only for its own user before it expires.
// Removing a factor, Reset and (wired by the caller) a password change
// forget all of a user's remembered browsers.
package mfa
