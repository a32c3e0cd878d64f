package sqlstore_test

import (
	"errors"
	"fmt"
	"testing"
	"time"

	"github.com/ory/fosite"
	"gorm.io/gorm"

	"gatehouse/migrations/dbpurge"
	"gatehouse/migrations/dbtest"
	"gatehouse/oidc"
	"gatehouse/oidc/sqlstore"
)

// TestDeleteExpiredInBatches fills the tables with more expired rows than
// one batch holds, next to live ones, and sessions that ended by idling
// (last seen longer ago than their own idle lifetime) next to idle ones
// still within it: the purge removes exactly the expired rows.
func TestDeleteExpiredInBatches(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, db *gorm.DB) {
		ctx := t.Context()
		s := newStore(t, db)
		client := mustCreateClient(t, s, "app")
		cut := base.Add(2 * time.Hour)
		const expired, live = dbpurge.Batch + 300, 7

		txCtx, err := s.BeginTX(ctx)
		if err != nil {
			t.Fatal(err)
		}
		for i := range expired + live {
			exp := cut.Add(-time.Second)
			if i >= expired {
				exp = cut.Add(time.Second)
			}
			req := newRequest(fmt.Sprintf("req-%d", i), client, "alice", "")
			req.Session.SetExpiresAt(fosite.AccessToken, exp)
			if err := s.CreateAccessTokenSession(txCtx, fmt.Sprintf("at-%d", i), req); err != nil {
				t.Fatal(err)
			}
			if err := s.SetClientAssertionJWT(txCtx, fmt.Sprintf("jti-%d", i), exp); err != nil {
				t.Fatal(err)
			}
		}
		if err := s.Commit(txCtx); err != nil {
			t.Fatal(err)
		}
		// Sessions: absolute lifetime over, idle lifetime over (with two
		// different idle lifetimes), and two live ones.
		sessions := []struct {
			id   string
			seen time.Time
			idle time.Duration
			exp  time.Time
			live bool
		}{
			{"absolute-over", cut, time.Hour, cut.Add(-time.Second), false},
			{"idle-over-1h", cut.Add(-time.Hour - time.Second), time.Hour, cut.Add(time.Hour), false},
			{"idle-over-1d", cut.Add(-25 * time.Hour), 24 * time.Hour, cut.Add(time.Hour), false},
			{"idle-within-1h", cut.Add(-time.Hour + time.Second), time.Hour, cut.Add(time.Hour), true},
			{"idle-within-1d", cut.Add(-23 * time.Hour), 24 * time.Hour, cut.Add(time.Hour), true},
		}
		for _, v := range sessions {
			bs := testBrowserSession(v.id, "alice", base)
			bs.LastSeenAt, bs.IdleTimeout, bs.ExpiresAt = v.seen, v.idle, v.exp
			if err := s.CreateSession(ctx, bs); err != nil {
				t.Fatal(err)
			}
		}

		n, err := s.DeleteExpired(ctx, cut)
		if err != nil {
			t.Fatalf("DeleteExpired: %v", err)
		}
		if want := int64(2*expired + 3); n != want {
			t.Errorf("DeleteExpired removed %d rows, want %d", n, want)
		}
		for _, table := range []string{"oauth_requests", "oauth_jtis"} {
			if got := mustCount(t, db, table, "1 = 1"); got != live {
				t.Errorf("rows left in %s = %d, want the %d live ones", table, got, live)
			}
		}
		if _, err := s.GetAccessTokenSession(ctx, fmt.Sprintf("at-%d", expired), oidc.NewSession()); err != nil {
			t.Errorf("a live access token is gone: %v", err)
		}
		for _, v := range sessions {
			_, err := s.GetSession(ctx, v.id)
			if gone := errors.Is(err, oidc.ErrSessionNotFound); gone == v.live {
				t.Errorf("session %s: GetSession error = %v, want it kept: %v", v.id, err, v.live)
			}
		}
	})
}

// TestInactiveRefreshRetention: a rotated or revoked refresh token's row
// is kept for InactiveRefreshRetention, during which presenting it is
// still recognised as reuse (fosite.ErrInactiveToken, which revokes the
// grant), and purged after it; a live refresh token keeps its own expiry.
func TestInactiveRefreshRetention(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, db *gorm.DB) {
		ctx := t.Context()
		now := base
		s := newStoreWith(t, db, sqlstore.Settings{Now: func() time.Time { return now }, InactiveRefreshRetention: 3 * time.Hour})
		client := mustCreateClient(t, s, "app")
		for _, id := range []string{"rotated", "revoked", "live"} {
			req := newRequest("req-"+id, client, "alice", "sid-"+id)
			if err := s.CreateRefreshTokenSession(ctx, "rt-"+id, "", req); err != nil {
				t.Fatal(err)
			}
		}
		if err := s.RotateRefreshToken(ctx, "req-rotated", "rt-rotated"); err != nil {
			t.Fatal(err)
		}
		now = base.Add(time.Hour)
		if err := s.RevokeSession(ctx, "sid-revoked"); err != nil {
			t.Fatal(err)
		}

		if _, err := s.DeleteExpired(ctx, base.Add(3*time.Hour-time.Second)); err != nil {
			t.Fatal(err)
		}
		for _, id := range []string{"rotated", "revoked"} {
			if _, err := s.GetRefreshTokenSession(ctx, "rt-"+id, oidc.NewSession()); !errors.Is(err, fosite.ErrInactiveToken) {
				t.Errorf("%s refresh token inside the window: error = %v, want %v (reuse detected)", id, err, fosite.ErrInactiveToken)
			}
		}

		if _, err := s.DeleteExpired(ctx, base.Add(3*time.Hour+time.Second)); err != nil {
			t.Fatal(err)
		}
		if _, err := s.GetRefreshTokenSession(ctx, "rt-rotated", oidc.NewSession()); !errors.Is(err, fosite.ErrNotFound) {
			t.Errorf("rotated refresh token after the window: error = %v, want %v (purged)", err, fosite.ErrNotFound)
		}
		if _, err := s.GetRefreshTokenSession(ctx, "rt-revoked", oidc.NewSession()); !errors.Is(err, fosite.ErrInactiveToken) {
			t.Errorf("revoked refresh token an hour later: error = %v, want still %v", err, fosite.ErrInactiveToken)
		}
		if _, err := s.DeleteExpired(ctx, base.Add(4*time.Hour+time.Second)); err != nil {
			t.Fatal(err)
		}
		if got := mustCount(t, db, "oauth_requests", "kind = 'refresh'"); got != 1 {
			t.Errorf("refresh rows after both windows = %d, want 1 (the live one)", got)
		}
		if _, err := s.GetRefreshTokenSession(ctx, "rt-live", oidc.NewSession()); err != nil {
			t.Errorf("live refresh token: %v", err)
		}
	})
}

// TestDeleteUnusedClients: a dynamically registered client whose last
// use is older than the cut goes, with its tokens and consents; one used
// since stays, and so does an administrator's client however old.
// RecordClientUse moves the last use only when it is older than since.
func TestDeleteUnusedClients(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, db *gorm.DB) {
		ctx := t.Context()
		s := newStore(t, db)
		unused := mustCreateClient(t, s, "dyn-unused")
		mustCreateClient(t, s, "dyn-used")
		admin := testClient(t, "admin-made")
		admin.RegistrationTokenHash = nil
		if err := s.CreateClient(ctx, admin); err != nil {
			t.Fatal(err)
		}
		if err := s.CreateAccessTokenSession(ctx, "at-unused", newRequest("req-unused", unused, "alice", "")); err != nil {
			t.Fatal(err)
		}
		if err := s.SaveConsent(ctx, "alice", unused.ID, []string{"openid"}, base); err != nil {
			t.Fatal(err)
		}

		used := base.Add(20 * 24 * time.Hour)
		if err := s.RecordClientUse(ctx, "dyn-used", used, used.Add(-24*time.Hour)); err != nil {
			t.Fatal(err)
		}
		// A second use within the day is not written.
		if err := s.RecordClientUse(ctx, "dyn-used", used.Add(time.Hour), used.Add(time.Hour-24*time.Hour)); err != nil {
			t.Fatal(err)
		}
		if c, err := s.GetClient(ctx, "dyn-used"); err != nil || !c.LastUsedAt.Equal(used) {
			t.Fatalf("LastUsedAt = %v, %v; want %v", c.LastUsedAt, err, used)
		}

		n, err := s.DeleteUnusedClients(ctx, base.Add(10*24*time.Hour))
		if err != nil || n != 1 {
			t.Fatalf("DeleteUnusedClients = %d, %v; want 1, nil", n, err)
		}
		if _, err := s.GetClient(ctx, "dyn-unused"); !errors.Is(err, oidc.ErrClientNotFound) {
			t.Errorf("unused client: GetClient error = %v, want %v", err, oidc.ErrClientNotFound)
		}
		for _, id := range []string{"dyn-used", "admin-made"} {
			if _, err := s.GetClient(ctx, id); err != nil {
				t.Errorf("GetClient(%s): %v, want it kept", id, err)
			}
		}
		if got := mustCount(t, db, "oauth_requests", "client_id = ?", unused.ID) + mustCount(t, db, "consents", "client_id = ?", unused.ID); got != 0 {
			t.Errorf("%d token or consent rows of the deleted client remain", got)
		}
	})
}

func TestDeleteExpired(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, db *gorm.DB) {
		ctx := t.Context()
		s := newStore(t, db)
		client := mustCreateClient(t, s, "app")
		cut := base.Add(2 * time.Hour)

		for _, v := range []struct {
			name string
			exp  time.Time
		}{
			{"expired", cut.Add(-time.Minute)},
			{"live", cut.Add(time.Minute)},
		} {
			req := newRequest("req-"+v.name, client, "alice", "sid-"+v.name)
			for tt := range expiries {
				req.Session.SetExpiresAt(tt, v.exp)
			}
			flow := testFlow("flow-" + v.name)
			flow.ExpiresAt = v.exp
			bs := testBrowserSession("sid-"+v.name, "alice", base)
			bs.ExpiresAt = v.exp
			for _, err := range []error{
				s.CreateAuthorizeCodeSession(ctx, "code-"+v.name, req),
				s.CreatePKCERequestSession(ctx, "code-"+v.name, req),
				s.CreateOpenIDConnectSession(ctx, "code-"+v.name, req),
				s.CreateAccessTokenSession(ctx, "at-"+v.name, req),
				s.CreateRefreshTokenSession(ctx, "rt-"+v.name, "at-"+v.name, req),
				s.CreateFlow(ctx, flow),
				s.CreateSession(ctx, bs),
				s.SetClientAssertionJWT(ctx, "jti-"+v.name, v.exp),
			} {
				if err != nil {
					t.Fatal(err)
				}
			}
		}

		n, err := s.DeleteExpired(ctx, cut)
		if err != nil {
			t.Fatalf("DeleteExpired: %v", err)
		}
		if want := int64(5 + 1 + 1 + 1); n != want {
			t.Errorf("DeleteExpired removed %d rows, want %d", n, want)
		}
		for _, tc := range []struct {
			table string
			want  int64
		}{
			{"oauth_requests", 5},
			{"login_flows", 1},
			{"browser_sessions", 1},
			{"oauth_jtis", 1},
		} {
			if got := mustCount(t, db, tc.table, "1 = 1"); got != tc.want {
				t.Errorf("rows in %s after DeleteExpired = %d, want %d", tc.table, got, tc.want)
			}
			if got := mustCount(t, db, tc.table, "expires_at < ?", cut); got != 0 {
				t.Errorf("expired rows in %s after DeleteExpired = %d, want 0", tc.table, got)
			}
		}
		if _, err := s.GetAccessTokenSession(ctx, "at-live", oidc.NewSession()); err != nil {
			t.Errorf("GetAccessTokenSession(live) error = %v, want nil", err)
		}
		if _, err := s.GetFlow(ctx, "flow-live", base); err != nil {
			t.Errorf("GetFlow(live) error = %v, want nil", err)
		}
		if _, err := s.GetSession(ctx, "sid-live"); err != nil {
			t.Errorf("GetSession(live) error = %v, want nil", err)
		}

		if n, err := s.DeleteExpired(ctx, cut); err != nil || n != 0 {
			t.Errorf("second DeleteExpired = %d, %v; want 0, nil", n, err)
		}
	})
}
