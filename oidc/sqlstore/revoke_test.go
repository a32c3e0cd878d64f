package sqlstore_test

import (
	"errors"
	"testing"
	"time"

	"github.com/ory/fosite"
	"gorm.io/gorm"

	"gatehouse/migrations/dbtest"
	"gatehouse/oidc"
)

// TestRevokeUserSessions: after a password change every other session of
// the user ends with the tokens issued through it; the kept session, its
// tokens and other users are untouched. An empty keep ends everything.
func TestRevokeUserSessions(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, db *gorm.DB) {
		ctx := t.Context()
		s := newStore(t, db)
		client := mustCreateClient(t, s, "app")
		base := time.Now().UTC().Truncate(time.Second)
		for _, bs := range []*oidc.BrowserSession{
			testBrowserSession("sid-keep", "alice", base),
			testBrowserSession("sid-other", "alice", base),
			testBrowserSession("sid-bob", "bob", base),
		} {
			if err := s.CreateSession(ctx, bs); err != nil {
				t.Fatal(err)
			}
		}
		grants := map[string]*fosite.Request{
			"keep":  newRequest("req-keep", client, "alice", "sid-keep"),
			"other": newRequest("req-other", client, "alice", "sid-other"),
			"bob":   newRequest("req-bob", client, "bob", "sid-bob"),
		}
		for name, r := range grants {
			if err := s.CreateAccessTokenSession(ctx, "at-"+name, r); err != nil {
				t.Fatal(err)
			}
			if err := s.CreateRefreshTokenSession(ctx, "rt-"+name, "at-"+name, r); err != nil {
				t.Fatal(err)
			}
		}
		if err := s.RevokeUserSessions(ctx, "alice", "sid-keep"); err != nil {
			t.Fatal(err)
		}
		alive := func(name string) (session, access, refresh bool) {
			_, err := s.GetSession(ctx, "sid-"+name)
			session = err == nil
			_, err = s.GetAccessTokenSession(ctx, "at-"+name, oidc.NewSession())
			access = err == nil
			_, err = s.GetRefreshTokenSession(ctx, "rt-"+name, oidc.NewSession())
			refresh = err == nil
			if err != nil && !errors.Is(err, fosite.ErrInactiveToken) {
				t.Errorf("refresh %s: %v, want nil or ErrInactiveToken", name, err)
			}
			return
		}
		for _, tc := range []struct {
			name string
			want bool
		}{{"keep", true}, {"other", false}, {"bob", true}} {
			s, a, r := alive(tc.name)
			if s != tc.want || a != tc.want || r != tc.want {
				t.Errorf("%s after revoking alice's other sessions: session %v access %v refresh %v, want all %v", tc.name, s, a, r, tc.want)
			}
		}
		if err := s.RevokeUserSessions(ctx, "alice", ""); err != nil {
			t.Fatal(err)
		}
		if s, a, r := alive("keep"); s || a || r {
			t.Errorf("after revoking everything: session %v access %v refresh %v, want none", s, a, r)
		}
		if s, a, r := alive("bob"); !s || !a || !r {
			t.Error("another user's session was revoked")
		}
	})
}
