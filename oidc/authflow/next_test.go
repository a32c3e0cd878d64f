package authflow

import (
	"net/http"
	"net/url"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"gatehouse/identity/mfa"
	"gatehouse/oidc"
)

// TestNext is the dispatcher's whole rulebook, without HTTP: each row is
// a flow, the browser's session and the request, and the step that must
// come next.
func TestNext(t *testing.T) {
	now := time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)
	alice := &oidc.BrowserSession{ID: "s-alice", UserID: "alice", AuthTime: now.Add(-10 * time.Minute)}
	bob := &oidc.BrowserSession{ID: "s-bob", UserID: "bob", AuthTime: now.Add(-10 * time.Minute)}
	aliceAgain := &oidc.BrowserSession{ID: "s-alice-2", UserID: "alice", AuthTime: now}

	fresh := Flow{ClientID: "app"}
	signedIn := Flow{ClientID: "app", UserID: "alice", SessionID: "s-alice", Done: Steps{SignIn: true}}
	bound := Flow{ClientID: "app", UserID: "alice", SessionID: "s-alice"} // signed in before the flow
	consented := signedIn
	consented.Done.Consent, consented.ConsentGranted = true, true
	denied := signedIn
	denied.Done.Consent = true
	restarted := Flow{ClientID: "app", LoginRequired: true}
	held := Flow{ClientID: "app", LoginRequired: true, Held: &Verification{UserID: "ivy", Email: "ivy@example.com"}, HeldAt: now}
	direct := Flow{ReturnTo: "/account"}
	directHeld := direct
	directHeld.Held = &Verification{UserID: "ivy", Email: "ivy@example.com"}
	signedUp := Flow{ClientID: "app", UserID: "alice", SessionID: "s-alice", Done: Steps{SignIn: true, SignUp: true}}
	password := []mfa.Method{{Kind: mfa.MethodPassword}}
	challenged := Flow{ClientID: "app", LoginRequired: true, MFA: &Challenge{UserID: "alice", Used: password}}
	directChallenged := direct
	directChallenged.MFA = &Challenge{UserID: "alice", Used: password}
	putOff := Flow{ClientID: "app", UserID: "alice", SessionID: "s-alice", Done: Steps{SignIn: true}, EnrolLater: true}

	req := func(edit func(*Request)) Request {
		r := Request{Scopes: []string{"openid", "email"}, MaxAge: -1, Now: now}
		if edit != nil {
			edit(&r)
		}
		return r
	}
	prompt := func(p ...string) func(*Request) { return func(r *Request) { r.Prompt = p } }
	remembered := func(r *Request) { r.Remembered = []string{"openid", "email", "profile"} }
	firstParty := func(r *Request) { r.FirstParty = true }
	maxAge := func(d time.Duration) func(*Request) { return func(r *Request) { r.MaxAge = d } }
	hint := func(sub string) func(*Request) { return func(r *Request) { r.HintGiven, r.HintSubject = true, sub } }
	second := func(o mfa.Outcome) func(*Request) { return func(r *Request) { r.SecondFactor = o } }
	deferrable := func(r *Request) { r.SecondFactor, r.EnrolDeferrable = mfa.Enrol, true }
	both := func(fs ...func(*Request)) func(*Request) {
		return func(r *Request) {
			for _, f := range fs {
				f(r)
			}
		}
	}

	tests := []struct {
		name string
		flow Flow
		bs   *oidc.BrowserSession
		req  Request
		want Decision
		// refusal is the OAuth error of a StepRefuse.
		refusal string // the error code of a refusal
	}{
		// Signing in.
		{"nobody signed in", fresh, nil, req(nil), Decision{Step: StepSignIn}, ""},
		{"nobody signed in, prompt=none", fresh, nil, req(prompt("none")), Decision{Step: StepRefuse}, oidc.CodeLoginRequired},
		{"signed in before, first party", fresh, alice, req(firstParty), Decision{Step: StepDone}, ""},
		{"signed in before, prompt=login", fresh, alice, req(prompt("login")), Decision{Step: StepSignIn}, ""},
		{"signed in before, prompt=select_account", fresh, alice, req(prompt("select_account")), Decision{Step: StepSignIn}, ""},
		{"signed in within the flow, prompt=login", signedIn, alice, req(both(prompt("login"), remembered)), Decision{Step: StepDone}, ""},
		{"restarted flow needs a sign-in", restarted, alice, req(firstParty), Decision{Step: StepSignIn}, ""},

		// max_age.
		{"max_age still met", fresh, alice, req(both(firstParty, maxAge(time.Hour))), Decision{Step: StepDone}, ""},
		{"max_age passed", fresh, alice, req(both(firstParty, maxAge(time.Minute))), Decision{Step: StepSignIn}, ""},
		{"max_age=0 asks again", fresh, alice, req(both(firstParty, maxAge(0))), Decision{Step: StepSignIn}, ""},
		{"max_age passed, prompt=none", fresh, alice, req(both(firstParty, maxAge(time.Minute), prompt("none"))), Decision{Step: StepRefuse}, oidc.CodeLoginRequired},
		{"max_age passed, signed in within the flow", signedIn, alice, req(both(firstParty, maxAge(time.Minute))), Decision{Step: StepDone}, ""},

		// id_token_hint.
		{"hint names the signed-in user", fresh, alice, req(both(firstParty, hint("alice"))), Decision{Step: StepDone}, ""},
		{"hint names another user", fresh, alice, req(both(firstParty, hint("bob"))), Decision{Step: StepSignIn}, ""},
		{"hint names another user, prompt=none", fresh, alice, req(both(firstParty, hint("bob"), prompt("none"))), Decision{Step: StepRefuse}, oidc.CodeLoginRequired},
		{"hint names another user than just signed in", signedIn, alice, req(both(firstParty, hint("bob"))), Decision{Step: StepRefuse}, oidc.CodeLoginRequired},
		{"hint does not verify", fresh, alice, req(both(firstParty, hint(""))), Decision{Step: StepRefuse}, oidc.CodeInvalidRequest},
		{"hint not looked at before a sign-in", fresh, nil, req(hint("")), Decision{Step: StepSignIn}, ""},

		// prompt=create.
		{"prompt=create", fresh, nil, req(prompt("create")), Decision{Step: StepSignUp}, ""},
		{"prompt=create while signed in", fresh, alice, req(prompt("create")), Decision{Step: StepSignUp}, ""},
		{"prompt=create after the sign-up", signedUp, alice, req(both(prompt("create"), firstParty)), Decision{Step: StepDone}, ""},
		{"prompt=create after a sign-in within the flow", signedIn, alice, req(both(prompt("create"), firstParty)), Decision{Step: StepDone}, ""},

		// E-mail verification.
		{"held for verification", held, nil, req(nil), Decision{Step: StepVerifyEmail}, ""},
		{"held, someone else signed in", held, bob, req(firstParty), Decision{Step: StepVerifyEmail}, ""},
		{"held without a client", directHeld, nil, req(nil), Decision{Step: StepVerifyEmail}, ""},
		{"no client, nothing held", direct, alice, req(nil), Decision{Step: StepDone}, ""},

		// Second factor. The sign-in step challenges a user with a
		// factor before anyone is signed in (Flow.MFA); a session that
		// lacks what the user's factors or acr_values need is stepped up.
		{"waiting for the second factor", challenged, nil, req(nil), Decision{Step: StepMFA}, ""},
		{"waiting for the second factor, someone else signed in", challenged, bob, req(firstParty), Decision{Step: StepMFA}, ""},
		{"waiting for the second factor without a client", directChallenged, nil, req(nil), Decision{Step: StepMFA}, ""},
		{"session lacks the second factor", fresh, alice, req(both(firstParty, second(mfa.Challenge))), Decision{Step: StepMFA, StepUp: true}, ""},
		{"session lacks the second factor, consent pending", signedIn, alice, req(second(mfa.Challenge)), Decision{Step: StepMFA, StepUp: true}, ""},
		{"session lacks the second factor, prompt=none", fresh, alice, req(both(firstParty, second(mfa.Challenge), prompt("none"))), Decision{Step: StepRefuse}, oidc.CodeInteractionRequired},
		{"acr_values needs a factor the user lacks, prompt=none", fresh, alice, req(both(firstParty, second(mfa.Enrol), prompt("none"))), Decision{Step: StepRefuse}, oidc.CodeInteractionRequired},
		{"acr_values needs a factor the user lacks", fresh, alice, req(both(firstParty, second(mfa.Enrol))), Decision{Step: StepEnrol, Bind: true}, ""},
		{"acr_values needs a factor the user lacks, signed in within the flow", signedIn, alice, req(both(firstParty, second(mfa.Enrol))), Decision{Step: StepEnrol}, ""},
		{"acr_values cannot be met", fresh, alice, req(both(firstParty, second(mfa.Unmet))), Decision{Step: StepRefuse}, oidc.CodeUnmetAuthenticationRequirements},
		{"second factor satisfied", fresh, alice, req(both(firstParty, second(mfa.Satisfied))), Decision{Step: StepDone}, ""},
		{"max_age passed: sign in again, which asks for the factor again", fresh, alice, req(both(firstParty, maxAge(time.Minute), second(mfa.Satisfied))), Decision{Step: StepSignIn}, ""},
		{"prompt=login with a two-factor session", fresh, alice, req(both(firstParty, prompt("login"), second(mfa.Satisfied))), Decision{Step: StepSignIn}, ""},
		{"nobody signed in: the sign-in comes first", fresh, nil, req(second(mfa.Challenge)), Decision{Step: StepSignIn}, ""},

		// The configured policy's grace period: the enrolment page
		// offers "Set up later" (Flow.EnrolLater), and only then, or
		// with prompt=none, does the flow go on without a factor.
		{"policy within its grace period: the enrolment page still comes", fresh, alice, req(both(firstParty, deferrable)), Decision{Step: StepEnrol, Bind: true}, ""},
		{"enrolment put off within the grace period", putOff, alice, req(both(firstParty, deferrable)), Decision{Step: StepDone}, ""},
		{"enrolment put off, consent pending", putOff, alice, req(deferrable), Decision{Step: StepConsent}, ""},
		{"enrolment put off, grace period over", putOff, alice, req(both(firstParty, second(mfa.Enrol))), Decision{Step: StepEnrol}, ""},
		{"enrolment put off, then a challenge is needed", putOff, alice, req(both(firstParty, second(mfa.Challenge))), Decision{Step: StepMFA, StepUp: true}, ""},
		{"policy within its grace period, prompt=none", fresh, alice, req(both(firstParty, deferrable, prompt("none"))), Decision{Step: StepDone}, ""},
		{"enrolment put off, then another user signed in", putOff, bob, req(both(firstParty, deferrable)), Decision{Step: StepSignIn, Restart: true}, ""},

		// Consent and its memory.
		{"consent needed", signedIn, alice, req(nil), Decision{Step: StepConsent}, ""},
		{"consent remembered for the scopes", signedIn, alice, req(remembered), Decision{Step: StepDone}, ""},
		{"remembered consent lacks a scope", signedIn, alice, req(func(r *Request) { r.Remembered = []string{"openid"} }), Decision{Step: StepConsent}, ""},
		{"prompt=consent despite memory", signedIn, alice, req(both(remembered, prompt("consent"))), Decision{Step: StepConsent}, ""},
		{"consent needed, prompt=none", fresh, alice, req(prompt("none")), Decision{Step: StepRefuse, Bind: false}, oidc.CodeConsentRequired},
		{"consent given in the flow", consented, alice, req(nil), Decision{Step: StepDone}, ""},
		{"consent denied in the flow", denied, alice, req(nil), Decision{Step: StepRefuse}, oidc.CodeAccessDenied},
		{"signed in before the flow: bind, then consent", fresh, alice, req(nil), Decision{Step: StepConsent, Bind: true}, ""},
		{"bound before, consent", bound, alice, req(nil), Decision{Step: StepConsent}, ""},
		{"first party needs no consent", signedIn, alice, req(firstParty), Decision{Step: StepDone}, ""},

		// The flow's binding to the session it was signed in with.
		{"another user signed in", consented, bob, req(remembered), Decision{Step: StepSignIn, Restart: true}, ""},
		{"same user, new session", consented, aliceAgain, req(remembered), Decision{Step: StepSignIn, Restart: true}, ""},
		{"signed out", signedIn, nil, req(nil), Decision{Step: StepSignIn, Restart: true}, ""},
		{"signed out, prompt=none", signedIn, nil, req(prompt("none")), Decision{Step: StepRefuse, Restart: true}, oidc.CodeLoginRequired},
		{"bound before, another user now", bound, bob, req(nil), Decision{Step: StepSignIn, Restart: true}, ""},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got := next(tc.flow, tc.bs, tc.req)
			refusal := got.Refusal
			got.Refusal = nil
			if diff := cmp.Diff(tc.want, got); diff != "" {
				t.Errorf("next mismatch (-want +got):\n%s", diff)
			}
			switch {
			case tc.refusal == "" && refusal != nil:
				t.Errorf("refusal = %v, want none", refusal)
			case tc.refusal != "" && (refusal == nil || refusal.Code != tc.refusal):
				t.Errorf("refusal = %v, want %s", refusal, tc.refusal)
			}
		})
	}
}

// TestNextLeavesFlowAlone: next decides and changes nothing; the caller
// applies Restart and Bind.
func TestNextLeavesFlowAlone(t *testing.T) {
	f := Flow{ClientID: "app", UserID: "alice", SessionID: "s-alice", Done: Steps{SignIn: true, Consent: true}, ConsentGranted: true}
	before := f
	next(f, &oidc.BrowserSession{ID: "s-bob", UserID: "bob"}, Request{MaxAge: -1})
	if diff := cmp.Diff(before, f); diff != "" {
		t.Errorf("next changed the flow (-before +after):\n%s", diff)
	}
}

// TestIsResume: a step's return is known by its three parameters, and an
// authorization request is never taken for one.
func TestIsResume(t *testing.T) {
	tests := []struct {
		name   string
		method string
		query  string
		want   bool
	}{
		{"a step's return", http.MethodGet, "flow=f1&step=login&mac=m", true},
		{"posted", http.MethodPost, "flow=f1&step=login&mac=m", false},
		{"authorization request of three parameters", http.MethodGet, "client_id=app&response_type=code&flow=f1", false},
		{"authorization request naming a flow", http.MethodGet, "client_id=app&response_type=code&scope=openid&flow=f1&step=login&mac=m", false},
		{"three parameters, no mac", http.MethodGet, "flow=f1&step=login&state=s", false},
		{"mac repeated", http.MethodGet, "flow=f1&step=login&mac=m&mac=n", false},
		{"a fourth parameter", http.MethodGet, "flow=f1&step=login&mac=m&state=s", false},
		{"empty mac", http.MethodGet, "flow=f1&step=login&mac=", false},
		{"only the flow", http.MethodGet, "flow=f1", false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			q, err := url.ParseQuery(tc.query)
			if err != nil {
				t.Fatal(err)
			}
			if got := isResume(tc.method, q); got != tc.want {
				t.Errorf("isResume(%s %q) = %v, want %v", tc.method, tc.query, got, tc.want)
			}
		})
	}
}
