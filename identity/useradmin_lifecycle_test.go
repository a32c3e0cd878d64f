package identity_test

import (
	"errors"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/google/uuid"
	"gorm.io/gorm"

	"gatehouse/identity"
	"gatehouse/identity/access"
	"gatehouse/identity/audit"
	"gatehouse/migrations/dbtest"
)

// TestUserAdminInvite: an invitation creates a user without a password
// and mails a link to /set-password valid 72 hours; following it sets the
// password once, verifies the address, and the person can sign in.
func TestUserAdminInvite(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, db *gorm.DB) {
		ctx := t.Context()
		f := newAdminFixture(t, db)
		u, err := f.admin.Create(ctx, identity.OperatorActor, identity.AdminCreateInput{Username: "newbie", Email: "newbie@example.com", Invite: true})
		if err != nil {
			t.Fatal(err)
		}
		mails := f.notifier.Mails()
		if len(mails) != 1 || mails[0].Kind != identity.MailInvite || mails[0].To != "newbie@example.com" ||
			mails[0].ExpiresIn != "72 hours" || !mails[0].ExpiresAt.Equal(testNow.Add(72*time.Hour)) {
			t.Fatalf("mails = %+v, want one invitation valid 72 hours", mails)
		}
		tok := linkToken(t, mails[0].Link, "/set-password")
		if got := f.actions(t, u.ID); len(got) != 1 || got[0] != audit.ActionUsersInvited {
			t.Errorf("audit = %v, want users.invited", got)
		}
		// No password yet: nothing signs in.
		if _, ok, err := f.auth.Authenticate(ctx, "newbie", ""); ok || err != nil {
			t.Errorf("sign-in before the invitation = %v, %v", ok, err)
		}
		f.clock.Advance(72*time.Hour - time.Second)
		if _, err := f.recovery.CheckResetToken(ctx, tok); err != nil {
			t.Fatalf("CheckResetToken just before 72 hours: %v", err)
		}
		if _, err := f.recovery.ResetPassword(ctx, tok, "my very own password"); err != nil {
			t.Fatalf("ResetPassword with the invitation: %v", err)
		}
		if got := f.get(t, u.ID); !got.EmailVerified {
			t.Errorf("e-mail not verified after the invitation was accepted")
		}
		if _, ok, err := f.auth.Authenticate(ctx, "newbie", "my very own password"); !ok || err != nil {
			t.Errorf("sign-in with the chosen password = %v, %v", ok, err)
		}
		if _, err := f.recovery.ResetPassword(ctx, tok, "another password here"); !errors.Is(err, identity.ErrCodeInvalid) {
			t.Errorf("second use of the invitation = %v, want ErrCodeInvalid", err)
		}
		if calls := f.sessions.Calls(); len(calls) != 0 {
			t.Errorf("sessions revoked on accepting = %v, want none", calls)
		}

		// A second invitation left 72 hours is dead.
		late, err := f.admin.Create(ctx, identity.OperatorActor, identity.AdminCreateInput{Username: "late", Email: "late@example.com", Invite: true})
		if err != nil {
			t.Fatal(err)
		}
		mails = f.notifier.Mails()
		lateTok := linkToken(t, mails[len(mails)-1].Link, "/set-password")
		f.clock.Advance(72 * time.Hour)
		if _, err := f.recovery.ResetPassword(ctx, lateTok, "my very own password"); !errors.Is(err, identity.ErrCodeInvalid) {
			t.Errorf("invitation after 72 hours = %v, want ErrCodeInvalid", err)
		}
		if got := f.get(t, late.ID); got.EmailVerified {
			t.Errorf("e-mail of the expired invitation verified")
		}
	})
}

// TestUserAdminDeactivate: a deactivated user's sessions end at once, the
// right password then says the account is disabled (the wrong one says
// nothing more than for anyone), the last admin cannot be deactivated,
// and reactivation lets the user back in.
func TestUserAdminDeactivate(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, db *gorm.DB) {
		ctx := t.Context()
		f := newAdminFixture(t, db)
		root := f.mustUser(t, "root", "admin")
		bob := f.mustUser(t, "bob")
		writer := identity.Actor{UserID: root.ID, Permissions: perms(access.UsersWrite)}

		if _, err := f.admin.Deactivate(ctx, writer, uuid.NewString()); !errors.Is(err, identity.ErrNotFound) {
			t.Errorf("Deactivate(unknown) = %v, want ErrNotFound", err)
		}
		var last *identity.LastAdminError
		if _, err := f.admin.Deactivate(ctx, writer, root.ID); !errors.As(err, &last) || last.UserID != root.ID {
			t.Errorf("Deactivate(last admin) = %v, want *LastAdminError", err)
		}
		if got := f.get(t, root.ID); got.Status != identity.StatusActive {
			t.Errorf("last admin's status = %s after the refusal", got.Status)
		}
		u, err := f.admin.Deactivate(ctx, writer, bob.ID)
		if err != nil || u.Status != identity.StatusDisabled {
			t.Fatalf("Deactivate = %+v, %v", u, err)
		}
		if calls := f.sessions.Calls(); len(calls) != 1 || calls[0] != (revokeCall{bob.ID, ""}) {
			t.Errorf("sessions revoked = %v, want every one of bob's", calls)
		}
		if _, err := f.admin.Deactivate(ctx, writer, bob.ID); err != nil {
			t.Errorf("Deactivate again = %v, want nil", err)
		}
		if got := f.actions(t, bob.ID); len(got) != 2 || got[1] != audit.ActionUsersDeactivated {
			t.Errorf("audit = %v, want created and one deactivated", got)
		}

		if _, ok, err := f.auth.Authenticate(ctx, "bob", "bob-bob-pw"); ok || !errors.Is(err, identity.ErrAccountDisabled) {
			t.Errorf("right password of a disabled account = %v, %v; want ErrAccountDisabled", ok, err)
		}
		if u, ok, err := f.auth.Authenticate(ctx, "bob", "not bob's password"); ok || err != nil || u != nil {
			t.Errorf("wrong password of a disabled account = %v, %v, %v; want a plain no", u, ok, err)
		}

		if u, err = f.admin.Reactivate(ctx, writer, bob.ID); err != nil || u.Status != identity.StatusActive {
			t.Fatalf("Reactivate = %+v, %v", u, err)
		}
		if _, ok, err := f.auth.Authenticate(ctx, "bob", "bob-bob-pw"); !ok || err != nil {
			t.Errorf("sign-in after reactivation = %v, %v", ok, err)
		}
		if got := f.actions(t, bob.ID); got[len(got)-1] != audit.ActionUsersReactivated {
			t.Errorf("audit = %v, want users.reactivated last", got)
		}
		// With a second admin the first may go.
		f.mustUser(t, "deputy", "admin")
		if _, err := f.admin.Deactivate(ctx, writer, root.ID); err != nil {
			t.Errorf("Deactivate(admin, another left) = %v", err)
		}
	})
}

// TestUserAdminGuessDisabled is written from the side of someone guessing
// the password of a disabled account to learn its status: the lockout
// counts the guesses as for any account, and a locked account answers the
// right password like a wrong one.
func TestUserAdminGuessDisabled(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, db *gorm.DB) {
		ctx := t.Context()
		f := newAdminFixture(t, db)
		f.auth.Lockout = identity.LockoutPolicy{MaxFailures: 3, FirstLockout: time.Hour}
		v := f.mustUser(t, "victim")
		if _, err := f.admin.Deactivate(ctx, identity.OperatorActor, v.ID); err != nil {
			t.Fatal(err)
		}
		for range 3 {
			if _, ok, err := f.auth.Authenticate(ctx, "victim", "guess guess guess"); ok || err != nil {
				t.Fatalf("guess = %v, %v", ok, err)
			}
		}
		if _, ok, err := f.auth.Authenticate(ctx, "victim", "victim-victim-pw"); ok || err != nil {
			t.Errorf("right password once locked = %v, %v; want the answer of a wrong one", ok, err)
		}
	})
}

// TestUserAdminDelete: deleting needs users:admin, keeps the last admin,
// and leaves no row of the user in the identity tables.
func TestUserAdminDelete(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, db *gorm.DB) {
		ctx := t.Context()
		f := newAdminFixture(t, db)
		root := f.mustUser(t, "root", "admin")
		admin := identity.Actor{UserID: root.ID, Permissions: perms(access.UsersWrite, access.UsersAdmin)}
		var last *identity.LastAdminError
		if err := f.admin.Delete(ctx, admin, root.ID); !errors.As(err, &last) {
			t.Errorf("Delete(last admin) = %v, want *LastAdminError", err)
		}
		gone, err := f.admin.Create(ctx, admin, identity.AdminCreateInput{Username: "gone", Email: "gone@example.com", Invite: true})
		if err != nil {
			t.Fatal(err)
		}
		if err := db.Exec(`INSERT INTO mfa_recovery_codes (user_id, code_hash, created_at) VALUES (?, 'h', ?)`, gone.ID, testNow).Error; err != nil {
			t.Fatal(err)
		}
		if err := f.admin.Delete(ctx, admin, gone.ID); err != nil {
			t.Fatalf("Delete: %v", err)
		}
		if _, err := f.users.GetUser(ctx, gone.ID); !errors.Is(err, identity.ErrNotFound) {
			t.Errorf("GetUser after Delete = %v, want ErrNotFound", err)
		}
		for _, table := range []string{"one_time_tokens", "mfa_recovery_codes", "mfa_factors", "mfa_remembered_browsers", "mfa_enrolment_grace", "webauthn_ceremonies"} {
			var n int64
			if err := db.Table(table).Where("user_id = ?", gone.ID).Count(&n).Error; err != nil || n != 0 {
				t.Errorf("%s rows of the deleted user = %d, %v; want 0", table, n, err)
			}
		}
		if calls := f.sessions.Calls(); len(calls) != 1 || calls[0].UserID != gone.ID {
			t.Errorf("sessions revoked = %v, want gone's", calls)
		}
		if f.erased.ids == nil || f.erased.ids[0] != gone.ID {
			t.Errorf("erased = %v, want gone", f.erased.ids)
		}
		entries, _ := f.audit.List(ctx, audit.Filter{Action: audit.ActionUsersDeleted})
		if len(entries) != 1 || entries[0].Subject != gone.ID || len(entries[0].Details) != 0 || entries[0].ActorID != root.ID {
			t.Errorf("audit of deletion = %+v, want the id only", entries)
		}
		if err := f.admin.Delete(ctx, admin, gone.ID); !errors.Is(err, identity.ErrNotFound) {
			t.Errorf("Delete again = %v, want ErrNotFound", err)
		}
	})
}

// TestUserAdminResetUnlockSessions: the reset link goes to the user's
// address (a user without one is told apart), an unlock ends a permanent
// lockout, and EndSessions ends every session; each is audited.
func TestUserAdminResetUnlockSessions(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, db *gorm.DB) {
		ctx := t.Context()
		f := newAdminFixture(t, db)
		u := f.mustUser(t, "carol")
		noMail, err := f.admin.Create(ctx, identity.OperatorActor, identity.AdminCreateInput{Username: "nomail", Password: "a long password 1"})
		if err != nil {
			t.Fatal(err)
		}
		var ve *identity.ValidationError
		if err := f.admin.SendPasswordReset(ctx, identity.OperatorActor, noMail.ID); !errors.As(err, &ve) || ve.Fields["email"] == "" {
			t.Errorf("SendPasswordReset(no e-mail) = %v, want a ValidationError for email", err)
		}
		if err := f.admin.SendPasswordReset(ctx, identity.OperatorActor, u.ID); err != nil {
			t.Fatal(err)
		}
		mails := f.notifier.Mails()
		if len(mails) != 1 || mails[0].Kind != identity.MailPasswordReset || mails[0].To != u.Email {
			t.Errorf("mails = %+v, want one reset link to carol", mails)
		}
		linkToken(t, mails[0].Link, "/reset-password")

		if _, err := f.users.LockUser(ctx, u.ID, identity.Lock{Permanent: true}); err != nil {
			t.Fatal(err)
		}
		locked := f.get(t, u.ID)
		if !locked.LockedPermanently {
			t.Fatal("not locked")
		}
		got, err := f.admin.Unlock(ctx, identity.OperatorActor, u.ID)
		if err != nil || got.LockedAt(testNow) {
			t.Errorf("Unlock = %+v, %v", got, err)
		}
		if identity.ETag(got) == identity.ETag(locked) {
			t.Errorf("ETag unchanged by the unlock")
		}
		if err := f.admin.EndSessions(ctx, identity.OperatorActor, u.ID); err != nil {
			t.Fatal(err)
		}
		if calls := f.sessions.Calls(); len(calls) != 1 || calls[0] != (revokeCall{u.ID, ""}) {
			t.Errorf("sessions revoked = %v", calls)
		}
		want := []string{audit.ActionUsersCreated, audit.ActionUsersResetSent, audit.ActionUsersUnlocked, audit.ActionUsersSessionsEnded}
		if got := f.actions(t, u.ID); len(got) != len(want) || got[1] != want[1] || got[2] != want[2] || got[3] != want[3] {
			t.Errorf("audit = %v, want %v", got, want)
		}
		entries, _ := f.audit.List(ctx, audit.Filter{UserID: u.ID, Action: audit.ActionUsersUnlocked})
		if len(entries) != 1 || entries[0].ActorID != "cli" || entries[0].ActorType != audit.ActorAdmin {
			t.Errorf("unlock entry = %+v, want by the cli", entries)
		}
	})
}

// TestUserAdminLastAdminsConcurrent: the last two admins deactivated, or
// deleted, at the same moment: one goes, the other is refused as the
// last admin; never both, and never a deadlock.
func TestUserAdminLastAdminsConcurrent(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, db *gorm.DB) {
		ctx := t.Context()
		f := newAdminFixture(t, db)
		for round := range 4 {
			a := f.mustUser(t, fmt.Sprintf("admin-a%d", round), "admin")
			b := f.mustUser(t, fmt.Sprintf("admin-b%d", round), "admin")
			errs := make([]error, 2)
			var wg sync.WaitGroup
			for i, id := range []string{a.ID, b.ID} {
				wg.Go(func() {
					if round%2 == 0 {
						_, errs[i] = f.admin.Deactivate(ctx, identity.OperatorActor, id)
					} else {
						errs[i] = f.admin.Delete(ctx, identity.OperatorActor, id)
					}
				})
			}
			wg.Wait()
			var last *identity.LastAdminError
			ok, refused := 0, 0
			for _, err := range errs {
				switch {
				case err == nil:
					ok++
				case errors.As(err, &last):
					refused++
				default:
					t.Errorf("round %d: %v", round, err)
				}
			}
			if ok != 1 || refused != 1 {
				t.Fatalf("round %d: %d went, %d refused; want one each", round, ok, refused)
			}
			// Leave no admin for the next round.
			for _, id := range []string{a.ID, b.ID} {
				if u, err := f.users.GetUser(ctx, id); err == nil && u.Status == identity.StatusActive {
					u.Status = identity.StatusDisabled
					if err := f.users.UpdateUser(ctx, u); err != nil {
						t.Fatal(err)
					}
				}
			}
		}
	})
}
