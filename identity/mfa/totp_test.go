package mfa_test

import (
	"errors"
	"fmt"
	"net/url"
	"regexp"
	"strings"
	"testing"
	"time"

	"gorm.io/gorm"

	"gatehouse/identity/mfa"
	"gatehouse/migrations/dbtest"
)

func TestBeginTOTP(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, db *gorm.DB) {
		f := newFixture(t, db)
		e, err := f.svc.BeginTOTP(t.Context(), f.userID, "ada", "Phone")
		if err != nil {
			t.Fatal(err)
		}
		// 160 bits are 32 base32 symbols, shown as 8 groups of 4.
		if !regexp.MustCompile(`^[A-Z2-7]{4}( [A-Z2-7]{4}){7}$`).MatchString(e.Secret) {
			t.Errorf("Secret = %q, want 8 groups of 4 base32 symbols", e.Secret)
		}
		u, err := url.Parse(e.URI)
		if err != nil {
			t.Fatal(err)
		}
		q := u.Query()
		if u.Scheme != "otpauth" || u.Host != "totp" || u.Path != "/Gatehouse:ada" ||
			q.Get("issuer") != "Gatehouse" || q.Get("secret") != strings.ReplaceAll(e.Secret, " ", "") ||
			q.Get("algorithm") != "SHA1" || q.Get("digits") != "6" || q.Get("period") != "30" {
			t.Errorf("URI = %s", e.URI)
		}
		if !strings.HasPrefix(e.QRCode, "<svg") {
			t.Errorf("QRCode does not start with <svg: %.40q", e.QRCode)
		}
		// Pending: not listed, not accepted.
		if got, err := f.svc.ListFactors(t.Context(), f.userID); err != nil || len(got) != 0 {
			t.Errorf("ListFactors before confirmation = %v, %v; want none", got, err)
		}
		if _, err := f.svc.VerifyTOTP(t.Context(), f.userID, codeAt(t, e, f.clock.Now())); !errors.Is(err, mfa.ErrInvalidCode) {
			t.Errorf("VerifyTOTP before confirmation error = %v, want ErrInvalidCode", err)
		}
		// A second enrolment replaces the abandoned one.
		e2, err := f.svc.BeginTOTP(t.Context(), f.userID, "ada", "Phone")
		if err != nil {
			t.Fatal(err)
		}
		if err := f.svc.ConfirmTOTP(t.Context(), f.userID, e.FactorID, codeAt(t, e, f.clock.Now())); !errors.Is(err, mfa.ErrNotFound) {
			t.Errorf("ConfirmTOTP of the replaced enrolment error = %v, want ErrNotFound", err)
		}
		if e2.Secret == e.Secret {
			t.Error("two enrolments got the same secret")
		}
	})
}

func TestConfirmAndVerifyTOTP(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, db *gorm.DB) {
		f := newFixture(t, db)
		ctx := t.Context()
		e, err := f.svc.BeginTOTP(ctx, f.userID, "ada", "Phone")
		if err != nil {
			t.Fatal(err)
		}
		now := f.clock.Now()
		if err := f.svc.ConfirmTOTP(ctx, f.userID, e.FactorID, codeAt(t, e, now.Add(-60*time.Second))); !errors.Is(err, mfa.ErrInvalidCode) {
			t.Errorf("ConfirmTOTP with a code two steps old error = %v, want ErrInvalidCode", err)
		}
		if err := f.svc.ConfirmTOTP(ctx, f.userID, e.FactorID, "12345"); !errors.Is(err, mfa.ErrInvalidCode) {
			t.Errorf("ConfirmTOTP with 5 digits error = %v, want ErrInvalidCode", err)
		}
		code := codeAt(t, e, now)
		if err := f.svc.ConfirmTOTP(ctx, f.userID, e.FactorID, code[:3]+" "+code[3:]); err != nil {
			t.Fatalf("ConfirmTOTP: %v", err)
		}
		if err := f.svc.ConfirmTOTP(ctx, f.userID, e.FactorID, code); !errors.Is(err, mfa.ErrNotFound) {
			t.Errorf("second ConfirmTOTP error = %v, want ErrNotFound", err)
		}
		listed, err := f.svc.ListFactors(ctx, f.userID)
		if err != nil || len(listed) != 1 {
			t.Fatalf("ListFactors = %v, %v; want one factor", listed, err)
		}
		got := listed[0]
		if got.ID != e.FactorID || got.Kind != mfa.KindTOTP || got.Name != "Phone" || !got.CreatedAt.Equal(now) ||
			got.ConfirmedAt == nil || !got.ConfirmedAt.Equal(now) || got.LastUsedAt == nil || !got.LastUsedAt.Equal(now) {
			t.Errorf("listed factor = %+v", got)
		}

		// The confirmation code is spent, also for sign-in.
		if _, err := f.svc.VerifyTOTP(ctx, f.userID, code); !errors.Is(err, mfa.ErrInvalidCode) {
			t.Errorf("VerifyTOTP with the confirmation code error = %v, want ErrInvalidCode", err)
		}
		// The next step's code works once, and after it no older code
		// still inside the window does.
		f.clock.Add(30 * time.Second)
		next := codeAt(t, e, f.clock.Now())
		if _, err := f.svc.VerifyTOTP(ctx, f.userID, "000000"); !errors.Is(err, mfa.ErrInvalidCode) && next != "000000" {
			t.Errorf("VerifyTOTP(wrong) error = %v, want ErrInvalidCode", err)
		}
		factor, err := f.svc.VerifyTOTP(ctx, f.userID, next)
		if err != nil {
			t.Fatalf("VerifyTOTP(next step): %v", err)
		}
		if factor.ID != e.FactorID {
			t.Errorf("VerifyTOTP factor = %s, want %s", factor.ID, e.FactorID)
		}
		if _, err := f.svc.VerifyTOTP(ctx, f.userID, next); !errors.Is(err, mfa.ErrInvalidCode) {
			t.Errorf("VerifyTOTP replayed error = %v, want ErrInvalidCode", err)
		}
		// A code of the step after, typed early (t+1), is accepted; then
		// the current step's code, though inside the window, is not.
		ahead := codeAt(t, e, f.clock.Now().Add(30*time.Second))
		current := codeAt(t, e, f.clock.Now())
		if _, err := f.svc.VerifyTOTP(ctx, f.userID, ahead); err != nil {
			t.Fatalf("VerifyTOTP(t+1): %v", err)
		}
		if _, err := f.svc.VerifyTOTP(ctx, f.userID, current); !errors.Is(err, mfa.ErrInvalidCode) && current != ahead {
			t.Errorf("VerifyTOTP of an older step after a newer one error = %v, want ErrInvalidCode", err)
		}
		// Two steps ahead is outside the window.
		if _, err := f.svc.VerifyTOTP(ctx, f.userID, codeAt(t, e, f.clock.Now().Add(90*time.Second))); !errors.Is(err, mfa.ErrInvalidCode) {
			t.Errorf("VerifyTOTP(t+3) error = %v, want ErrInvalidCode", err)
		}
	})
}

// TestTOTPRace: one code presented by several requests at once, as
// confirmation and then as sign-in, is accepted exactly once.
func TestTOTPRace(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, db *gorm.DB) {
		f := newFixture(t, db)
		ctx := t.Context()
		e, err := f.svc.BeginTOTP(ctx, f.userID, "ada", "Phone")
		if err != nil {
			t.Fatal(err)
		}
		code := codeAt(t, e, f.clock.Now())
		ok, errs := race(8, func() error { return f.svc.ConfirmTOTP(ctx, f.userID, e.FactorID, code) })
		if ok != 1 {
			t.Fatalf("concurrent ConfirmTOTP: %d succeeded, want 1 (errors: %v)", ok, errs)
		}
		for _, err := range errs {
			// A request that read the row after the winner's UPDATE sees
			// a confirmed factor; one that read it before loses the
			// UPDATE's WHERE.
			if !errors.Is(err, mfa.ErrInvalidCode) && !errors.Is(err, mfa.ErrNotFound) {
				t.Errorf("losing ConfirmTOTP error = %v", err)
			}
		}

		f.clock.Add(30 * time.Second)
		code = codeAt(t, e, f.clock.Now())
		ok, errs = race(8, func() error { _, err := f.svc.VerifyTOTP(ctx, f.userID, code); return err })
		if ok != 1 {
			t.Fatalf("concurrent VerifyTOTP: %d succeeded, want 1 (errors: %v)", ok, errs)
		}
		for _, err := range errs {
			if !errors.Is(err, mfa.ErrInvalidCode) {
				t.Errorf("losing VerifyTOTP error = %v, want ErrInvalidCode", err)
			}
		}
	})
}

// TestTOTPSecretSealed: the row holds the secret only sealed, and the
// sealed value does not open for another row.
func TestTOTPSecretSealed(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, db *gorm.DB) {
		f := newFixture(t, db)
		ctx := t.Context()
		e, err := f.svc.BeginTOTP(ctx, f.userID, "ada", "Phone")
		if err != nil {
			t.Fatal(err)
		}
		var rows []map[string]any
		if err := db.Raw("SELECT * FROM mfa_factors").Scan(&rows).Error; err != nil {
			t.Fatal(err)
		}
		if len(rows) != 1 {
			t.Fatalf("mfa_factors has %d rows, want 1", len(rows))
		}
		plain := strings.ReplaceAll(e.Secret, " ", "")
		for col, v := range rows[0] {
			s := strings.ToUpper(toString(v))
			if strings.Contains(s, plain) || strings.Contains(s, plain[:16]) {
				t.Errorf("column %s holds the secret: %v", col, v)
			}
		}
		if sealed := toString(rows[0]["secret_sealed"]); !strings.HasPrefix(sealed, "v1.") {
			t.Errorf("secret_sealed = %q, want a sealed value", sealed)
		}

		// A sealed secret copied to another user's factor does not open.
		other := mustCreateUser(t, db, "bob")
		e2, err := f.svc.BeginTOTP(ctx, other, "bob", "Phone")
		if err != nil {
			t.Fatal(err)
		}
		if err := db.Exec("UPDATE mfa_factors SET secret_sealed = (SELECT secret_sealed FROM mfa_factors WHERE id = ?) WHERE id = ?",
			e.FactorID, e2.FactorID).Error; err != nil {
			t.Fatal(err)
		}
		err = f.svc.ConfirmTOTP(ctx, other, e2.FactorID, codeAt(t, e, f.clock.Now()))
		if err == nil || errors.Is(err, mfa.ErrInvalidCode) {
			t.Errorf("ConfirmTOTP with a moved sealed secret error = %v, want a seal error", err)
		}
	})
}

func TestRemoveFactor(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, db *gorm.DB) {
		f := newFixture(t, db)
		ctx := t.Context()
		e, err := f.svc.BeginTOTP(ctx, f.userID, "ada", "Phone")
		if err != nil {
			t.Fatal(err)
		}
		if err := f.svc.ConfirmTOTP(ctx, f.userID, e.FactorID, codeAt(t, e, f.clock.Now())); err != nil {
			t.Fatal(err)
		}
		second, err := f.svc.BeginTOTP(ctx, f.userID, "ada", "Tablet")
		if err != nil {
			t.Fatal(err)
		}
		if err := f.svc.ConfirmTOTP(ctx, f.userID, second.FactorID, codeAt(t, second, f.clock.Now())); err != nil {
			t.Fatal(err)
		}
		if _, err := f.svc.RegenerateRecoveryCodes(ctx, f.userID); err != nil {
			t.Fatal(err)
		}
		other := mustCreateUser(t, db, "bob")
		if err := f.svc.RemoveFactor(ctx, other, e.FactorID); !errors.Is(err, mfa.ErrNotFound) {
			t.Errorf("RemoveFactor by another user error = %v, want ErrNotFound", err)
		}
		if err := f.svc.RemoveFactor(ctx, f.userID, e.FactorID); err != nil {
			t.Fatalf("RemoveFactor: %v", err)
		}
		// With a factor left, the recovery codes stay.
		if n, err := f.svc.RemainingRecoveryCodes(ctx, f.userID); err != nil || n != 10 {
			t.Errorf("recovery codes with a factor left = %d, %v; want 10", n, err)
		}
		if err := f.svc.RemoveFactor(ctx, f.userID, second.FactorID); err != nil {
			t.Fatalf("RemoveFactor: %v", err)
		}
		if got, err := f.svc.ListFactors(ctx, f.userID); err != nil || len(got) != 0 {
			t.Errorf("ListFactors after removal = %v, %v; want none", got, err)
		}
		// The last factor takes the recovery codes with it.
		if n, err := f.svc.RemainingRecoveryCodes(ctx, f.userID); err != nil || n != 0 {
			t.Errorf("recovery codes after the last factor went = %d, %v; want 0", n, err)
		}
		f.clock.Add(30 * time.Second)
		if _, err := f.svc.VerifyTOTP(ctx, f.userID, codeAt(t, e, f.clock.Now())); !errors.Is(err, mfa.ErrInvalidCode) {
			t.Errorf("VerifyTOTP after removal error = %v, want ErrInvalidCode", err)
		}
	})
}

// toString renders a scanned column value as text.
func toString(v any) string {
	switch v := v.(type) {
	case string:
		return v
	case []byte:
		return string(v)
	case nil:
		return ""
	}
	return fmt.Sprint(v)
}

// TestPendingTOTP: a pending enrolment can be shown again with the same
// secret, and a confirmed one never.
func TestPendingTOTP(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, db *gorm.DB) {
		f := newFixture(t, db)
		e, err := f.svc.BeginTOTP(t.Context(), f.userID, "ada", "Phone")
		if err != nil {
			t.Fatal(err)
		}
		again, err := f.svc.PendingTOTP(t.Context(), f.userID, "ada", e.FactorID)
		if err != nil {
			t.Fatal(err)
		}
		if again.Secret != e.Secret || again.URI != e.URI || again.QRCode != e.QRCode || again.FactorID != e.FactorID {
			t.Errorf("PendingTOTP = %+v, want the enrolment %+v", again, e)
		}
		if _, err := f.svc.PendingTOTP(t.Context(), "someone-else", "ada", e.FactorID); !errors.Is(err, mfa.ErrNotFound) {
			t.Errorf("PendingTOTP of another user's factor error = %v, want ErrNotFound", err)
		}
		if err := f.svc.ConfirmTOTP(t.Context(), f.userID, e.FactorID, codeAt(t, e, f.clock.Now())); err != nil {
			t.Fatal(err)
		}
		if _, err := f.svc.PendingTOTP(t.Context(), f.userID, "ada", e.FactorID); !errors.Is(err, mfa.ErrNotFound) {
			t.Errorf("PendingTOTP after confirmation error = %v, want ErrNotFound", err)
		}
	})
}
