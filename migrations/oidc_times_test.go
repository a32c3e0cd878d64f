package migrations_test

import (
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"gatehouse/migrations"
	"gatehouse/migrations/dbtime"
)

// TestOIDCTimesRewritten: migration 13 rewrites the times the SQLite
// driver wrote in its own layout into dbtime's, keeping the instant (to
// the microsecond, UTC), and leaves values already in dbtime's layout and
// NULLs alone; afterwards text order is time order across old and new rows.
func TestOIDCTimesRewritten(t *testing.T) {
	ctx := t.Context()
	db := mustOpenEmpty(t, "sqlite")
	if err := migrations.UpTo(ctx, db, 12); err != nil {
		t.Fatal(err)
	}
	times := map[string]time.Time{
		"whole":    time.Date(2030, 1, 2, 3, 4, 5, 0, time.UTC),
		"half":     time.Date(2030, 1, 2, 3, 4, 5, 500_000_000, time.UTC),
		"nanos":    time.Date(2030, 1, 2, 3, 4, 5, 123_456_789, time.UTC),
		"offset":   time.Date(2030, 1, 2, 1, 4, 5, 250_000_000, time.FixedZone("", -2*3600)), // 03:04:05.25 UTC
		"lateness": time.Date(2030, 1, 2, 23, 0, 0, 0, time.UTC),
	}
	// As the old code wrote them: time.Time bound as is.
	for id, at := range times {
		if err := db.Exec(`INSERT INTO oauth_jtis (jti, expires_at) VALUES (?, ?)`, id, at).Error; err != nil {
			t.Fatal(err)
		}
	}
	if err := db.Exec(`INSERT INTO oauth_jtis (jti, expires_at) VALUES ('new', ?)`, dbtime.New(times["half"])).Error; err != nil {
		t.Fatal(err)
	}
	if err := db.Exec(`INSERT INTO signing_keys (id, algorithm, state, private_sealed, created_at) VALUES ('k', 'RS256', 'next', 'x', ?)`,
		times["whole"]).Error; err != nil {
		t.Fatal(err)
	}
	if _, err := migrations.Up(ctx, db); err != nil {
		t.Fatal(err)
	}

	var rows []struct {
		JTI       string
		ExpiresAt string
	}
	if err := db.Raw(`SELECT jti, CAST(expires_at AS text) AS expires_at FROM oauth_jtis ORDER BY jti`).Scan(&rows).Error; err != nil {
		t.Fatal(err)
	}
	got := map[string]string{}
	for _, r := range rows {
		got[r.JTI] = r.ExpiresAt
	}
	want := map[string]string{
		"whole":    "2030-01-02T03:04:05.000000Z",
		"half":     "2030-01-02T03:04:05.500000Z",
		"nanos":    "2030-01-02T03:04:05.123456Z",
		"offset":   "2030-01-02T03:04:05.250000Z",
		"lateness": "2030-01-02T23:00:00.000000Z",
		"new":      "2030-01-02T03:04:05.500000Z",
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("expires_at after the migration (-want +got):\n%s", diff)
	}
	var later []string
	if err := db.Raw(`SELECT jti FROM oauth_jtis WHERE expires_at > ? ORDER BY jti`, dbtime.New(times["half"])).Scan(&later).Error; err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff([]string{"lateness"}, later); diff != "" {
		t.Errorf("rows after 03:04:05.5 (-want +got):\n%s", diff)
	}
	var key struct{ CreatedAt, ActivatedAt *string }
	if err := db.Raw(`SELECT CAST(created_at AS text) AS created_at, activated_at FROM signing_keys`).Scan(&key).Error; err != nil {
		t.Fatal(err)
	}
	if key.CreatedAt == nil || *key.CreatedAt != "2030-01-02T03:04:05.000000Z" || key.ActivatedAt != nil {
		t.Errorf("signing key times = %v, %v; want the new layout and NULL", key.CreatedAt, key.ActivatedAt)
	}
}
