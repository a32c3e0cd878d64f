package migrations_test

import (
	"testing"
	"time"

	"gatehouse/migrations"
	"gatehouse/migrations/dbtest"
)

// TestMFACodesMigration: migration 16 keeps the factors of migration 14
// (SQLite rebuilds the table), none of them the default, and from then
// the kinds 'email' and 'sms' are accepted, each once per user, while an
// unknown kind is still refused. Its Down undoes it.
func TestMFACodesMigration(t *testing.T) {
	for _, dialect := range dbtest.Dialects {
		t.Run(dialect, func(t *testing.T) {
			ctx := t.Context()
			db := mustOpenEmpty(t, dialect)
			if err := migrations.UpTo(ctx, db, 14); err != nil {
				t.Fatal(err)
			}
			const user = "0190a1b2-0000-7000-8000-000000000001"
			at := time.Date(2031, 1, 2, 3, 4, 5, 0, time.UTC)
			if err := db.Exec(`INSERT INTO users (id, username, username_lower, created_at, updated_at) VALUES (?, 'ada', 'ada', ?, ?)`,
				user, at, at).Error; err != nil {
				t.Fatal(err)
			}
			if err := db.Exec(`INSERT INTO mfa_factors (id, user_id, kind, name, secret_sealed, created_at, confirmed_at)
				VALUES ('0190a1b2-0000-7000-8000-000000000002', ?, 'totp', 'App', 'sealed', ?, ?)`, user, at, at).Error; err != nil {
				t.Fatal(err)
			}
			if err := db.Exec(`INSERT INTO mfa_factors (id, user_id, kind, created_at) VALUES ('0190a1b2-0000-7000-8000-000000000003', ?, 'email', ?)`,
				user, at).Error; err == nil {
				t.Fatal("kind 'email' was accepted before migration 16")
			}
			if _, err := migrations.Up(ctx, db); err != nil {
				t.Fatal(err)
			}
			var kept []struct {
				Kind, Name, SecretSealed string
				IsDefault                bool
			}
			if err := db.Raw(`SELECT kind, name, secret_sealed, is_default FROM mfa_factors`).Scan(&kept).Error; err != nil {
				t.Fatal(err)
			}
			if len(kept) != 1 || kept[0].Kind != "totp" || kept[0].Name != "App" || kept[0].SecretSealed != "sealed" || kept[0].IsDefault {
				t.Errorf("factors after migration 16 = %+v, want the app, not the default", kept)
			}
			insert := func(id, kind string) error {
				return db.Exec(`INSERT INTO mfa_factors (id, user_id, kind, created_at) VALUES (?, ?, ?, ?)`, id, user, kind, at).Error
			}
			if err := insert("0190a1b2-0000-7000-8000-000000000003", "email"); err != nil {
				t.Errorf("kind 'email' after migration 16: %v", err)
			}
			if err := insert("0190a1b2-0000-7000-8000-000000000004", "sms"); err != nil {
				t.Errorf("kind 'sms' after migration 16: %v", err)
			}
			if err := insert("0190a1b2-0000-7000-8000-000000000005", "email"); err == nil {
				t.Error("a second 'email' factor of one user was accepted")
			}
			if err := insert("0190a1b2-0000-7000-8000-000000000006", "fax"); err == nil {
				t.Error("kind 'fax' was accepted")
			}

			// Down drops the code factors and keeps the app.
			if err := migrations.DownTo(ctx, db, 14); err != nil {
				t.Fatalf("down to 14: %v", err)
			}
			var kinds []string
			if err := db.Raw(`SELECT kind FROM mfa_factors`).Scan(&kinds).Error; err != nil {
				t.Fatal(err)
			}
			if len(kinds) != 1 || kinds[0] != "totp" {
				t.Errorf("factors after down = %v, want the app only", kinds)
			}
			if _, err := migrations.Up(ctx, db); err != nil {
				t.Fatalf("up again: %v", err)
			}
		})
	}
}
