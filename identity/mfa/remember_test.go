package mfa_test

import (
	"crypto/sha256"
	"encoding/hex"
	"testing"
	"time"

	"gorm.io/gorm"

	"gatehouse/migrations/dbtest"
)

const firefox = "Mozilla/5.0 (X11; Linux x86_64; rv:128.0) Gecko/20100101 Firefox/128.0"

// TestRememberBrowser: a remembered browser is recognised for its own
// user until it expires or is forgotten, and its token is not stored.
func TestRememberBrowser(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, db *gorm.DB) {
		ctx := t.Context()
		f := newFixture(t, db)
		token, err := f.svc.RememberBrowser(ctx, f.userID, firefox, 30*24*time.Hour)
		if err != nil {
			t.Fatal(err)
		}
		mustRecognise(t, f, f.userID, token, true)

		var stored []string
		if err := db.Raw("SELECT token_hash FROM mfa_remembered_browsers").Scan(&stored).Error; err != nil {
			t.Fatal(err)
		}
		sum := sha256.Sum256([]byte(token))
		if len(stored) != 1 || stored[0] != hex.EncodeToString(sum[:]) {
			t.Errorf("stored token hashes = %q, want only the SHA-256 of the token", stored)
		}

		f.clock.Add(time.Hour)
		mustRecognise(t, f, f.userID, token, true)
		list, err := f.svc.ListBrowsers(ctx, f.userID)
		if err != nil {
			t.Fatal(err)
		}
		if len(list) != 1 || list[0].Label != "Firefox on Linux" || !list[0].CreatedAt.Equal(start) ||
			!list[0].LastUsedAt.Equal(start.Add(time.Hour)) || !list[0].ExpiresAt.Equal(start.Add(30*24*time.Hour)) {
			t.Errorf("ListBrowsers = %+v, want one Firefox on Linux, added at start, used an hour later", list)
		}
	})
}

// TestRememberBrowserRefusals is written from the attacker's side: a
// cookie of another user, a guessed one, an expired one and a forgotten
// one are all unknown.
func TestRememberBrowserRefusals(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, db *gorm.DB) {
		ctx := t.Context()
		f := newFixture(t, db)
		mallory := mustCreateUser(t, db, "mallory")
		malloryToken, err := f.svc.RememberBrowser(ctx, mallory, firefox, time.Hour)
		if err != nil {
			t.Fatal(err)
		}
		mustRecognise(t, f, f.userID, malloryToken, false)
		mustRecognise(t, f, f.userID, "guessed-token-guessed-token-guessed-tok", false)
		mustRecognise(t, f, f.userID, "", false)

		token, err := f.svc.RememberBrowser(ctx, f.userID, firefox, time.Hour)
		if err != nil {
			t.Fatal(err)
		}
		f.clock.Add(time.Hour)
		mustRecognise(t, f, f.userID, token, false) // expired on the hour

		fresh, err := f.svc.RememberBrowser(ctx, f.userID, firefox, time.Hour)
		if err != nil {
			t.Fatal(err)
		}
		list, err := f.svc.ListBrowsers(ctx, f.userID)
		if err != nil {
			t.Fatal(err)
		}
		if len(list) != 1 {
			t.Fatalf("ListBrowsers = %d browsers, want the unexpired one", len(list))
		}
		if err := f.svc.ForgetBrowser(ctx, mallory, list[0].ID); err == nil {
			t.Error("another user forgot this user's browser")
		}
		mustRecognise(t, f, f.userID, fresh, true)
		if err := f.svc.ForgetBrowser(ctx, f.userID, list[0].ID); err != nil {
			t.Fatal(err)
		}
		mustRecognise(t, f, f.userID, fresh, false)
		mustRecognise(t, f, mallory, malloryToken, false) // expired too by now
	})
}

// TestFactorChangesForgetBrowsers: removing a factor and resetting the
// factors forget every remembered browser of the user, and only theirs.
func TestFactorChangesForgetBrowsers(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, db *gorm.DB) {
		ctx := t.Context()
		f := newFixture(t, db)
		other := mustCreateUser(t, db, "bob")
		otherToken, err := f.svc.RememberBrowser(ctx, other, firefox, time.Hour)
		if err != nil {
			t.Fatal(err)
		}
		e, err := f.svc.BeginTOTP(ctx, f.userID, "ada", "Phone")
		if err != nil {
			t.Fatal(err)
		}
		if err := f.svc.ConfirmTOTP(ctx, f.userID, e.FactorID, codeAt(t, e, f.clock.Now())); err != nil {
			t.Fatal(err)
		}
		token, err := f.svc.RememberBrowser(ctx, f.userID, firefox, time.Hour)
		if err != nil {
			t.Fatal(err)
		}
		if err := f.svc.RemoveFactor(ctx, f.userID, e.FactorID); err != nil {
			t.Fatal(err)
		}
		mustRecognise(t, f, f.userID, token, false)

		token, err = f.svc.RememberBrowser(ctx, f.userID, firefox, time.Hour)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := f.svc.Reset(ctx, f.userID); err != nil {
			t.Fatal(err)
		}
		mustRecognise(t, f, f.userID, token, false)
		mustRecognise(t, f, other, otherToken, true)
	})
}

// TestGraceStart: the grace period starts at the first call and stays
// there.
func TestGraceStart(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, db *gorm.DB) {
		ctx := t.Context()
		f := newFixture(t, db)
		first, err := f.svc.GraceStart(ctx, f.userID)
		if err != nil {
			t.Fatal(err)
		}
		f.clock.Add(72 * time.Hour)
		again, err := f.svc.GraceStart(ctx, f.userID)
		if err != nil {
			t.Fatal(err)
		}
		if !first.Equal(start) || !again.Equal(start) {
			t.Errorf("GraceStart = %v then %v, want %v both times", first, again, start)
		}
	})
}

func mustRecognise(t *testing.T, f *fixture, userID, token string, want bool) {
	t.Helper()
	got, err := f.svc.RecogniseBrowser(t.Context(), userID, token)
	if err != nil {
		t.Fatal(err)
	}
	if got != want {
		t.Errorf("RecogniseBrowser = %v, want %v", got, want)
	}
}
