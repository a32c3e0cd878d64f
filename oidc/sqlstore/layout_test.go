package sqlstore_test

import (
	"net/url"
	"testing"
	"time"

	"gatehouse/migrations/dbtest"
	"gatehouse/migrations/dbtime"
	"gatehouse/oidc"
	"gatehouse/oidc/authflow"
)

// TestSQLiteTimesUseDBTimeLayout: on SQLite the store writes its times in
// dbtime's fixed-width layout, whose text order is time order, not in the
// driver's own.
func TestSQLiteTimesUseDBTimeLayout(t *testing.T) {
	db := dbtest.MustOpen(t, "sqlite")
	s := newStore(t, db)
	at := time.Date(2030, 1, 2, 3, 4, 5, 500_000_000, time.UTC)
	ctx := t.Context()
	if err := s.CreateSession(ctx, &oidc.BrowserSession{ID: "s", SecretHash: "h", UserID: "u", AuthTime: at,
		CreatedAt: at, LastSeenAt: at, ExpiresAt: at, IdleTimeout: time.Hour}); err != nil {
		t.Fatal(err)
	}
	if err := s.CreateFlow(ctx, &authflow.Flow{ID: "f", ClientID: "c", Form: url.Values{}, Version: 1, ExpiresAt: at}); err != nil {
		t.Fatal(err)
	}
	if err := s.SetClientAssertionJWT(ctx, "j", at); err != nil {
		t.Fatal(err)
	}
	if err := s.CreateClient(ctx, &oidc.Client{ID: "c", CreatedAt: at, UpdatedAt: at}); err != nil {
		t.Fatal(err)
	}
	want := at.Format(dbtime.Layout)
	for _, q := range []string{
		`SELECT CAST(auth_time AS text) FROM browser_sessions`,
		`SELECT CAST(last_seen_at AS text) FROM browser_sessions`,
		`SELECT CAST(expires_at AS text) FROM browser_sessions`,
		`SELECT CAST(expires_at AS text) FROM login_flows`,
		`SELECT CAST(expires_at AS text) FROM oauth_jtis`,
		`SELECT CAST(created_at AS text) FROM oauth_clients`,
	} {
		var got string
		if err := db.Raw(q).Scan(&got).Error; err != nil {
			t.Fatal(err)
		}
		if got != want {
			t.Errorf("%s = %q, want %q", q, got, want)
		}
	}
}
