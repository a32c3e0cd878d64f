// Package mfapages serves the hosted pages of second factors in the
// account area, under /account/security: adding an authenticator app
// (TOTP) or a passkey (WebAuthn) and, with the first factor, the
// recovery codes.
//
// Enrolment runs in two posts. The "Set up authenticator app" button
// starts a pending factor (identity/mfa BeginTOTP) and the page shows its
// key once: as a QR code, as grouped text and as an otpauth:// link. The
// code the user types confirms it; a wrong code shows the same key again.
// Once confirmed, the user's first factor gets ten recovery codes, shown
// only on that answer. Every page needs a browser session and is sent
// with Cache-Control: no-store, every form carries a CSRF token, and each
// factor turned on is audited.
//
// With a verified e-mail address or phone number, the section offers to
// turn on sign-in codes of that kind (SignInCodeOptions, PathSignInCodes):
// one post, audited and mailed like an app. "Make default"
// (PathFactorDefault) picks the factor the sign-in asks for first.
//
// A passkey is added in one post: static/passkey.js asks PathPasskeyOptions
// for a registration's options, lets the browser create the credential and
// posts it with the name the user chose to PathPasskeys. The form is
// hidden without JavaScript or WebAuthn, and on an issuer reached by IP
// address the section says why passkeys are missing. Renaming a passkey
// is audited and mailed like every other change.
//
// The security section lists the factors and the recovery codes left
// (AccountFactors). Removing a factor and replacing the recovery codes
// need a sign-in with the second factor in the last five minutes; without
// one the user signs in again, password and code, and comes back. Both
// are audited and mailed to the user.
//
// It also lists the browsers remembered after a second factor (identity/mfa
// RememberBrowser), each with "Forget this browser", and "Forget all
// browsers". Within a sign-in, the enrolment page offers "Set up later"
// while the policy's grace period runs (Deferrals, asked of the sign-in).
package mfapages
