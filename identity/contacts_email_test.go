package identity_test

import (
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"

	"gatehouse/identity"
)

var sixDigits = regexp.MustCompile(`^[0-9]{6}$`)

func TestRegisterSendsVerification(t *testing.T) {
	eachEnv(t, func(t *testing.T, e *env) {
		in := alice
		in.Phone = "07911 123456"
		u, m := e.register(t, in)

		if u.Phone != "+447911123456" || u.PhoneVerified || u.EmailVerified {
			t.Errorf("registered phone = %q (verified %v), email verified %v; want +447911123456, both unverified", u.Phone, u.PhoneVerified, u.EmailVerified)
		}
		if stored := e.user(t, u.ID); stored.Phone != "+447911123456" {
			t.Errorf("stored phone = %q, want +447911123456", stored.Phone)
		}
		linkToken(t, m.Link, "/verify-email")
		if !sixDigits.MatchString(m.Code) {
			t.Errorf("code = %q, want 6 digits", m.Code)
		}
		want := identity.Mail{Kind: identity.MailVerifyEmail, To: "alice@example.com", Name: "Alice", ExpiresIn: "10 minutes", ExpiresAt: e.clock.Now().Add(identity.DefaultCodeTTL)}
		if diff := cmp.Diff(want, m, cmpopts.IgnoreFields(identity.Mail{}, "Link", "Code")); diff != "" {
			t.Errorf("verification mail mismatch (-want +got):\n%s", diff)
		}

		_, err := e.svc.Register(t.Context(), identity.RegisterInput{Username: "bob", Email: "bob@example.com", Password: "a decent passphrase", Phone: "12"})
		if diff := cmp.Diff(map[string]string{"phone": "Enter a valid phone number, for example +44 7911 123456."}, asValidation(t, err).Fields); diff != "" {
			t.Errorf("Register(bad phone) fields mismatch (-want +got):\n%s", diff)
		}
	})
}

func TestVerifyEmailByLink(t *testing.T) {
	eachEnv(t, func(t *testing.T, e *env) {
		ctx := t.Context()
		u, m := e.register(t, alice)
		token := linkToken(t, m.Link, "/verify-email")

		got, err := e.svc.VerifyEmailToken(ctx, token)
		if err != nil {
			t.Fatalf("VerifyEmailToken: %v", err)
		}
		if got.ID != u.ID || !got.EmailVerified || !e.user(t, u.ID).EmailVerified {
			t.Errorf("VerifyEmailToken = user %s verified %v; want %s verified, stored", got.ID, got.EmailVerified, u.ID)
		}
		// Used: the link and the code that came with it are spent.
		if _, err := e.svc.VerifyEmailToken(ctx, token); !errors.Is(err, identity.ErrCodeInvalid) {
			t.Errorf("VerifyEmailToken(used) = %v, want ErrCodeInvalid", err)
		}
		if err := e.svc.VerifyEmailCode(ctx, u.ID, m.Code); !errors.Is(err, identity.ErrCodeInvalid) {
			t.Errorf("VerifyEmailCode after the link = %v, want ErrCodeInvalid", err)
		}
		for _, bad := range []string{"", "nonsense", token + "x"} {
			if _, err := e.svc.VerifyEmailToken(ctx, bad); !errors.Is(err, identity.ErrCodeInvalid) {
				t.Errorf("VerifyEmailToken(%q) = %v, want ErrCodeInvalid", bad, err)
			}
		}
		// Verified: asking again sends nothing.
		if err := e.svc.StartEmailVerification(ctx, u.ID); err != nil {
			t.Errorf("StartEmailVerification(verified) = %v, want nil", err)
		}
		e.noMail(t)
	})
}

func TestVerifyEmailByCode(t *testing.T) {
	eachEnv(t, func(t *testing.T, e *env) {
		ctx := t.Context()
		u, m := e.register(t, alice)
		if err := e.svc.VerifyEmailCode(ctx, u.ID, wrongCode(m.Code)); !errors.Is(err, identity.ErrCodeInvalid) {
			t.Fatalf("VerifyEmailCode(wrong) = %v, want ErrCodeInvalid", err)
		}
		if e.user(t, u.ID).EmailVerified {
			t.Fatal("verified by a wrong code")
		}
		// People type codes with a space in the middle.
		if err := e.svc.VerifyEmailCode(ctx, u.ID, m.Code[:3]+" "+m.Code[3:]); err != nil {
			t.Fatalf("VerifyEmailCode: %v", err)
		}
		if !e.user(t, u.ID).EmailVerified {
			t.Error("EmailVerified = false after the right code")
		}
		if err := e.svc.VerifyEmailCode(ctx, u.ID, m.Code); !errors.Is(err, identity.ErrCodeInvalid) {
			t.Errorf("VerifyEmailCode(used) = %v, want ErrCodeInvalid", err)
		}
		if _, err := e.svc.VerifyEmailToken(ctx, linkToken(t, m.Link, "/verify-email")); !errors.Is(err, identity.ErrCodeInvalid) {
			t.Errorf("VerifyEmailToken after the code = %v, want ErrCodeInvalid", err)
		}
	})
}

func TestVerifyEmailCodeAttempts(t *testing.T) {
	eachEnv(t, func(t *testing.T, e *env) {
		ctx := t.Context()
		u, m := e.register(t, alice)
		wrong := wrongCode(m.Code)
		for i := 1; i < identity.MaxCodeAttempts; i++ {
			if err := e.svc.VerifyEmailCode(ctx, u.ID, wrong); !errors.Is(err, identity.ErrCodeInvalid) {
				t.Fatalf("wrong code #%d = %v, want ErrCodeInvalid", i, err)
			}
		}
		// Malformed input is not a guess and does not count.
		if err := e.svc.VerifyEmailCode(ctx, u.ID, "12ab56"); !errors.Is(err, identity.ErrCodeInvalid) {
			t.Fatalf("malformed code = %v, want ErrCodeInvalid", err)
		}
		if err := e.svc.VerifyEmailCode(ctx, u.ID, wrong); !errors.Is(err, identity.ErrTooManyAttempts) {
			t.Fatalf("wrong code #5 = %v, want ErrTooManyAttempts", err)
		}
		// Void now, even for the right code and the link.
		if err := e.svc.VerifyEmailCode(ctx, u.ID, m.Code); !errors.Is(err, identity.ErrTooManyAttempts) {
			t.Errorf("right code after 5 wrong = %v, want ErrTooManyAttempts", err)
		}
		if _, err := e.svc.VerifyEmailToken(ctx, linkToken(t, m.Link, "/verify-email")); !errors.Is(err, identity.ErrCodeInvalid) {
			t.Errorf("link after 5 wrong codes = %v, want ErrCodeInvalid", err)
		}
		if e.user(t, u.ID).EmailVerified {
			t.Fatal("verified by a voided code")
		}
		// A new code, once the cooldown is over, works.
		e.clock.Advance(time.Minute)
		if err := e.svc.StartEmailVerification(ctx, u.ID); err != nil {
			t.Fatalf("StartEmailVerification: %v", err)
		}
		m = e.onlyMail(t, identity.MailVerifyEmail)
		if err := e.svc.VerifyEmailCode(ctx, u.ID, m.Code); err != nil {
			t.Errorf("VerifyEmailCode(new code) = %v", err)
		}
	})
}

func TestVerifyEmailExpiry(t *testing.T) {
	eachEnv(t, func(t *testing.T, e *env) {
		ctx := t.Context()
		u, m := e.register(t, alice)
		e.clock.Advance(10 * time.Minute)
		if err := e.svc.VerifyEmailCode(ctx, u.ID, m.Code); !errors.Is(err, identity.ErrCodeInvalid) {
			t.Errorf("VerifyEmailCode at expiry = %v, want ErrCodeInvalid", err)
		}
		if _, err := e.svc.VerifyEmailToken(ctx, linkToken(t, m.Link, "/verify-email")); !errors.Is(err, identity.ErrCodeInvalid) {
			t.Errorf("VerifyEmailToken at expiry = %v, want ErrCodeInvalid", err)
		}

		bob, m := e.register(t, identity.RegisterInput{Username: "bob", Email: "bob@example.com", Password: "a decent passphrase"})
		e.clock.Advance(10*time.Minute - time.Second)
		if err := e.svc.VerifyEmailCode(ctx, bob.ID, m.Code); err != nil {
			t.Errorf("VerifyEmailCode a second before expiry = %v", err)
		}
	})
}

func TestEmailVerificationCooldown(t *testing.T) {
	eachEnv(t, func(t *testing.T, e *env) {
		ctx := t.Context()
		u, first := e.register(t, alice)

		var ce *identity.CooldownError
		if err := e.svc.StartEmailVerification(ctx, u.ID); !errors.As(err, &ce) || ce.RetryAfter != time.Minute {
			t.Fatalf("StartEmailVerification at once = %v, want a CooldownError of 1m", err)
		}
		e.clock.Advance(45 * time.Second)
		if err := e.svc.StartEmailVerification(ctx, u.ID); !errors.As(err, &ce) || ce.RetryAfter != 15*time.Second {
			t.Fatalf("StartEmailVerification after 45s = %v, want a CooldownError of 15s", err)
		}
		e.noMail(t)

		e.clock.Advance(15 * time.Second)
		if err := e.svc.StartEmailVerification(ctx, u.ID); err != nil {
			t.Fatalf("StartEmailVerification after the cooldown: %v", err)
		}
		second := e.onlyMail(t, identity.MailVerifyEmail)
		// The new code replaced the first one (unless they happen to match).
		if first.Code != second.Code {
			if err := e.svc.VerifyEmailCode(ctx, u.ID, first.Code); !errors.Is(err, identity.ErrCodeInvalid) {
				t.Errorf("VerifyEmailCode(replaced code) = %v, want ErrCodeInvalid", err)
			}
		}
		if _, err := e.svc.VerifyEmailToken(ctx, linkToken(t, first.Link, "/verify-email")); !errors.Is(err, identity.ErrCodeInvalid) {
			t.Errorf("VerifyEmailToken(replaced link) = %v, want ErrCodeInvalid", err)
		}
		if err := e.svc.VerifyEmailCode(ctx, u.ID, second.Code); err != nil {
			t.Errorf("VerifyEmailCode(new code) = %v", err)
		}
	})
}

// A message that cannot be queued leaves no token behind, so the user may
// ask again at once.
func TestEmailVerificationQueueFailure(t *testing.T) {
	eachEnv(t, func(t *testing.T, e *env) {
		ctx := t.Context()
		e.notifier.Err = errors.New("queue down")
		u := mustRegister(t, e.svc, alice) // Register still succeeds
		if err := e.svc.StartEmailVerification(ctx, u.ID); err == nil || errors.As(err, new(*identity.CooldownError)) {
			t.Fatalf("StartEmailVerification with the queue down = %v, want the queue error", err)
		}
		e.notifier.Err = nil
		if err := e.svc.StartEmailVerification(ctx, u.ID); err != nil {
			t.Fatalf("StartEmailVerification after the queue recovered: %v", err)
		}
		e.onlyMail(t, identity.MailVerifyEmail)
	})
}

func TestChangeEmail(t *testing.T) {
	for _, via := range []string{"code", "link", "confirm link"} {
		t.Run(via, func(t *testing.T) {
			eachEnv(t, func(t *testing.T, e *env) {
				ctx := t.Context()
				u, m := e.register(t, alice)
				if err := e.svc.VerifyEmailCode(ctx, u.ID, m.Code); err != nil {
					t.Fatal(err)
				}
				if err := e.svc.ChangeEmail(ctx, u.ID, " Alice.New@Example.ORG "); err != nil {
					t.Fatalf("ChangeEmail: %v", err)
				}
				mails := e.notifier.Mails()
				if len(mails) != 2 {
					t.Fatalf("mails = %+v, want a confirmation and a notice", mails)
				}
				confirm, notice := mails[0], mails[1]
				want := identity.Mail{Kind: identity.MailConfirmEmailChange, To: "Alice.New@example.org", Name: "Alice", NewEmail: "Alice.New@example.org", ExpiresIn: "10 minutes", ExpiresAt: e.clock.Now().Add(identity.DefaultCodeTTL)}
				if diff := cmp.Diff(want, confirm, cmpopts.IgnoreFields(identity.Mail{}, "Link", "Code")); diff != "" {
					t.Errorf("confirmation mismatch (-want +got):\n%s", diff)
				}
				wantNotice := identity.Mail{Kind: identity.MailEmailChangeRequested, To: "alice@example.com", Name: "Alice", NewEmail: "Alice.New@example.org"}
				if diff := cmp.Diff(wantNotice, notice); diff != "" {
					t.Errorf("notice to the old address mismatch (-want +got):\n%s", diff)
				}

				// Until confirmed, the old address stays, verified, and
				// signs in.
				if got := e.user(t, u.ID); got.Email != "alice@example.com" || !got.EmailVerified {
					t.Errorf("before confirming: email %q verified %v; want the old one, verified", got.Email, got.EmailVerified)
				}
				if _, ok, _ := e.svc.Authenticate(ctx, "alice@example.com", alice.Password); !ok {
					t.Error("old address no longer signs in before the change is confirmed")
				}
				if pe, _, err := e.svc.PendingContact(ctx, u.ID); err != nil || pe != "Alice.New@example.org" {
					t.Errorf("PendingContact = %q, %v; want the new address", pe, err)
				}

				switch via {
				case "code":
					if err := e.svc.ConfirmEmailChangeCode(ctx, u.ID, wrongCode(confirm.Code)); !errors.Is(err, identity.ErrCodeInvalid) {
						t.Errorf("ConfirmEmailChangeCode(wrong) = %v, want ErrCodeInvalid", err)
					}
					if err := e.svc.ConfirmEmailChangeCode(ctx, u.ID, confirm.Code); err != nil {
						t.Fatalf("ConfirmEmailChangeCode: %v", err)
					}
				case "link":
					got, err := e.svc.VerifyEmailToken(ctx, linkToken(t, confirm.Link, "/verify-email"))
					if err != nil || got.Email != "Alice.New@example.org" {
						t.Fatalf("VerifyEmailToken(change link) = %v, %v", got, err)
					}
				case "confirm link":
					if _, err := e.svc.ConfirmEmailChangeToken(ctx, linkToken(t, confirm.Link, "/verify-email")); err != nil {
						t.Fatalf("ConfirmEmailChangeToken: %v", err)
					}
				}
				if got := e.user(t, u.ID); got.Email != "Alice.New@example.org" || !got.EmailVerified {
					t.Errorf("after confirming: email %q verified %v; want the new one, verified", got.Email, got.EmailVerified)
				}
				changed := e.onlyMail(t, identity.MailEmailChanged)
				if changed.To != "alice@example.com" || changed.NewEmail != "Alice.New@example.org" {
					t.Errorf("change notice to %q about %q, want to the old address about the new", changed.To, changed.NewEmail)
				}
				if _, ok, _ := e.svc.Authenticate(ctx, "alice.new@example.org", alice.Password); !ok {
					t.Error("new address does not sign in")
				}
				if pe, _, _ := e.svc.PendingContact(ctx, u.ID); pe != "" {
					t.Errorf("PendingContact after confirming = %q, want none", pe)
				}
				if err := e.svc.ConfirmEmailChangeCode(ctx, u.ID, confirm.Code); !errors.Is(err, identity.ErrCodeInvalid) {
					t.Errorf("ConfirmEmailChangeCode(used) = %v, want ErrCodeInvalid", err)
				}
			})
		})
	}
}

func TestChangeEmailInvalid(t *testing.T) {
	eachEnv(t, func(t *testing.T, e *env) {
		u, _ := e.register(t, alice)
		mustRegister(t, e.svc, identity.RegisterInput{Username: "bob", Email: "bob@example.com", Password: "a decent passphrase"})
		e.notifier.Mails()
		for _, tc := range []struct{ in, want string }{
			{"not an address", "Enter an e-mail address in the form name@example.com."},
			{"", "Enter your e-mail address."},
			{"ALICE@example.com", "This is already your e-mail address."},
			{"Bob@Example.com", "Another account already uses this e-mail address."},
		} {
			err := e.svc.ChangeEmail(t.Context(), u.ID, tc.in)
			if diff := cmp.Diff(map[string]string{"email": tc.want}, asValidation(t, err).Fields); diff != "" {
				t.Errorf("ChangeEmail(%q) fields mismatch (-want +got):\n%s", tc.in, diff)
			}
		}
		e.noMail(t)
	})
}

// The new address was free when the change began but another account took
// it before the confirmation: the change fails and nothing moves.
func TestConfirmEmailChangeTakenMeanwhile(t *testing.T) {
	eachEnv(t, func(t *testing.T, e *env) {
		ctx := t.Context()
		u, _ := e.register(t, alice)
		if err := e.svc.ChangeEmail(ctx, u.ID, "shared@example.com"); err != nil {
			t.Fatalf("ChangeEmail: %v", err)
		}
		confirm := e.notifier.Mails()[0]
		mustRegister(t, e.svc, identity.RegisterInput{Username: "bob", Email: "shared@example.com", Password: "a decent passphrase"})
		e.notifier.Mails()

		err := e.svc.ConfirmEmailChangeCode(ctx, u.ID, confirm.Code)
		if diff := cmp.Diff(map[string]string{"email": "Another account already uses this e-mail address."}, asValidation(t, err).Fields); diff != "" {
			t.Errorf("ConfirmEmailChangeCode fields mismatch (-want +got):\n%s", diff)
		}
		if _, err := e.svc.ConfirmEmailChangeToken(ctx, linkToken(t, confirm.Link, "/verify-email")); asValidation(t, err).Fields["email"] == "" {
			t.Errorf("ConfirmEmailChangeToken = %v, want an email field error", err)
		}
		if got := e.user(t, u.ID); got.Email != "alice@example.com" {
			t.Errorf("email after the failed confirmation = %q, want the old one", got.Email)
		}
		e.noMail(t)
	})
}

// Codes and links are stored only as keyed hashes, and nothing is issued
// without a key long enough.
func TestTokensStoredAsKeyedHashes(t *testing.T) {
	eachEnv(t, func(t *testing.T, e *env) {
		u, m := e.register(t, alice)
		tok, err := e.svc.Tokens.GetToken(t.Context(), u.ID, identity.PurposeVerifyEmail)
		if err != nil {
			t.Fatalf("GetToken: %v", err)
		}
		link := linkToken(t, m.Link, "/verify-email")
		plain := sha256.Sum256([]byte(m.Code))
		for _, h := range []string{tok.CodeHash, tok.TokenHash} {
			if len(h) != 64 || strings.Contains(h, m.Code) || strings.Contains(h, link) || h == hex.EncodeToString(plain[:]) {
				t.Errorf("stored hash %q reveals the secret or is unkeyed", h)
			}
		}
		if tok.Target != "alice@example.com" || !tok.ExpiresAt.Equal(testNow.Add(10*time.Minute)) {
			t.Errorf("token target %q expiry %v, want alice@example.com, %v", tok.Target, tok.ExpiresAt, testNow.Add(10*time.Minute))
		}

		e.clock.Advance(time.Minute)
		e.svc.TokenKey = []byte("too short")
		if err := e.svc.StartEmailVerification(t.Context(), u.ID); err == nil || !strings.Contains(err.Error(), "TokenKey") {
			t.Errorf("StartEmailVerification with a short key = %v, want an error naming TokenKey", err)
		}
		e.noMail(t)
	})
}
