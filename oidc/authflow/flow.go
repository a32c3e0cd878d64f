package authflow

import (
	"context"
	"errors"
	"net/url"
	"time"

	"gatehouse/oidc"
)

// Flow is one interactive sign-in in progress and everything it has
// learnt so far. It is the flow's only state: the steps read and write it
// and the dispatcher decides from it, so a sign-in survives any number of
// requests and tabs without a cookie of its own beyond the binding.
//
// A Flow with a ClientID carries an authorization request and ends in the
// authorization response. One without is a sign-in the user began on the
// sign-in or sign-up page itself; it ends at ReturnTo.
type Flow struct {
	ID       string
	ClientID string `json:",omitempty"`
	// Binding is the hash of the browser's flow cookie: a flow continues
	// only in the browser that started it.
	Binding     string
	Form        url.Values // the original authorization request
	RequestedAt time.Time
	// ReturnTo is where a flow without a client ends (a safe path in the
	// account area, or "/").
	ReturnTo string `json:",omitempty"`
	// Version increases with every step so a step's return MAC cannot be
	// replayed after the flow moved on.
	Version int
	// UserID and SessionID are the user the flow belongs to and the
	// browser session they signed in with (or were signed in with when the
	// flow bound them); see bind.
	UserID    string `json:",omitempty"`
	SessionID string `json:",omitempty"`
	// AuthTime, AMR and ACR are what the sign-in within the flow proved,
	// as the session it started records them.
	AuthTime time.Time `json:",omitzero"`
	AMR      []string  `json:",omitempty"`
	ACR      string    `json:",omitempty"`
	// Connector is the ID of the upstream connector (federation) that
	// checked the password of the sign-in step, empty for a local one.
	Connector string `json:",omitempty"`
	// Upstream is a sign-in waiting at an upstream provider: nil when
	// none.
	Upstream *UpstreamSignIn `json:",omitempty"`
	// Done holds the steps finished within the flow.
	Done Steps
	// ConsentGranted is the user's answer once Done.Consent.
	ConsentGranted bool
	// LoginRequired marks a flow whose browser session changed under it:
	// only a sign-in within the flow continues it.
	LoginRequired bool
	// Held is a sign-in held until the user proves their e-mail address
	// (registration.require_verified_email): nil when none.
	Held *Verification `json:",omitempty"`
	// HeldAt is when the flow was held; the newest held flow of a browser
	// is the one its verification page is about.
	HeldAt time.Time `json:",omitzero"`
	// MFA is a sign-in waiting for its second factor: nil when none.
	MFA *Challenge `json:",omitempty"`
	// EnrolLater: the user chose "Set up later" on the enrolment page the
	// policy led them to, within its grace period.
	EnrolLater bool `json:",omitempty"`
	ExpiresAt  time.Time
}

// Steps records which steps a flow has finished.
type Steps struct {
	// SignIn: the user authenticated within this flow.
	SignIn bool `json:",omitempty"`
	// SignUp: the user created their account within this flow.
	SignUp bool `json:",omitempty"`
	// Consent: the user answered the consent page (see ConsentGranted).
	Consent bool `json:",omitempty"`
}

// Verification is a user who proved their password but not yet their
// e-mail address. Nobody is signed in while a flow holds one.
type Verification struct {
	UserID string
	// Email is the address the page is about. The page of a sign-up
	// decoy (identity.TakenEmailError), which has no account to read it
	// from, takes it from here.
	Email string
	// Decoy marks a held sign-up whose account does not exist.
	Decoy bool `json:",omitempty"`
	// AMR is what the user proved before they were held.
	AMR []string
	// SignUp marks a user held right after creating their account.
	SignUp bool `json:",omitempty"`
}

// FlowStore persists flows.
type FlowStore interface {
	// CreateFlow inserts f.
	CreateFlow(ctx context.Context, f *Flow) error
	// GetFlow returns the flow, or ErrFlowNotFound when unknown or expired.
	GetFlow(ctx context.Context, id string, now time.Time) (*Flow, error)
	// HeldFlow returns the unexpired flow with binding that was held for
	// e-mail verification last (Flow.HeldAt), or ErrFlowNotFound.
	HeldFlow(ctx context.Context, binding string, now time.Time) (*Flow, error)
	// UpdateFlow saves f if its stored version is f.Version-1.
	UpdateFlow(ctx context.Context, f *Flow) error
	// DeleteFlow removes the flow.
	DeleteFlow(ctx context.Context, id string) error
}

// ErrFlowNotFound reports an unknown, finished or expired flow.
var ErrFlowNotFound = errors.New("authflow: sign-in flow not found or expired")

// ErrFlowConflict reports that the flow changed underneath an update (a
// double submit in two tabs).
var ErrFlowConflict = errors.New("authflow: sign-in flow changed concurrently")

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
// browser session bs. A consent given before belongs to whoever was
// signed in then, so it is dropped, and so is a held verification: it is
// over once someone signs in.
func (f *Flow) signedIn(bs *oidc.BrowserSession) {
	f.UserID, f.SessionID = bs.UserID, bs.ID
	f.AuthTime, f.AMR, f.ACR = bs.AuthTime, bs.AMR, bs.ACR
	f.Done.SignIn, f.LoginRequired = true, false
	f.Done.Consent, f.ConsentGranted = false, false
	f.Held, f.HeldAt = nil, time.Time{}
	f.MFA = nil
}

// stepUp asks the user of the signed-in session bs for a second factor
// on top of what the session used; the session the step then starts
// replaces bs.
func (f *Flow) stepUp(bs *oidc.BrowserSession) {
	f.challenge(&Challenge{UserID: bs.UserID, Used: methodsOf(bs.AMR)})
}

// bind records the already signed-in user the flow continues with.
func (f *Flow) bind(bs *oidc.BrowserSession) {
	f.UserID, f.SessionID = bs.UserID, bs.ID
}

// heldBy reports whether the browser session bs is the one the flow is
// bound to. A flow not yet bound is held by nobody.
func (f *Flow) heldBy(bs *oidc.BrowserSession) bool {
	return f.UserID != "" && bs != nil && bs.UserID == f.UserID && bs.ID == f.SessionID
}

// restart forgets everything the flow learnt about its user and starts it
// again from the sign-in (or sign-up) step: the session the browser has
// now, whoever it belongs to, does not continue it by itself.
func (f *Flow) restart() {
	f.UserID, f.SessionID, f.LoginRequired = "", "", true
	f.AuthTime, f.AMR, f.ACR = time.Time{}, nil, ""
	f.Done, f.ConsentGranted = Steps{}, false
	f.Held, f.HeldAt = nil, time.Time{}
	f.MFA, f.EnrolLater = nil, false
}

// hold stops the flow until v's user proves their e-mail address. Whoever
// the flow was bound to before no longer continues it: the verification
// step signs v's user in, and only then does the flow go on.
func (f *Flow) hold(v *Verification, now time.Time) {
	f.restart()
	f.Held, f.HeldAt = v, now
	if v.SignUp {
		f.Done.SignUp = true
	}
}
