package oidc

// A flow belongs to one user from the moment it has one: the sign-in step
// records who signed in, and the dispatcher records the signed-in user
// before it asks for consent. From then on every step and the issuing of
// the response check that the browser is still signed in with that very
// session. Binding to the session and not only to the user is deliberate:
// the response carries the session's sid, auth_time and amr, and max_age,
// prompt=login and sign-out all act on sessions. A browser whose session
// changed (another user signed in, or the user signed out and in again)
// restarts the flow at the sign-in step instead of carrying a decision
// made under one session over to another.

// signedIn records that the user signed in within the flow with the
// browser session sessionID. A consent given before belongs to whoever
// was signed in then, so it is dropped.
func (f *Flow) signedIn(userID, sessionID string) {
	f.UserID, f.SessionID, f.LoginDone, f.LoginRequired = userID, sessionID, true, false
	f.ConsentDone, f.ConsentGranted = false, false
}

// bind records the already signed-in user the flow continues with.
func (f *Flow) bind(bs *BrowserSession) {
	f.UserID, f.SessionID = bs.UserID, bs.ID
}

// heldBy reports whether the browser session bs is the one the flow is
// bound to. A flow not yet bound is held by nobody.
func (f *Flow) heldBy(bs *BrowserSession) bool {
	return f.UserID != "" && bs != nil && bs.UserID == f.UserID && bs.ID == f.SessionID
}

// restart forgets everything the flow learnt about its user and starts it
// again from the sign-in (or sign-up) step: the session the browser has
// now, whoever it belongs to, does not continue it by itself.
func (f *Flow) restart() {
	f.UserID, f.SessionID, f.LoginRequired = "", "", true
	f.LoginDone, f.RegisterDone, f.ConsentDone, f.ConsentGranted = false, false, false, false
}
