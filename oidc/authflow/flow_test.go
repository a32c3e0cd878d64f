package authflow

import (
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"gatehouse/oidc"
)

func TestFlowHeldBy(t *testing.T) {
	bound := &Flow{UserID: "alice", SessionID: "s1", Done: Steps{SignIn: true}}
	tests := []struct {
		name string
		flow *Flow
		bs   *oidc.BrowserSession
		want bool
	}{
		{"same user and session", bound, &oidc.BrowserSession{ID: "s1", UserID: "alice"}, true},
		{"another user", bound, &oidc.BrowserSession{ID: "s2", UserID: "bob"}, false},
		{"same user, new session", bound, &oidc.BrowserSession{ID: "s2", UserID: "alice"}, false},
		{"session id of another user", bound, &oidc.BrowserSession{ID: "s1", UserID: "bob"}, false},
		{"signed out", bound, nil, false},
		{"unbound flow", &Flow{}, &oidc.BrowserSession{ID: "", UserID: ""}, false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if got := tc.flow.heldBy(tc.bs); got != tc.want {
				t.Errorf("heldBy = %v, want %v", got, tc.want)
			}
		})
	}
}

func TestFlowRestartAndSignIn(t *testing.T) {
	at := time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)
	f := &Flow{ClientID: "app", UserID: "alice", SessionID: "s1", AuthTime: at, AMR: []string{"pwd"}, ACR: "0",
		Done: Steps{SignIn: true, SignUp: true, Consent: true}, ConsentGranted: true}
	f.restart()
	if diff := cmp.Diff(&Flow{ClientID: "app", LoginRequired: true}, f); diff != "" {
		t.Errorf("after restart (-want +got):\n%s", diff)
	}
	f.Done.Consent, f.ConsentGranted = true, true
	f.signedIn(&oidc.BrowserSession{ID: "s2", UserID: "bob", AuthTime: at, AMR: []string{"pwd"}, ACR: "0"})
	want := &Flow{ClientID: "app", UserID: "bob", SessionID: "s2", AuthTime: at, AMR: []string{"pwd"}, ACR: "0", Done: Steps{SignIn: true}}
	if diff := cmp.Diff(want, f); diff != "" {
		t.Errorf("after signedIn, the earlier consent must be gone (-want +got):\n%s", diff)
	}
	if !f.heldBy(&oidc.BrowserSession{ID: "s2", UserID: "bob"}) {
		t.Error("flow not held by the session it was signed in with")
	}
}

// TestFlowHold: a held flow belongs to nobody until the held user signs
// in, and signing in ends the hold.
func TestFlowHold(t *testing.T) {
	at := time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)
	f := &Flow{ClientID: "app", UserID: "alice", SessionID: "s1", Done: Steps{SignIn: true, Consent: true}, ConsentGranted: true}
	v := &Verification{UserID: "ivy", Email: "ivy@example.com", AMR: []string{"pwd"}, SignUp: true}
	f.hold(v, at)
	want := &Flow{ClientID: "app", LoginRequired: true, Held: v, HeldAt: at, Done: Steps{SignUp: true}}
	if diff := cmp.Diff(want, f); diff != "" {
		t.Errorf("after hold (-want +got):\n%s", diff)
	}
	if f.heldBy(&oidc.BrowserSession{ID: "s1", UserID: "alice"}) {
		t.Error("a held flow still belongs to the session it had before")
	}
	f.signedIn(&oidc.BrowserSession{ID: "s3", UserID: "ivy", AuthTime: at, AMR: []string{"pwd"}})
	if f.Held != nil || !f.HeldAt.IsZero() || !f.Done.SignIn || !f.Done.SignUp || f.LoginRequired {
		t.Errorf("after the held user signed in: %+v", f)
	}
}
