package oidc

import (
	"testing"

	"github.com/google/go-cmp/cmp"
)

func TestFlowHeldBy(t *testing.T) {
	bound := &Flow{UserID: "alice", SessionID: "s1", LoginDone: true}
	tests := []struct {
		name string
		flow *Flow
		bs   *BrowserSession
		want bool
	}{
		{"same user and session", bound, &BrowserSession{ID: "s1", UserID: "alice"}, true},
		{"another user", bound, &BrowserSession{ID: "s2", UserID: "bob"}, false},
		{"same user, new session", bound, &BrowserSession{ID: "s2", UserID: "alice"}, false},
		{"session id of another user", bound, &BrowserSession{ID: "s1", UserID: "bob"}, false},
		{"signed out", bound, nil, false},
		{"unbound flow", &Flow{}, &BrowserSession{ID: "", UserID: ""}, false},
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
	f := &Flow{UserID: "alice", SessionID: "s1", LoginDone: true, RegisterDone: true, ConsentDone: true, ConsentGranted: true}
	f.restart()
	if diff := cmp.Diff(&Flow{LoginRequired: true}, f); diff != "" {
		t.Errorf("after restart (-want +got):\n%s", diff)
	}
	f.ConsentDone, f.ConsentGranted = true, true
	f.signedIn("bob", "s2")
	if diff := cmp.Diff(&Flow{UserID: "bob", SessionID: "s2", LoginDone: true}, f); diff != "" {
		t.Errorf("after signedIn, the earlier consent must be gone (-want +got):\n%s", diff)
	}
	if !f.heldBy(&BrowserSession{ID: "s2", UserID: "bob"}) {
		t.Error("flow not held by the session it was signed in with")
	}
}
