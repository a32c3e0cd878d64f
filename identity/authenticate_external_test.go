package identity_test

import (
	"context"
	"errors"
	"testing"

	"github.com/google/go-cmp/cmp"

	"gatehouse/identity"
)

// upstream is a password check made elsewhere, counting its calls.
type upstream struct {
	calls int
	ok    bool
	err   error
}

func (u *upstream) check(context.Context) (bool, error) {
	u.calls++
	return u.ok, u.err
}

// TestAuthenticateExternal: a password checked upstream is under the
// local account's lockout: wrong ones count and lock, a locked account's
// attempts never reach the upstream, a right one signs in and resets the
// counts; an upstream outage is returned and does not build up towards a
// lockout; a disabled account learns it only with the right password.
func TestAuthenticateExternal(t *testing.T) {
	eachEnv(t, func(t *testing.T, e *env) {
		ctx := t.Context()
		u := lockEnv(t, e)
		e.svc.Authenticator.Lockout = identity.LockoutPolicy{MaxFailures: 3}
		right, wrong, down := &upstream{ok: true}, &upstream{}, &upstream{err: errors.New("directory down")}

		got, ok, err := e.svc.AuthenticateExternal(ctx, u.ID, right.check)
		if !ok || err != nil || got.ID != u.ID || got.LastLoginAt == nil {
			t.Fatalf("right password = %v, %v, %v", got, ok, err)
		}
		for range 10 {
			if _, ok, err := e.svc.AuthenticateExternal(ctx, u.ID, down.check); ok || err == nil {
				t.Fatalf("outage = %v, %v; want its error", ok, err)
			}
		}
		if _, ok, _ := e.svc.AuthenticateExternal(ctx, u.ID, right.check); !ok {
			t.Fatal("ten outages locked the account")
		}
		e.events.Take()
		for range 3 {
			if got, ok, err := e.svc.AuthenticateExternal(ctx, u.ID, wrong.check); ok || err != nil || got != nil {
				t.Fatalf("wrong password = %v, %v, %v", got, ok, err)
			}
		}
		before := right.calls
		if _, ok, err := e.svc.AuthenticateExternal(ctx, u.ID, right.check); ok || err != nil {
			t.Errorf("locked account = %v, %v; want refused", ok, err)
		}
		if right.calls != before {
			t.Error("a locked account's attempt reached the upstream")
		}
		e.unlockMail(t)
		if err := e.svc.Unlock(ctx, u.ID); err != nil {
			t.Fatal(err)
		}
		stored, err := e.svc.Users.GetUser(ctx, u.ID)
		if err != nil {
			t.Fatal(err)
		}
		stored.Status = identity.StatusDisabled
		if err := e.svc.Users.UpdateUser(ctx, stored); err != nil {
			t.Fatal(err)
		}
		if _, ok, err := e.svc.AuthenticateExternal(ctx, u.ID, wrong.check); ok || err != nil {
			t.Errorf("disabled, wrong password = %v, %v; want the plain refusal", ok, err)
		}
		if _, ok, err := e.svc.AuthenticateExternal(ctx, u.ID, right.check); ok || !errors.Is(err, identity.ErrAccountDisabled) {
			t.Errorf("disabled, right password = %v, %v; want ErrAccountDisabled", ok, err)
		}
	})
}

// TestPasswordResetElsewhere: a user whose password lives in a directory
// is mailed where to change it, and no reset link exists.
func TestPasswordResetElsewhere(t *testing.T) {
	eachEnv(t, func(t *testing.T, e *env) {
		u := lockEnv(t, e)
		e.svc.Recovery.PasswordElsewhere = func(_ context.Context, userID string) (string, bool, error) {
			return "Example directory", userID == u.ID, nil
		}
		if err := e.svc.RequestPasswordReset(t.Context(), alice.Username); err != nil {
			t.Fatal(err)
		}
		m := e.onlyMail(t, identity.MailPasswordElsewhere)
		want := identity.Mail{Kind: identity.MailPasswordElsewhere, To: "alice@example.com", Name: "Alice", Directory: "Example directory"}
		if diff := cmp.Diff(want, m); diff != "" {
			t.Errorf("mail mismatch (-want +got):\n%s", diff)
		}
	})
}
