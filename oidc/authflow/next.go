package authflow

import (
	"slices"
	"time"

	"gatehouse/identity/mfa"
	"gatehouse/oidc"
)

// Step is what a flow needs next: a page the user must go through, or
// the end of the flow.
type Step string

// The steps. The values are the "step" parameter of a step's return to
// the authorization endpoint, so they never change.
const (
	StepSignIn      Step = "login"
	StepSignUp      Step = "register"
	StepVerifyEmail Step = "verify-email"
	StepConsent     Step = "consent"
	// StepMFA asks for a second factor (Flow.MFA).
	StepMFA Step = "mfa"
	// StepEnrol leads a signed-in user without a factor that would do
	// to enrol one (Handler.EnrolURL), then back to the dispatcher.
	StepEnrol Step = "enrol"
	// StepDone ends the flow: the authorization response is issued, or a
	// flow without a client goes to its ReturnTo.
	StepDone Step = "done"
	// StepRefuse ends the flow with Decision.Refusal, an OAuth error for
	// the client (prompt=none that cannot be honoured, a denied consent).
	StepRefuse Step = "refuse"
)

// Request is what the dispatcher needs to know about the authorization
// request and its surroundings. The caller fills it from the request and
// the stores; next itself does no IO.
type Request struct {
	// Prompt holds the OpenID Connect prompt values.
	Prompt []string
	// MaxAge is the max_age parameter; negative when absent.
	MaxAge time.Duration
	// Hint is the id_token_hint: HintGiven when one was sent, HintSubject
	// its subject when it verified ("" when it did not).
	HintGiven   bool
	HintSubject string
	// Scopes are the requested scopes.
	Scopes []string
	// FirstParty clients never ask for consent.
	FirstParty bool
	// Remembered are the scopes the signed-in user consented to for the
	// client before.
	Remembered []string
	// SecondFactor is what identity/mfa's Decide says of the signed-in
	// session: whether its methods are enough for the user's factors and
	// the client's acr_values (mfa.Satisfied when nobody is signed in).
	SecondFactor mfa.Outcome
	// EnrolDeferrable: the mfa.Enrol of SecondFactor is the policy's
	// alone, within its grace period (mfa.Decision.Deferrable); a flow
	// whose user chose "Set up later" (Flow.EnrolLater) goes on without.
	EnrolDeferrable bool
	Now             time.Time
}

func (r Request) prompt(p string) bool { return slices.Contains(r.Prompt, p) }

// Decision is next's answer.
type Decision struct {
	Step Step
	// Refusal is the OAuth error of StepRefuse.
	Refusal *oidc.Refusal
	// Restart: the browser's session is no longer the one the flow is
	// bound to; the flow starts over (Flow.restart) before Step.
	Restart bool
	// Bind: the flow goes on with the session signed in before it began;
	// bind it to that session (Flow.bind) before Step.
	Bind bool
	// StepUp: the signed-in session needs a second factor; the flow
	// challenges its user (Flow.stepUp) before Step.
	StepUp bool
}

// next decides what the flow f needs next, given the browser's session bs
// (nil: nobody is signed in) and the request r. It is the one place where
// prompt, max_age, id_token_hint, e-mail verification, consent memory and
// the flow's binding to a session are weighed; the steps only do their
// part and hand the flow back. A new way to sign in or a second factor is
// a new step and new rows here, not a branch in a handler.
func next(f Flow, bs *oidc.BrowserSession, r Request) Decision {
	var d Decision
	// A flow bound to a session goes on only in that session: another
	// user, or a new sign-in, in this browser starts it over.
	if f.UserID != "" && !f.heldBy(bs) {
		d.Restart = true
		f.restart()
	}
	if f.Held != nil {
		d.Step = StepVerifyEmail
		return d
	}
	if f.MFA != nil {
		d.Step = StepMFA
		return d
	}
	if f.ClientID == "" {
		// A sign-in begun on the sign-in page: nothing is issued, and
		// whoever is signed in now goes on to where it returns.
		d.Step = StepDone
		return d
	}
	freshLogin := bs != nil && f.Done.SignIn && bs.ID == f.SessionID

	needLogin := bs == nil || f.LoginRequired
	if !needLogin && !freshLogin {
		if r.prompt("login") || r.prompt("select_account") {
			needLogin = true
		}
		if r.MaxAge >= 0 && r.Now.After(bs.AuthTime.Add(r.MaxAge)) {
			needLogin = true
		}
	}
	if !needLogin && r.HintGiven {
		switch {
		case r.HintSubject == "":
			return refuse(d, &oidc.Refusal{Code: oidc.CodeInvalidRequest, Hint: "The id_token_hint is not a valid ID token of this provider."})
		case r.HintSubject != bs.UserID && (r.prompt("none") || freshLogin):
			return refuse(d, &oidc.Refusal{Code: oidc.CodeLoginRequired, Hint: "The signed-in user is not the one named by id_token_hint."})
		case r.HintSubject != bs.UserID:
			needLogin = true
		}
	}
	// prompt=create (Initiating User Registration 1.0) asks for a new
	// account even when someone is signed in; the new account's session
	// replaces theirs. (The endpoint refused it when sign-up is off.)
	if r.prompt("create") && !f.Done.SignUp && !freshLogin {
		d.Step = StepSignUp
		return d
	}
	if needLogin {
		if r.prompt("none") {
			return refuse(d, &oidc.Refusal{Code: oidc.CodeLoginRequired})
		}
		d.Step = StepSignIn
		return d
	}
	// The session's methods must be enough for the user's factors and
	// the client's acr_values. max_age and prompt=login led to the
	// sign-in above, whose step asks for the second factor again.
	// An enrolment put off, or one that prompt=none cannot show but the
	// grace period lets wait, does not stop the flow.
	deferred := r.SecondFactor == mfa.Enrol && r.EnrolDeferrable && (f.EnrolLater || r.prompt("none"))
	switch r.SecondFactor {
	case mfa.Challenge, mfa.Enrol:
		if deferred {
			break
		}
		if r.prompt("none") {
			return refuse(d, &oidc.Refusal{Code: oidc.CodeInteractionRequired, Hint: "The sign-in needs a second factor."})
		}
		if r.SecondFactor == mfa.Challenge {
			d.Step, d.StepUp = StepMFA, true
			return d
		}
		// The enrolment belongs to this session: bind the flow to it.
		d.Step, d.Bind = StepEnrol, f.UserID == ""
		return d
	case mfa.Unmet:
		return refuse(d, &oidc.Refusal{Code: oidc.CodeUnmetAuthenticationRequirements,
			Hint: "acr_values cannot be met: passkeys are not available."})
	}
	if f.Done.Consent && !f.ConsentGranted {
		return refuse(d, &oidc.Refusal{Code: oidc.CodeAccessDenied, Hint: "The user denied the request."})
	}
	if !r.FirstParty && !f.Done.Consent && (r.prompt("consent") || !covers(r.Remembered, r.Scopes)) {
		if r.prompt("none") {
			return refuse(d, &oidc.Refusal{Code: oidc.CodeConsentRequired})
		}
		// Signed in before this flow: the consent step holds the user
		// to this session.
		d.Bind = f.UserID == ""
		d.Step = StepConsent
		return d
	}
	d.Step = StepDone
	return d
}

func refuse(d Decision, r *oidc.Refusal) Decision {
	d.Step, d.Refusal = StepRefuse, r
	return d
}

// covers reports whether the remembered consent includes every requested
// scope.
func covers(granted, requested []string) bool {
	for _, s := range requested {
		if !slices.Contains(granted, s) {
			return false
		}
	}
	return true
}
