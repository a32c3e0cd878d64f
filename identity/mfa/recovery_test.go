package mfa_test

import (
	"errors"
	"regexp"
	"strings"
	"testing"
	"time"

	"gorm.io/gorm"

	"gatehouse/identity/mfa"
	"gatehouse/migrations/dbtest"
)

func TestRecoveryCodes(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, db *gorm.DB) {
		f := newFixture(t, db)
		ctx := t.Context()
		codes, err := f.svc.RegenerateRecoveryCodes(ctx, f.userID)
		if err != nil {
			t.Fatal(err)
		}
		if len(codes) != mfa.RecoveryCodeCount {
			t.Fatalf("got %d codes, want %d", len(codes), mfa.RecoveryCodeCount)
		}
		shape := regexp.MustCompile(`^[A-HJ-NP-Z2-9]{5}-[A-HJ-NP-Z2-9]{5}$`)
		seen := map[string]bool{}
		for _, c := range codes {
			if !shape.MatchString(c) {
				t.Errorf("code %q is not xxxxx-xxxxx from the 32-symbol alphabet", c)
			}
			if seen[c] {
				t.Errorf("code %q issued twice", c)
			}
			seen[c] = true
		}
		remaining := func() int {
			t.Helper()
			n, err := f.svc.RemainingRecoveryCodes(ctx, f.userID)
			if err != nil {
				t.Fatal(err)
			}
			return n
		}
		if n := remaining(); n != 10 {
			t.Errorf("remaining = %d, want 10", n)
		}

		// Stored hashed: no column holds a code.
		var stored []string
		if err := db.Raw("SELECT code_hash FROM mfa_recovery_codes").Scan(&stored).Error; err != nil {
			t.Fatal(err)
		}
		for _, h := range stored {
			for _, c := range codes {
				if strings.Contains(strings.ToUpper(h), strings.ReplaceAll(c, "-", "")) {
					t.Errorf("stored hash %q contains code %q", h, c)
				}
			}
		}

		// Typed loosely: lower case, without the dash.
		if err := f.svc.UseRecoveryCode(ctx, f.userID, strings.ToLower(strings.ReplaceAll(codes[0], "-", " "))); err != nil {
			t.Fatalf("UseRecoveryCode: %v", err)
		}
		if err := f.svc.UseRecoveryCode(ctx, f.userID, codes[0]); !errors.Is(err, mfa.ErrInvalidCode) {
			t.Errorf("second use error = %v, want ErrInvalidCode", err)
		}
		if n := remaining(); n != 9 {
			t.Errorf("remaining after one use = %d, want 9", n)
		}
		// A code is the user's own.
		other := mustCreateUser(t, db, "bob")
		if err := f.svc.UseRecoveryCode(ctx, other, codes[1]); !errors.Is(err, mfa.ErrInvalidCode) {
			t.Errorf("another user's code error = %v, want ErrInvalidCode", err)
		}
		for _, bad := range []string{"", "AAAAA-AAAAA", "I0O1L-AAAAA", codes[1] + "A"} {
			if err := f.svc.UseRecoveryCode(ctx, f.userID, bad); !errors.Is(err, mfa.ErrInvalidCode) {
				t.Errorf("UseRecoveryCode(%q) error = %v, want ErrInvalidCode", bad, err)
			}
		}

		// Exhaustion: every code works once, then none is left.
		for _, c := range codes[1:] {
			f.clock.Add(time.Minute)
			if err := f.svc.UseRecoveryCode(ctx, f.userID, c); err != nil {
				t.Errorf("UseRecoveryCode(%s): %v", c, err)
			}
		}
		if n := remaining(); n != 0 {
			t.Errorf("remaining after using all = %d, want 0", n)
		}
		for _, c := range codes {
			if err := f.svc.UseRecoveryCode(ctx, f.userID, c); !errors.Is(err, mfa.ErrInvalidCode) {
				t.Errorf("used code %s error = %v, want ErrInvalidCode", c, err)
			}
		}
	})
}

// TestRegenerateVoidsOldCodes: a new set replaces the old one, used and
// unused codes alike.
func TestRegenerateVoidsOldCodes(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, db *gorm.DB) {
		f := newFixture(t, db)
		ctx := t.Context()
		old, err := f.svc.RegenerateRecoveryCodes(ctx, f.userID)
		if err != nil {
			t.Fatal(err)
		}
		if err := f.svc.UseRecoveryCode(ctx, f.userID, old[0]); err != nil {
			t.Fatal(err)
		}
		fresh, err := f.svc.RegenerateRecoveryCodes(ctx, f.userID)
		if err != nil {
			t.Fatal(err)
		}
		if n, err := f.svc.RemainingRecoveryCodes(ctx, f.userID); err != nil || n != 10 {
			t.Errorf("remaining after regeneration = %d, %v; want 10", n, err)
		}
		for _, c := range old {
			if err := f.svc.UseRecoveryCode(ctx, f.userID, c); !errors.Is(err, mfa.ErrInvalidCode) {
				t.Errorf("old code %s error = %v, want ErrInvalidCode", c, err)
			}
		}
		if err := f.svc.UseRecoveryCode(ctx, f.userID, fresh[3]); err != nil {
			t.Errorf("new code: %v", err)
		}
	})
}

// TestRecoveryCodeRace: one code presented by several requests at once is
// accepted exactly once.
func TestRecoveryCodeRace(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, db *gorm.DB) {
		f := newFixture(t, db)
		ctx := t.Context()
		codes, err := f.svc.RegenerateRecoveryCodes(ctx, f.userID)
		if err != nil {
			t.Fatal(err)
		}
		ok, errs := race(8, func() error { return f.svc.UseRecoveryCode(ctx, f.userID, codes[0]) })
		if ok != 1 {
			t.Fatalf("concurrent UseRecoveryCode: %d succeeded, want 1 (errors: %v)", ok, errs)
		}
		for _, err := range errs {
			if !errors.Is(err, mfa.ErrInvalidCode) {
				t.Errorf("losing UseRecoveryCode error = %v, want ErrInvalidCode", err)
			}
		}
		if n, err := f.svc.RemainingRecoveryCodes(ctx, f.userID); err != nil || n != 9 {
			t.Errorf("remaining = %d, %v; want 9", n, err)
		}
	})
}

// TestReset: Reset removes every factor of the user, the pending one
// too, and their recovery codes, and leaves other users alone.
func TestReset(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, db *gorm.DB) {
		f := newFixture(t, db)
		ctx := t.Context()
		enrol := func(userID, username string) {
			e, err := f.svc.BeginTOTP(ctx, userID, username, "Phone")
			if err != nil {
				t.Fatal(err)
			}
			if err := f.svc.ConfirmTOTP(ctx, userID, e.FactorID, codeAt(t, e, f.clock.Now())); err != nil {
				t.Fatal(err)
			}
			if _, err := f.svc.RegenerateRecoveryCodes(ctx, userID); err != nil {
				t.Fatal(err)
			}
		}
		enrol(f.userID, "ada")
		if _, err := f.svc.BeginTOTP(ctx, f.userID, "ada", "Tablet"); err != nil {
			t.Fatal(err)
		}
		other := mustCreateUser(t, db, "bob")
		enrol(other, "bob")

		n, err := f.svc.Reset(ctx, f.userID)
		if err != nil || n != 1 {
			t.Fatalf("Reset = %d, %v; want 1 confirmed factor", n, err)
		}
		if all, err := f.store.ListFactors(ctx, f.userID); err != nil || len(all) != 0 {
			t.Errorf("factors after Reset, pending included = %v, %v; want none", all, err)
		}
		if n, err := f.svc.RemainingRecoveryCodes(ctx, f.userID); err != nil || n != 0 {
			t.Errorf("recovery codes after Reset = %d, %v; want none", n, err)
		}
		if fs, err := f.svc.ListFactors(ctx, other); err != nil || len(fs) != 1 {
			t.Errorf("another user's factors after Reset = %v, %v; want one", fs, err)
		}
		if n, err := f.svc.RemainingRecoveryCodes(ctx, other); err != nil || n != 10 {
			t.Errorf("another user's recovery codes after Reset = %d, %v; want 10", n, err)
		}
		if n, err := f.svc.Reset(ctx, f.userID); err != nil || n != 0 {
			t.Errorf("Reset again = %d, %v; want 0, nil", n, err)
		}
	})
}
