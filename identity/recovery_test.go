package identity_test

import (
	"errors"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"

	"gatehouse/identity"
)

const newPassword = "a brand new passphrase"

// requestReset asks for a reset of login and returns the link's token.
func (e *env) requestReset(t testing.TB, login string) (identity.Mail, string) {
	t.Helper()
	if err := e.svc.RequestPasswordReset(t.Context(), login); err != nil {
		t.Fatalf("RequestPasswordReset(%q): %v", login, err)
	}
	m := e.onlyMail(t, identity.MailPasswordReset)
	return m, linkToken(t, m.Link, "/reset-password")
}

func TestPasswordReset(t *testing.T) {
	eachEnv(t, func(t *testing.T, e *env) {
		ctx := t.Context()
		u, _ := e.register(t, alice)
		m, token := e.requestReset(t, " ALICE.liddell ")
		want := identity.Mail{Kind: identity.MailPasswordReset, To: "alice@example.com", Name: "Alice", ExpiresIn: "30 minutes", ExpiresAt: e.clock.Now().Add(identity.DefaultResetTokenTTL)}
		if diff := cmp.Diff(want, m, cmpopts.IgnoreFields(identity.Mail{}, "Link")); diff != "" {
			t.Errorf("reset mail mismatch (-want +got):\n%s", diff)
		}

		if id, err := e.svc.CheckResetToken(ctx, token); err != nil || id != u.ID {
			t.Errorf("CheckResetToken = %q, %v; want %q", id, err, u.ID)
		}
		// A password the policy rejects leaves the link usable.
		_, err := e.svc.ResetPassword(ctx, token, "short")
		if got := asValidation(t, err).Fields["password"]; got == "" {
			t.Errorf("ResetPassword(short) = %v, want a password field error", err)
		}
		if len(e.sessions.Calls()) != 0 {
			t.Errorf("sessions revoked after a rejected password")
		}

		got, err := e.svc.ResetPassword(ctx, token, newPassword)
		if err != nil {
			t.Fatalf("ResetPassword: %v", err)
		}
		if got.ID != u.ID || !got.EmailVerified || !e.user(t, u.ID).EmailVerified {
			t.Errorf("ResetPassword = user %s, email verified %v; want %s with the address verified", got.ID, got.EmailVerified, u.ID)
		}
		if diff := cmp.Diff([]revokeCall{{u.ID, ""}}, e.sessions.Calls()); diff != "" {
			t.Errorf("revocations mismatch (-want +got):\n%s", diff)
		}
		changed := e.onlyMail(t, identity.MailPasswordChanged)
		if changed.To != "alice@example.com" {
			t.Errorf("password changed notice to %q, want alice@example.com", changed.To)
		}
		if _, ok, _ := e.svc.Authenticate(ctx, "alice.liddell", newPassword); !ok {
			t.Error("new password does not sign in")
		}
		if _, ok, _ := e.svc.Authenticate(ctx, "alice.liddell", alice.Password); ok {
			t.Error("old password still signs in")
		}

		// Single use.
		if _, err := e.svc.CheckResetToken(ctx, token); !errors.Is(err, identity.ErrCodeInvalid) {
			t.Errorf("CheckResetToken(used) = %v, want ErrCodeInvalid", err)
		}
		if _, err := e.svc.ResetPassword(ctx, token, "yet another passphrase"); !errors.Is(err, identity.ErrCodeInvalid) {
			t.Errorf("ResetPassword(used) = %v, want ErrCodeInvalid", err)
		}
		for _, bad := range []string{"", "garbage"} {
			if _, err := e.svc.ResetPassword(ctx, bad, newPassword); !errors.Is(err, identity.ErrCodeInvalid) {
				t.Errorf("ResetPassword(%q) = %v, want ErrCodeInvalid", bad, err)
			}
		}
	})
}

func TestPasswordResetExpiry(t *testing.T) {
	eachEnv(t, func(t *testing.T, e *env) {
		ctx := t.Context()
		e.register(t, alice)
		_, token := e.requestReset(t, "alice@example.com")
		e.clock.Advance(30*time.Minute - time.Second)
		if _, err := e.svc.CheckResetToken(ctx, token); err != nil {
			t.Errorf("CheckResetToken a second before expiry = %v", err)
		}
		e.clock.Advance(time.Second)
		if _, err := e.svc.CheckResetToken(ctx, token); !errors.Is(err, identity.ErrCodeInvalid) {
			t.Errorf("CheckResetToken at expiry = %v, want ErrCodeInvalid", err)
		}
		if _, err := e.svc.ResetPassword(ctx, token, newPassword); !errors.Is(err, identity.ErrCodeInvalid) {
			t.Errorf("ResetPassword at expiry = %v, want ErrCodeInvalid", err)
		}

		// The lifetime is configurable.
		e.svc.ResetTokenTTL = 2 * time.Hour
		m, token := e.requestReset(t, "alice@example.com")
		if m.ExpiresIn != "2 hours" {
			t.Errorf("ExpiresIn = %q, want 2 hours", m.ExpiresIn)
		}
		e.clock.Advance(time.Hour)
		if _, err := e.svc.ResetPassword(ctx, token, newPassword); err != nil {
			t.Errorf("ResetPassword within a 2-hour lifetime = %v", err)
		}
	})
}

// Unknown, disabled and address-less accounts get the same answer as real
// ones, and nothing is sent.
func TestPasswordResetNothingToSend(t *testing.T) {
	eachEnv(t, func(t *testing.T, e *env) {
		ctx := t.Context()
		queen := mustRegister(t, e.svc, identity.RegisterInput{Username: "queen", Email: "queen@example.com", Password: "off with their heads"})
		queen.Status = identity.StatusDisabled
		if err := e.svc.Users.UpdateUser(ctx, queen); err != nil {
			t.Fatal(err)
		}
		if _, err := e.svc.CreateUser(ctx, identity.CreateInput{Username: "noemail", Password: "a decent passphrase"}); err != nil {
			t.Fatal(err)
		}
		e.notifier.Mails()
		for _, login := range []string{"nobody", "nobody@example.com", "", "queen", "noemail"} {
			if err := e.svc.RequestPasswordReset(ctx, login); err != nil {
				t.Errorf("RequestPasswordReset(%q) = %v, want nil", login, err)
			}
		}
		e.noMail(t)

		tests := []struct {
			login string
			want  error
		}{
			{"nobody", identity.ErrNotFound},
			{"queen@example.com", identity.ErrAccountDisabled},
			{"noemail", identity.ErrNoEmail},
		}
		for _, tc := range tests {
			if err := e.svc.AdminResetPassword(ctx, tc.login); !errors.Is(err, tc.want) {
				t.Errorf("AdminResetPassword(%q) = %v, want %v", tc.login, err, tc.want)
			}
		}
		e.noMail(t)
	})
}

func TestPasswordResetCooldown(t *testing.T) {
	eachEnv(t, func(t *testing.T, e *env) {
		ctx := t.Context()
		e.register(t, alice)
		_, first := e.requestReset(t, "alice.liddell")
		if err := e.svc.RequestPasswordReset(ctx, "alice.liddell"); err != nil {
			t.Errorf("RequestPasswordReset within the cooldown = %v, want nil", err)
		}
		e.noMail(t)
		var ce *identity.CooldownError
		if err := e.svc.AdminResetPassword(ctx, "alice.liddell"); !errors.As(err, &ce) {
			t.Errorf("AdminResetPassword within the cooldown = %v, want a CooldownError", err)
		}
		e.clock.Advance(time.Minute)
		if err := e.svc.AdminResetPassword(ctx, "alice.liddell"); err != nil {
			t.Fatalf("AdminResetPassword: %v", err)
		}
		second := linkToken(t, e.onlyMail(t, identity.MailPasswordReset).Link, "/reset-password")
		if _, err := e.svc.CheckResetToken(ctx, first); !errors.Is(err, identity.ErrCodeInvalid) {
			t.Errorf("CheckResetToken(replaced) = %v, want ErrCodeInvalid", err)
		}
		if _, err := e.svc.CheckResetToken(ctx, second); err != nil {
			t.Errorf("CheckResetToken(new) = %v", err)
		}
	})
}

// A link sent to an address the account no longer has is void.
func TestPasswordResetAfterEmailChange(t *testing.T) {
	eachEnv(t, func(t *testing.T, e *env) {
		ctx := t.Context()
		u, _ := e.register(t, alice)
		_, token := e.requestReset(t, "alice.liddell")
		if err := e.svc.ChangeEmail(ctx, u.ID, "alice.new@example.com"); err != nil {
			t.Fatal(err)
		}
		if err := e.svc.ConfirmEmailChangeCode(ctx, u.ID, e.notifier.Mails()[0].Code); err != nil {
			t.Fatal(err)
		}
		if _, err := e.svc.ResetPassword(ctx, token, newPassword); !errors.Is(err, identity.ErrCodeInvalid) {
			t.Errorf("ResetPassword(link to the old address) = %v, want ErrCodeInvalid", err)
		}
	})
}

// Of 8 simultaneous uses of one reset link exactly one sets the password.
func TestPasswordResetConcurrent(t *testing.T) {
	eachEnv(t, func(t *testing.T, e *env) {
		e.register(t, alice)
		_, token := e.requestReset(t, "alice.liddell")
		const n = 8
		errs := make([]error, n)
		var wg sync.WaitGroup
		start := make(chan struct{})
		for i := range n {
			wg.Go(func() {
				<-start
				_, errs[i] = e.svc.ResetPassword(t.Context(), token, newPassword)
			})
		}
		close(start)
		wg.Wait()
		var ok int
		for _, err := range errs {
			switch {
			case err == nil:
				ok++
			case !errors.Is(err, identity.ErrCodeInvalid):
				t.Errorf("concurrent ResetPassword: %v", err)
			}
		}
		if ok != 1 || len(e.sessions.Calls()) != 1 {
			t.Errorf("%d of %d concurrent resets succeeded, %d revocations; want exactly 1 each", ok, n, len(e.sessions.Calls()))
		}
	})
}
