package identity_test

import (
	"errors"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/google/uuid"

	"gatehouse/identity"
)

const (
	usernameTaken = "This username is already taken. Choose another one."
	emailTaken    = "An account already uses this e-mail address. Sign in, or reset your password if you forgot it."
)

// asTaken returns err as a *TakenEmailError, failing the test otherwise.
func asTaken(t testing.TB, err error) *identity.TakenEmailError {
	t.Helper()
	var te *identity.TakenEmailError
	if !errors.As(err, &te) {
		t.Fatalf("err = %T %v, want *identity.TakenEmailError", err, err)
	}
	return te
}

// TestRegisterHidesTakenEmail: with HideTakenEmails, registering an
// address that has an account creates nothing, tells the owner (once per
// cooldown) and hands back a decoy whose codes all fail like wrong ones.
func TestRegisterHidesTakenEmail(t *testing.T) {
	eachEnv(t, func(t *testing.T, e *env) {
		ctx := t.Context()
		e.svc.HideTakenEmails = true
		owner, _ := e.register(t, alice)

		_, err := e.svc.Register(ctx, identity.RegisterInput{Username: "mallory", Email: "alice@EXAMPLE.com", Password: "a decent passphrase"})
		te := asTaken(t, err)
		if id, err := uuid.Parse(te.Decoy.ID); err != nil || id.Version() != 7 || te.Decoy.ID == owner.ID {
			t.Errorf("decoy ID = %q, want a fresh UUID v7 like a user's", te.Decoy.ID)
		}
		if te.Decoy.Email != "alice@example.com" || te.OwnerID != owner.ID {
			t.Errorf("decoy email %q owner %q, want alice@example.com and %s", te.Decoy.Email, te.OwnerID, owner.ID)
		}
		if _, _, err := e.svc.Users.FindUserByLogin(ctx, "mallory"); !errors.Is(err, identity.ErrNotFound) {
			t.Errorf("an account was created for the decoy: %v", err)
		}
		want := identity.Mail{Kind: identity.MailRegistrationAttempt, To: "alice@example.com", Name: "Alice",
			Link: testBaseURL + "/login", ResetLink: testBaseURL + "/forgot-password"}
		if diff := cmp.Diff(want, e.onlyMail(t, identity.MailRegistrationAttempt)); diff != "" {
			t.Errorf("owner's notice mismatch (-want +got):\n%s", diff)
		}

		// Codes fail as wrong ones do, up to the limit.
		decoy := te.Decoy.ID
		for i := 1; i <= identity.MaxCodeAttempts+1; i++ {
			want := identity.ErrCodeInvalid
			if i >= identity.MaxCodeAttempts {
				want = identity.ErrTooManyAttempts
			}
			if err := e.svc.VerifyDecoyCode(ctx, decoy, "123456"); !errors.Is(err, want) {
				t.Errorf("VerifyDecoyCode attempt %d = %v, want %v", i, err, want)
			}
		}
		// A resend within the cooldown is refused as a real one is.
		var ce *identity.CooldownError
		if err := e.svc.ResendDecoyCode(ctx, decoy, te.Decoy.Email); !errors.As(err, &ce) {
			t.Errorf("ResendDecoyCode within the cooldown = %v, want *CooldownError", err)
		}
		// Another attempt within the cooldown: same answer, no second mail.
		_, err = e.svc.Register(ctx, identity.RegisterInput{Username: "mallory2", Email: "alice@example.com", Password: "a decent passphrase"})
		asTaken(t, err)
		e.noMail(t)

		// After the cooldown a resend starts over: the owner hears again
		// and codes count from zero.
		e.clock.Advance(identity.DefaultResendCooldown)
		if err := e.svc.ResendDecoyCode(ctx, decoy, te.Decoy.Email); err != nil {
			t.Fatalf("ResendDecoyCode after the cooldown = %v", err)
		}
		e.onlyMail(t, identity.MailRegistrationAttempt)
		if err := e.svc.VerifyDecoyCode(ctx, decoy, "123456"); !errors.Is(err, identity.ErrCodeInvalid) {
			t.Errorf("VerifyDecoyCode after a resend = %v, want ErrCodeInvalid", err)
		}
		// Codes expire as real ones do; an unknown decoy has none.
		e.clock.Advance(identity.DefaultCodeTTL)
		for _, id := range []string{decoy, uuid.NewString()} {
			if err := e.svc.VerifyDecoyCode(ctx, id, "123456"); !errors.Is(err, identity.ErrCodeInvalid) {
				t.Errorf("VerifyDecoyCode(%s) = %v, want ErrCodeInvalid", id, err)
			}
		}
		// No code of a decoy ever verifies the owner.
		if e.user(t, owner.ID).EmailVerified {
			t.Error("the owner's address got verified")
		}
	})
}

// TestRegisterHidesOnlyTheEmail: a taken username is still reported (it
// has to be), and so is every other problem; only the taken address is
// left out. Without HideTakenEmails it is reported too.
func TestRegisterHidesOnlyTheEmail(t *testing.T) {
	eachEnv(t, func(t *testing.T, e *env) {
		e.register(t, alice)
		tests := []struct {
			name string
			hide bool
			in   identity.RegisterInput
			want map[string]string
		}{
			{"taken username, new address", true,
				identity.RegisterInput{Username: "alice.liddell", Email: "new@example.com", Password: "a decent passphrase"},
				map[string]string{"username": usernameTaken}},
			{"taken username and address", true,
				identity.RegisterInput{Username: "Alice.Liddell", Email: "alice@example.com", Password: "a decent passphrase"},
				map[string]string{"username": usernameTaken}},
			{"taken address, short password", true,
				identity.RegisterInput{Username: "bob", Email: "alice@example.com", Password: "short"},
				map[string]string{"password": "Choose a longer password: at least 8 characters."}},
			{"taken address, not hidden", false,
				identity.RegisterInput{Username: "bob", Email: "alice@example.com", Password: "a decent passphrase"},
				map[string]string{"email": emailTaken}},
		}
		for _, tc := range tests {
			t.Run(tc.name, func(t *testing.T) {
				e.svc.HideTakenEmails = tc.hide
				_, err := e.svc.Register(t.Context(), tc.in)
				if diff := cmp.Diff(tc.want, asValidation(t, err).Fields); diff != "" {
					t.Errorf("Register fields mismatch (-want +got):\n%s", diff)
				}
				e.noMail(t)
			})
		}
	})
}
