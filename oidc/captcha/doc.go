// Package captcha tells people from scripts on public forms (login,
// registration, recovery) before the form's action runs.
//
// The built-in Verifier is PoW, a self-hosted proof-of-work challenge in the
// ALTCHA format: no third party is contacted and nothing is tracked. The flow:
//
//  1. The page's form carries data-altcha-challenge-url; static/altcha.js
//     fetches a Challenge from PoW.ServeChallenge. Its salt ends in
//     "?expires=<unix>&" and its signature is HMAC-SHA256(Key, challenge).
//  2. The browser searches number in [0, maxnumber] with
//     SHA-256(salt + number) == challenge and posts
//     base64(JSON{algorithm, challenge, number, salt, signature}) in the
//     form field "altcha".
//  3. PoW.Verify checks signature, expiry and hash, then spends the challenge
//     in a SpentStore (insert-once, kept until it expires), so each solution
//     is accepted once.
//
// Operators who prefer a hosted service configure a SiteVerifier instead
// (NewTurnstile, NewHCaptcha, NewReCAPTCHA), which posts the widget's token
// to the service's siteverify endpoint.
//
// Every Verifier returns ErrFailed (wrapped) for a missing, wrong, expired
// or replayed answer. A SiteVerifier returns ErrUnavailable (wrapped) when
// the hosted service cannot be asked (network error, timeout, 5xx, 429, a
// garbled answer): registration then answers 503 with Retry-After, and
// sign-in goes on without the check. Any other error means the check
// could not be made (database, or a setup the service refuses) and is a
// server fault.
package captcha
