// Package authflow runs the interactive sign-in: the Flow that carries
// everything a sign-in has learnt, the dispatcher that decides what comes
// next, and the steps (sign-in, sign-up, e-mail verification, second
// factor, consent).
//
// The authorization endpoint (package oidc) parses and checks a request
// and hands it to the dispatcher (Handler.Continue). The dispatcher
// persists a Flow bound to the browser by the flow cookie, asks next what
// the flow needs, and sends the browser to that step's page, or hands the
// endpoint the grant to issue. next is a pure function of the flow, the
// browser's session and the request: prompt, max_age, id_token_hint,
// pending e-mail verification, consent memory and the flow's binding to
// one browser session are all decided there, and nowhere else.
//
// A step does its part, records it in the Flow, and hands the flow back
// to the dispatcher: through the authorization endpoint with a MAC bound
// to the flow's version and the step (finishStep), because only the
// endpoint can rebuild the request. Steps never send the browser to each
// other. A new way to sign in is a new step and new rows in next's table,
// as the second factor was: a user with an authenticator app proves a
// code (or a recovery code) after the password and before any session
// starts (Flow.MFA); a session that lacks what the user's factors or the
// client's acr_values need is stepped up, or its user led to enrol. The
// challenge page shows the user's default method first and offers the
// others that mfa.Decide allows: a code by e-mail or SMS is sent on
// request, bound to the flow, and refused outright to a user with an
// authenticator app or passkey.
//
// The configured policy (Handler.Policy: everyone, roles, clients) makes
// users without a factor enrol the same way. Within its grace period the
// enrolment page offers "Set up later" (PathMFALater, Flow.EnrolLater),
// and the flow goes on with the password; never when the client's
// acr_values ask. A browser remembered after a challenge ("Don't ask
// again", a sealed cookie naming a row kept by identity/mfa) skips the
// challenge the user's factors or the policy ask for, but not acr_values,
// prompt=login, max_age or a sign-in over one's own session, and the
// session's amr records only what was used.
//
// Passkeys take part twice. As a second factor, the challenge page offers
// "Use a passkey" first when the user has one. As a first factor, the
// sign-in page's passkey form (and the browser's autofill, conditional
// mediation) signs in without a password (passwordless.go), and the flow
// goes on exactly as after a password; a passkey that verified the user
// is multi-factor and phishing resistant on its own (amr swk user mfa,
// acr phr). Every ceremony's challenge is held server-side, bound to the
// flow or the browser, and deleted by the request that finishes it.
//
// A sign-in begun on the sign-in or sign-up page itself, with no
// authorization request, is a Flow without a client that ends at its
// ReturnTo. It is stored only while it waits for the user (a held e-mail
// verification), so that opening or submitting the sign-in page leaves no
// row behind. Its ReturnTo is the "next" parameter when it names the
// account area or the admin console; without one, Handler.Landing may
// choose a page per user (a manager's usage figures), else the home page.
package authflow
