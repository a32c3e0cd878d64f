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
package mfa
