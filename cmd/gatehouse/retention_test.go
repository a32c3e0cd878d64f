package main

import (
	"encoding/json"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"gatehouse/config"
	"gatehouse/migrations"
	"gatehouse/migrations/dbtest"
	"gatehouse/migrations/dbtime"
	"gatehouse/oidc"
	"gatehouse/oidc/authflow"
	oidcsql "gatehouse/oidc/sqlstore"
)

// TestPurgeAtStart: records that expired before the server started are
// purged as it starts, not ten minutes later (which never comes for an
// instance restarted more often); live ones stay.
func TestPurgeAtStart(t *testing.T) {
	t.Parallel()
	for _, dialect := range dbtest.Dialects {
		t.Run(dialect, func(t *testing.T) {
			dbURL := dbtest.MustMigratedURL(t, dialect)
			db, err := migrations.Open(dbURL)
			if err != nil {
				t.Fatal(err)
			}
			if _, err := migrations.Up(t.Context(), db); err != nil {
				t.Fatal(err)
			}
			flows, sessions := oidcsql.NewFlows(db), oidcsql.NewBrowserSessions(db, oidcsql.Settings{})
			tokens := oidcsql.NewTokens(db, nil, oidcsql.Settings{}) // reads no token back: no client lookup
			past, future := time.Now().Add(-time.Hour), time.Now().Add(time.Hour)
			for _, f := range []struct {
				id  string
				exp time.Time
			}{{"flow-expired", past}, {"flow-live", future}} {
				flow := &authflow.Flow{ID: f.id, ClientID: "app", Form: url.Values{}, RequestedAt: past, Version: 1, ExpiresAt: f.exp}
				if err := flows.CreateFlow(t.Context(), flow); err != nil {
					t.Fatal(err)
				}
			}
			bs := &oidc.BrowserSession{ID: "sid-idle", SecretHash: "h", UserID: "u", AuthTime: past.Add(-time.Hour),
				CreatedAt: past.Add(-time.Hour), LastSeenAt: past.Add(-time.Hour), ExpiresAt: future, IdleTimeout: time.Hour}
			if err := sessions.CreateSession(t.Context(), bs); err != nil {
				t.Fatal(err)
			}
			if err := tokens.SetClientAssertionJWT(t.Context(), "jti-expired", past); err != nil {
				t.Fatal(err)
			}
			if sqlDB, err := db.DB(); err == nil {
				sqlDB.Close()
			}

			srv := startServer(t, dialect, func(cfg *config.Config) { cfg.Database.URL = config.Secret(dbURL) })
			rec := srv.Logs.Wait(t, "purged expired records")
			if rows, _ := rec["rows"].(float64); rows != 3 {
				t.Errorf("purge at start removed %v rows, want 3 (a flow, an idle session, a JTI)", rec["rows"])
			}
			var left []string
			if err := srv.App.DB.Gorm().Raw(`SELECT id FROM login_flows UNION ALL SELECT id FROM browser_sessions UNION ALL SELECT jti FROM oauth_jtis`).
				Scan(&left).Error; err != nil {
				t.Fatal(err)
			}
			if len(left) != 1 || left[0] != "flow-live" {
				t.Errorf("rows left after the purge at start: %v, want [flow-live]", left)
			}
		})
	}
}

// TestUnusedDynamicClientExpires registers two clients dynamically; the
// registration response says when the secret expires if the client is
// never used. Both are then made to look unused for 31 days; one of them
// gets a token (which records the use, once a day at most), and the purge
// deletes the other, which from then on is an unknown client
// (invalid_client), while the used one goes on working.
func TestUnusedDynamicClientExpires(t *testing.T) {
	t.Parallel()
	for _, dialect := range dbtest.Dialects {
		t.Run(dialect, func(t *testing.T) { testUnusedDynamicClientExpires(t, dialect) })
	}
}

func testUnusedDynamicClientExpires(t *testing.T, dialect string) {
	srv := startServer(t, dialect, nil)
	lifetime := srv.Config.Registration.UnusedClientLifetime.Std()
	type registered struct {
		id, secret string
		issued     int64
	}
	register := func(name string) registered {
		t.Helper()
		body := `{"client_name":"` + name + `","grant_types":["client_credentials"],"response_types":[],"token_endpoint_auth_method":"client_secret_basic"}`
		req, _ := http.NewRequest(http.MethodPost, srv.URL+"/oauth2/register", strings.NewReader(body))
		req.Header.Set("Content-Type", "application/json")
		req.Header.Set("Authorization", "Bearer "+testInitialAccessToken)
		reg := do(t, req)
		if reg.Status != http.StatusCreated {
			t.Fatalf("registration: %d %s", reg.Status, reg.Body)
		}
		var r struct {
			ID        string `json:"client_id"`
			Secret    string `json:"client_secret"`
			Issued    int64  `json:"client_id_issued_at"`
			SecretExp int64  `json:"client_secret_expires_at"`
		}
		if err := json.Unmarshal([]byte(reg.Body), &r); err != nil {
			t.Fatal(err)
		}
		// RFC 7591 §3.2.1: the secret's expiry, here that of the client if
		// it is not used.
		if want := r.Issued + int64(lifetime/time.Second); r.SecretExp != want {
			t.Errorf("client_secret_expires_at = %d, want client_id_issued_at + %v = %d", r.SecretExp, lifetime, want)
		}
		return registered{r.ID, r.Secret, r.Issued}
	}
	unused, used := register("Unused"), register("Used")
	token := func(c registered) rawResponse {
		t.Helper()
		return postForm(t, srv.URL+"/oauth2/token", "grant_type=client_credentials", c.id, c.secret)
	}
	lastUsed := func(id string) time.Time {
		t.Helper()
		c, err := srv.App.Store.Clients.GetClient(t.Context(), id)
		if err != nil {
			t.Fatalf("GetClient(%s): %v", id, err)
		}
		return c.LastUsedAt
	}
	backdate := func(id string, d time.Duration) time.Time {
		t.Helper()
		at := time.Now().Add(-d).UTC().Truncate(time.Microsecond)
		if err := srv.App.DB.Gorm().Exec(`UPDATE oauth_clients SET last_used_at = ? WHERE id = ?`, dbtime.New(at), id).Error; err != nil {
			t.Fatal(err)
		}
		srv.App.Provider.Clients.Forget(id)
		return at
	}

	backdate(unused.id, lifetime+24*time.Hour)
	backdate(used.id, lifetime+24*time.Hour)
	start := time.Now()
	if got := token(used); got.Status != http.StatusOK {
		t.Fatalf("token for the used client: %d %s", got.Status, got.Body)
	}
	if at := lastUsed(used.id); at.Before(start.Add(-time.Second)) {
		t.Errorf("LastUsedAt after a token request = %v, want about now (%v)", at, start)
	}
	// Within a day of the recorded use, a request writes nothing.
	quiet := backdate(used.id, 23*time.Hour)
	if got := token(used); got.Status != http.StatusOK {
		t.Fatalf("token for the used client: %d %s", got.Status, got.Body)
	}
	if at := lastUsed(used.id); !at.Equal(quiet) {
		t.Errorf("LastUsedAt = %v after a use within the day, want it left at %v", at, quiet)
	}

	if _, err := srv.App.purge(t.Context(), time.Now()); err != nil {
		t.Fatalf("purge: %v", err)
	}
	if got := token(unused); got.Status != http.StatusUnauthorized || got.JSON["error"] != "invalid_client" {
		t.Errorf("token for the expired client: %d %s, want 401 invalid_client", got.Status, got.Body)
	}
	if got := token(used); got.Status != http.StatusOK {
		t.Errorf("token for the used client after the purge: %d %s, want 200", got.Status, got.Body)
	}
	if _, err := srv.App.Store.Clients.GetClient(t.Context(), unused.id); err == nil {
		t.Error("the unused client is still stored")
	}
}
