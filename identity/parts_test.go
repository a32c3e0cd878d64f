package identity_test

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"gorm.io/gorm"

	"gatehouse/identity"
	"gatehouse/identity/sqlstore"
	"gatehouse/migrations/dbtest"
)

// Each store below hides every method of the real store but its part's
// slice of it, so that a part reaching for more would fail.
type (
	accountsOnly struct{ identity.AccountStore }
	loginsOnly   struct{ identity.LoginStore }
	contactsOnly struct{ identity.ContactStore }
	recoveryOnly struct{ identity.RecoveryStore }
	profilesOnly struct{ identity.ProfileStore }
)

// TestPartsOnTheirOwnStores follows one account through every part of
// the identity service, each built over only its narrow store and one
// shared Core: sign-up with its verification mail (Accounts through
// Contacts), the address verified (Contacts), a lockout with its unlock
// mail (Authenticator), the unlock link and a password reset (Recovery),
// a password change and a profile edit (Profiles), and a sign-in between
// each. The hooks fire in the part that owns them.
func TestPartsOnTheirOwnStores(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, db *gorm.DB) {
		ctx := t.Context()
		users := sqlstore.NewUserStore(db)
		notifier, sessions, clk, ev := &fakeNotifier{}, &fakeRevoker{}, &clock{now: testNow}, &events{}
		core := &identity.Core{
			Hasher: identity.NewHasher(fastParams, nil), Now: clk.Now,
			Tokens: sqlstore.NewTokenStore(db), TokenKey: []byte("test token key, 32 bytes or more"),
			Notifier: notifier, BaseURL: testBaseURL,
			Sleep: func(context.Context, time.Duration) {},
		}
		contacts := &identity.Contacts{Core: core, Users: contactsOnly{users}, DefaultRegion: "GB"}
		accounts := &identity.Accounts{Core: core, Users: accountsOnly{users}, Contacts: contacts}
		auth := &identity.Authenticator{Core: core, Users: loginsOnly{users},
			OnLockout: func(_ context.Context, userID, reason string, permanent bool) {
				ev.add("lockout %s %s permanent=%v", userID, reason, permanent)
			},
			OnLockedAttempt: func(_ context.Context, userID string) { ev.add("locked attempt %s", userID) },
		}
		recovery := &identity.Recovery{Core: core, Users: recoveryOnly{users}, Sessions: sessions,
			OnUnlock: func(_ context.Context, userID, by string) { ev.add("unlock %s by %s", userID, by) },
			OnPasswordReset: func(_ context.Context, userID string) error {
				ev.add("password reset %s", userID)
				return nil
			},
		}
		profiles := &identity.Profiles{Core: core, Users: profilesOnly{users}, Sessions: sessions}

		only := func(kind identity.MailKind) identity.Mail {
			t.Helper()
			mails := notifier.Mails()
			if len(mails) != 1 || mails[0].Kind != kind {
				t.Fatalf("mails sent = %+v, want one %s", mails, kind)
			}
			return mails[0]
		}
		signIn := func(password string, want bool) {
			t.Helper()
			if _, ok, err := auth.Authenticate(ctx, "alice.liddell", password); ok != want || err != nil {
				t.Fatalf("Authenticate(%q) = %v, %v; want %v", password, ok, err, want)
			}
		}

		u, err := accounts.Register(ctx, alice)
		if err != nil {
			t.Fatalf("Register: %v", err)
		}
		if err := contacts.VerifyEmailCode(ctx, u.ID, only(identity.MailVerifyEmail).Code); err != nil {
			t.Fatalf("VerifyEmailCode: %v", err)
		}
		if got, err := accounts.GetUser(ctx, u.ID); err != nil || !got.EmailVerified {
			t.Fatalf("GetUser after verification = %+v, %v; want the address verified", got, err)
		}
		signIn(alice.Password, true)

		for range identity.DefaultMaxFailures {
			signIn("not the password", false)
		}
		signIn(alice.Password, false) // locked
		unlock := linkToken(t, only(identity.MailAccountLocked).Link, "/unlock")
		if err := recovery.UnlockWithToken(ctx, unlock); err != nil {
			t.Fatalf("UnlockWithToken: %v", err)
		}
		signIn(alice.Password, true)

		if err := recovery.RequestPasswordReset(ctx, "alice.liddell"); err != nil {
			t.Fatalf("RequestPasswordReset: %v", err)
		}
		reset := linkToken(t, only(identity.MailPasswordReset).Link, "/reset-password")
		if _, err := recovery.ResetPassword(ctx, reset, "a reset passphrase"); err != nil {
			t.Fatalf("ResetPassword: %v", err)
		}
		only(identity.MailPasswordChanged)
		signIn("a reset passphrase", true)

		if err := profiles.ChangePassword(ctx, u.ID, "a reset passphrase", "a changed passphrase", "this-session"); err != nil {
			t.Fatalf("ChangePassword: %v", err)
		}
		only(identity.MailPasswordChanged)
		signIn("a changed passphrase", true)
		if _, err := profiles.UpdateProfile(ctx, u.ID, identity.ProfileInput{Username: "alice", GivenName: "Alicia"}); err != nil {
			t.Fatalf("UpdateProfile: %v", err)
		}
		if got, err := accounts.GetUser(ctx, u.ID); err != nil || got.Username != "alice" || got.GivenName != "Alicia" {
			t.Fatalf("GetUser after UpdateProfile = %+v, %v", got, err)
		}

		wantEvents := []string{
			fmt.Sprintf("lockout %s password permanent=false", u.ID),
			"locked attempt " + u.ID,
			fmt.Sprintf("unlock %s by link", u.ID),
			"password reset " + u.ID,
		}
		if diff := cmp.Diff(wantEvents, ev.Take()); diff != "" {
			t.Errorf("hooks mismatch (-want +got):\n%s", diff)
		}
		wantRevoked := []revokeCall{{u.ID, ""}, {u.ID, "this-session"}}
		if diff := cmp.Diff(wantRevoked, sessions.Calls()); diff != "" {
			t.Errorf("sessions revoked mismatch (-want +got):\n%s", diff)
		}
	})
}
