package authflow

import (
	"errors"
	"net/http"
	"net/url"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/ory/fosite"

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
		refusal *fosite.RFC6749Error
	}{
		// Signing in.
		{"nobody signed in", fresh, nil, req(nil), Decision{Step: StepSignIn}, nil},
		{"nobody signed in, prompt=none", fresh, nil, req(prompt("none")), Decision{Step: StepRefuse}, fosite.ErrLoginRequired},
		{"signed in before, first party", fresh, alice, req(firstParty), Decision{Step: StepDone}, nil},
		{"signed in before, prompt=login", fresh, alice, req(prompt("login")), Decision{Step: StepSignIn}, nil},
		{"signed in before, prompt=select_account", fresh, alice, req(prompt("select_account")), Decision{Step: StepSignIn}, nil},
		{"signed in within the flow, prompt=login", signedIn, alice, req(both(prompt("login"), remembered)), Decision{Step: StepDone}, nil},
		{"restarted flow needs a sign-in", restarted, alice, req(firstParty), Decision{Step: StepSignIn}, nil},

		// max_age.
		{"max_age still met", fresh, alice, req(both(firstParty, maxAge(time.Hour))), Decision{Step: StepDone}, nil},
		{"max_age passed", fresh, alice, req(both(firstParty, maxAge(time.Minute))), Decision{Step: StepSignIn}, nil},
		{"max_age=0 asks again", fresh, alice, req(both(firstParty, maxAge(0))), Decision{Step: StepSignIn}, nil},
		{"max_age passed, prompt=none", fresh, alice, req(both(firstParty, maxAge(time.Minute), prompt("none"))), Decision{Step: StepRefuse}, fosite.ErrLoginRequired},
		{"max_age passed, signed in within the flow", signedIn, alice, req(both(firstParty, maxAge(time.Minute))), Decision{Step: StepDone}, nil},

		// id_token_hint.
		{"hint names the signed-in user", fresh, alice, req(both(firstParty, hint("alice"))), Decision{Step: StepDone}, nil},
		{"hint names another user", fresh, alice, req(both(firstParty, hint("bob"))), Decision{Step: StepSignIn}, nil},
		{"hint names another user, prompt=none", fresh, alice, req(both(firstParty, hint("bob"), prompt("none"))), Decision{Step: StepRefuse}, fosite.ErrLoginRequired},
		{"hint names another user than just signed in", signedIn, alice, req(both(firstParty, hint("bob"))), Decision{Step: StepRefuse}, fosite.ErrLoginRequired},
		{"hint does not verify", fresh, alice, req(both(firstParty, hint(""))), Decision{Step: StepRefuse}, fosite.ErrInvalidRequest},
		{"hint not looked at before a sign-in", fresh, nil, req(hint("")), Decision{Step: StepSignIn}, nil},

		// prompt=create.
		{"prompt=create", fresh, nil, req(prompt("create")), Decision{Step: StepSignUp}, nil},
		{"prompt=create while signed in", fresh, alice, req(prompt("create")), Decision{Step: StepSignUp}, nil},
		{"prompt=create after the sign-up", signedUp, alice, req(both(prompt("create"), firstParty)), Decision{Step: StepDone}, nil},
		{"prompt=create after a sign-in within the flow", signedIn, alice, req(both(prompt("create"), firstParty)), Decision{Step: StepDone}, nil},

		// E-mail verification.
		{"held for verification", held, nil, req(nil), Decision{Step: StepVerifyEmail}, nil},
		{"held, someone else signed in", held, bob, req(firstParty), Decision{Step: StepVerifyEmail}, nil},
		{"held without a client", directHeld, nil, req(nil), Decision{Step: StepVerifyEmail}, nil},
		{"no client, nothing held", direct, alice, req(nil), Decision{Step: StepDone}, nil},

		// Consent and its memory.
		{"consent needed", signedIn, alice, req(nil), Decision{Step: StepConsent}, nil},
		{"consent remembered for the scopes", signedIn, alice, req(remembered), Decision{Step: StepDone}, nil},
		{"remembered consent lacks a scope", signedIn, alice, req(func(r *Request) { r.Remembered = []string{"openid"} }), Decision{Step: StepConsent}, nil},
		{"prompt=consent despite memory", signedIn, alice, req(both(remembered, prompt("consent"))), Decision{Step: StepConsent}, nil},
		{"consent needed, prompt=none", fresh, alice, req(prompt("none")), Decision{Step: StepRefuse, Bind: false}, fosite.ErrConsentRequired},
		{"consent given in the flow", consented, alice, req(nil), Decision{Step: StepDone}, nil},
		{"consent denied in the flow", denied, alice, req(nil), Decision{Step: StepRefuse}, fosite.ErrAccessDenied},
		{"signed in before the flow: bind, then consent", fresh, alice, req(nil), Decision{Step: StepConsent, Bind: true}, nil},
		{"bound before, consent", bound, alice, req(nil), Decision{Step: StepConsent}, nil},
		{"first party needs no consent", signedIn, alice, req(firstParty), Decision{Step: StepDone}, nil},

		// The flow's binding to the session it was signed in with.
		{"another user signed in", consented, bob, req(remembered), Decision{Step: StepSignIn, Restart: true}, nil},
		{"same user, new session", consented, aliceAgain, req(remembered), Decision{Step: StepSignIn, Restart: true}, nil},
		{"signed out", signedIn, nil, req(nil), Decision{Step: StepSignIn, Restart: true}, nil},
		{"signed out, prompt=none", signedIn, nil, req(prompt("none")), Decision{Step: StepRefuse, Restart: true}, fosite.ErrLoginRequired},
		{"bound before, another user now", bound, bob, req(nil), Decision{Step: StepSignIn, Restart: true}, nil},
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
			case tc.refusal == nil && refusal != nil:
				t.Errorf("refusal = %v, want none", refusal)
			case tc.refusal != nil && !errors.Is(refusal, tc.refusal):
				t.Errorf("refusal = %v, want %v", refusal, tc.refusal)
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
