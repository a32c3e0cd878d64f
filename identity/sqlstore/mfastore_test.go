package sqlstore_test

import (
	"errors"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/google/uuid"
	"gorm.io/gorm"

	"gatehouse/identity"
	"gatehouse/identity/mfa"
	"gatehouse/identity/sqlstore"
	"gatehouse/migrations/dbtest"
)

func mustUser(t *testing.T, db *gorm.DB, name string) string {
	t.Helper()
	u := &identity.User{ID: uuid.NewString(), Username: name, Email: name + "@example.com", Status: identity.StatusActive}
	if err := sqlstore.NewUserStore(db).CreateUser(t.Context(), u, ""); err != nil {
		t.Fatal(err)
	}
	return u.ID
}

// TestMFAStoreWebAuthnRow: a WebAuthn credential survives the trip through
// its columns and JSON document, and its ID is unique across users.
func TestMFAStoreWebAuthnRow(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, db *gorm.DB) {
		ctx := t.Context()
		s := sqlstore.NewMFAStore(db)
		userID := mustUser(t, db, "ada")
		at := time.Date(2031, 1, 2, 3, 4, 5, 0, time.UTC)
		f := &mfa.Factor{
			ID: uuid.NewString(), UserID: userID, Kind: mfa.KindWebAuthn, Name: "YubiKey",
			CreatedAt: at, ConfirmedAt: &at,
			WebAuthn: &mfa.WebAuthnCredential{
				ID: []byte{1, 2, 3, 250}, SignCount: 4000000000, PublicKey: []byte("cose key"),
				AAGUID: []byte{9, 9}, Transports: []string{"usb", "nfc"}, HardwareBound: true, BackupEligible: true,
			},
		}
		if err := s.CreateFactor(ctx, f); err != nil {
			t.Fatal(err)
		}
		got, err := s.GetFactor(ctx, userID, f.ID)
		if err != nil {
			t.Fatal(err)
		}
		if diff := cmp.Diff(f, got); diff != "" {
			t.Errorf("GetFactor mismatch (-want +got):\n%s", diff)
		}
		other := mustUser(t, db, "bob")
		dup := *f
		dup.ID, dup.UserID = uuid.NewString(), other
		if err := s.CreateFactor(ctx, &dup); err == nil {
			t.Error("a second factor with the same credential ID was stored")
		}
		if _, err := s.GetFactor(ctx, other, f.ID); !errors.Is(err, mfa.ErrNotFound) {
			t.Errorf("GetFactor by another user error = %v, want ErrNotFound", err)
		}
		// A WebAuthn row is not a TOTP factor: AcceptStep leaves it alone.
		if ok, err := s.AcceptStep(ctx, userID, f.ID, 5, at, false); ok || err != nil {
			t.Errorf("AcceptStep on a WebAuthn factor = %v, %v; want false, nil", ok, err)
		}
	})
}

// TestMFAStoreAcceptStep: a step is accepted only above the last one, and
// confirmation only once.
func TestMFAStoreAcceptStep(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, db *gorm.DB) {
		ctx := t.Context()
		s := sqlstore.NewMFAStore(db)
		userID := mustUser(t, db, "ada")
		at := time.Date(2031, 1, 2, 3, 4, 5, 0, time.UTC)
		f := &mfa.Factor{ID: uuid.NewString(), UserID: userID, Kind: mfa.KindTOTP, SecretSealed: "v1.x", CreatedAt: at}
		if err := s.CreateFactor(ctx, f); err != nil {
			t.Fatal(err)
		}
		steps := []struct {
			step    int64
			confirm bool
			want    bool
		}{
			{10, false, false}, // pending: not accepted for sign-in
			{10, true, true},   // confirmation
			{11, true, false},  // confirmed already
			{10, false, false}, // same step
			{9, false, false},  // older step
			{11, false, true},
		}
		for i, st := range steps {
			got, err := s.AcceptStep(ctx, userID, f.ID, st.step, at.Add(time.Duration(i)*time.Second), st.confirm)
			if err != nil || got != st.want {
				t.Errorf("#%d AcceptStep(step %d, confirm %v) = %v, %v; want %v", i, st.step, st.confirm, got, err, st.want)
			}
		}
		got, err := s.GetFactor(ctx, userID, f.ID)
		if err != nil {
			t.Fatal(err)
		}
		if got.LastStep != 11 || !got.ConfirmedAt.Equal(at.Add(time.Second)) || !got.LastUsedAt.Equal(at.Add(5*time.Second)) {
			t.Errorf("factor after steps = %+v", got)
		}
	})
}

// TestMFAStoreUserDeleted: a user's factors and codes go with the user;
// factors for an unknown user are refused.
func TestMFAStoreUserDeleted(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, db *gorm.DB) {
		ctx := t.Context()
		s := sqlstore.NewMFAStore(db)
		at := time.Date(2031, 1, 2, 3, 4, 5, 0, time.UTC)
		err := s.CreateFactor(ctx, &mfa.Factor{ID: uuid.NewString(), UserID: uuid.NewString(), Kind: mfa.KindTOTP, SecretSealed: "v1.x", CreatedAt: at})
		if !errors.Is(err, mfa.ErrNotFound) {
			t.Errorf("CreateFactor for an unknown user error = %v, want ErrNotFound", err)
		}
		userID := mustUser(t, db, "ada")
		if err := s.CreateFactor(ctx, &mfa.Factor{ID: uuid.NewString(), UserID: userID, Kind: mfa.KindTOTP, SecretSealed: "v1.x", CreatedAt: at}); err != nil {
			t.Fatal(err)
		}
		if err := s.ReplaceRecoveryCodes(ctx, userID, []string{"a", "b"}, at); err != nil {
			t.Fatal(err)
		}
		if err := db.Exec("DELETE FROM users WHERE id = ?", userID).Error; err != nil {
			t.Fatal(err)
		}
		var n int64
		if err := db.Raw("SELECT (SELECT count(*) FROM mfa_factors) + (SELECT count(*) FROM mfa_recovery_codes)").Scan(&n).Error; err != nil {
			t.Fatal(err)
		}
		if n != 0 {
			t.Errorf("%d factor and code rows left after deleting the user, want 0", n)
		}
	})
}

// TestMFAStoreCodeFactors: e-mail and SMS code factors are stored once
// per user and kind; one factor at a time is the default, and only a
// confirmed factor of the user can become it.
func TestMFAStoreCodeFactors(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, db *gorm.DB) {
		ctx := t.Context()
		s := sqlstore.NewMFAStore(db)
		ada, bob := mustUser(t, db, "ada"), mustUser(t, db, "bob")
		at := time.Date(2031, 1, 2, 3, 4, 5, 0, time.UTC)
		factor := func(userID string, kind mfa.Kind, confirmed bool) *mfa.Factor {
			f := &mfa.Factor{ID: uuid.NewString(), UserID: userID, Kind: kind, CreatedAt: at}
			if kind == mfa.KindTOTP {
				f.SecretSealed = "sealed"
			}
			if confirmed {
				when := at
				f.ConfirmedAt = &when
			}
			at = at.Add(time.Second)
			return f
		}
		email, sms, totp := factor(ada, mfa.KindEmail, true), factor(ada, mfa.KindSMS, true), factor(ada, mfa.KindTOTP, true)
		pending := factor(ada, mfa.KindTOTP, false)
		for _, f := range []*mfa.Factor{email, sms, totp, pending, factor(bob, mfa.KindEmail, true)} {
			if err := s.CreateFactor(ctx, f); err != nil {
				t.Fatalf("CreateFactor(%s): %v", f.Kind, err)
			}
		}
		if err := s.CreateFactor(ctx, factor(ada, mfa.KindEmail, true)); !errors.Is(err, mfa.ErrExists) {
			t.Errorf("a second e-mail code factor: error = %v, want ErrExists", err)
		}
		if err := s.CreateFactor(ctx, factor(ada, mfa.Kind("carrier-pigeon"), true)); err == nil {
			t.Error("a factor of an unknown kind was stored")
		}

		defaults := func() []mfa.Kind {
			t.Helper()
			fs, err := s.ListFactors(ctx, ada)
			if err != nil {
				t.Fatal(err)
			}
			var out []mfa.Kind
			for _, f := range fs {
				if f.Default {
					out = append(out, f.Kind)
				}
			}
			return out
		}
		if got := defaults(); len(got) != 0 {
			t.Errorf("defaults before any choice = %v, want none", got)
		}
		if err := s.SetDefaultFactor(ctx, ada, sms.ID); err != nil {
			t.Fatal(err)
		}
		if err := s.SetDefaultFactor(ctx, ada, totp.ID); err != nil {
			t.Fatal(err)
		}
		if diff := cmp.Diff([]mfa.Kind{mfa.KindTOTP}, defaults()); diff != "" {
			t.Errorf("defaults mismatch (-want +got):\n%s", diff)
		}
		for name, id := range map[string]string{"pending": pending.ID, "unknown": uuid.NewString(), "not a UUID": "x"} {
			if err := s.SetDefaultFactor(ctx, ada, id); !errors.Is(err, mfa.ErrNotFound) {
				t.Errorf("SetDefaultFactor(%s) error = %v, want ErrNotFound", name, err)
			}
		}
		if err := s.SetDefaultFactor(ctx, bob, email.ID); !errors.Is(err, mfa.ErrNotFound) {
			t.Errorf("SetDefaultFactor of another user's factor error = %v, want ErrNotFound", err)
		}
		if diff := cmp.Diff([]mfa.Kind{mfa.KindTOTP}, defaults()); diff != "" {
			t.Errorf("defaults after refused changes mismatch (-want +got):\n%s", diff)
		}
		got, err := s.GetFactor(ctx, ada, email.ID)
		if err != nil {
			t.Fatal(err)
		}
		if diff := cmp.Diff(email, got); diff != "" {
			t.Errorf("GetFactor(email) mismatch (-want +got):\n%s", diff)
		}
	})
}
