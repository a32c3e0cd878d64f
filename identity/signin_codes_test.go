package identity_test

import (
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"gatehouse/identity"
)

// findersOnly hides every method of a store but UserFinder's, the slice
// SignInCodes needs.
type findersOnly struct{ identity.UserFinder }

// signInCodes is the SignInCodes part over e's Core and store (only its
// slice of it), and a user of alice's with a verified address.
func signInCodes(t *testing.T, e *env) (*identity.SignInCodes, *identity.User) {
	t.Helper()
	u, m := e.register(t, alice)
	if err := e.svc.VerifyEmailCode(t.Context(), u.ID, m.Code); err != nil {
		t.Fatalf("VerifyEmailCode: %v", err)
	}
	return &identity.SignInCodes{Core: e.svc.Core, Users: findersOnly{e.svc.Users}, ProductName: "Gatehouse"}, e.user(t, u.ID)
}

// TestSignInCodeByEmail: a code goes to the verified address, works once,
// only in the sign-in it was sent for, only within CodeTTL, and not again
// within the cooldown.
func TestSignInCodeByEmail(t *testing.T) {
	eachEnv(t, func(t *testing.T, e *env) {
		ctx := t.Context()
		s, u := signInCodes(t, e)
		const flowA, flowB = "flow-a", "flow-b"
		if err := s.SendSignInCode(ctx, u.ID, identity.ChannelEmail, flowA); err != nil {
			t.Fatalf("SendSignInCode: %v", err)
		}
		m := e.onlyMail(t, identity.MailSignInCode)
		if m.To != u.Email || !sixDigits.MatchString(m.Code) || m.ExpiresIn != "10 minutes" ||
			!m.ExpiresAt.Equal(e.clock.Now().Add(identity.DefaultCodeTTL)) {
			t.Fatalf("sign-in mail = %+v", m)
		}
		var ce *identity.CooldownError
		if err := s.SendSignInCode(ctx, u.ID, identity.ChannelEmail, flowA); !errors.As(err, &ce) || ce.RetryAfter != time.Minute {
			t.Errorf("SendSignInCode again at once = %v, want a CooldownError of a minute", err)
		}
		e.noMail(t)
		if err := s.CheckSignInCode(ctx, u.ID, identity.ChannelEmail, flowB, m.Code); !errors.Is(err, identity.ErrCodeInvalid) {
			t.Errorf("the code in another sign-in = %v, want ErrCodeInvalid", err)
		}
		if err := s.CheckSignInCode(ctx, u.ID, identity.ChannelSMS, flowA, m.Code); !errors.Is(err, identity.ErrNoChannel) {
			t.Errorf("the code by SMS without a verified number = %v, want ErrNoChannel", err)
		}
		// The verification code purpose does not take it either.
		if err := e.svc.VerifyEmailCode(ctx, u.ID, m.Code); !errors.Is(err, identity.ErrCodeInvalid) {
			t.Errorf("VerifyEmailCode(sign-in code) = %v, want ErrCodeInvalid", err)
		}
		if err := s.CheckSignInCode(ctx, u.ID, identity.ChannelEmail, flowA, m.Code); err != nil {
			t.Fatalf("CheckSignInCode: %v", err)
		}
		if err := s.CheckSignInCode(ctx, u.ID, identity.ChannelEmail, flowA, m.Code); !errors.Is(err, identity.ErrCodeInvalid) {
			t.Errorf("the code again = %v, want ErrCodeInvalid", err)
		}

		e.clock.Advance(time.Minute)
		if err := s.SendSignInCode(ctx, u.ID, identity.ChannelEmail, flowB); err != nil {
			t.Fatalf("SendSignInCode after the cooldown: %v", err)
		}
		late := e.onlyMail(t, identity.MailSignInCode)
		e.clock.Advance(identity.DefaultCodeTTL)
		if err := s.CheckSignInCode(ctx, u.ID, identity.ChannelEmail, flowB, late.Code); !errors.Is(err, identity.ErrCodeInvalid) {
			t.Errorf("an expired code = %v, want ErrCodeInvalid", err)
		}

		// A code sent to an address the user no longer has is void.
		if err := s.SendSignInCode(ctx, u.ID, identity.ChannelEmail, flowA); err != nil {
			t.Fatal(err)
		}
		old := e.onlyMail(t, identity.MailSignInCode)
		if err := e.svc.Users.SetEmail(ctx, u.ID, "alice@new.example", e.clock.Now()); err != nil {
			t.Fatal(err)
		}
		if err := s.CheckSignInCode(ctx, u.ID, identity.ChannelEmail, flowA, old.Code); !errors.Is(err, identity.ErrCodeInvalid) {
			t.Errorf("a code sent to the old address = %v, want ErrCodeInvalid", err)
		}
	})
}

// TestSignInCodeAttempts: the fifth wrong code voids the code; then even
// the right one fails. Without a verified address nothing is sent.
func TestSignInCodeAttempts(t *testing.T) {
	eachEnv(t, func(t *testing.T, e *env) {
		ctx := t.Context()
		s, u := signInCodes(t, e)
		if err := s.SendSignInCode(ctx, u.ID, identity.ChannelSMS, "f"); !errors.Is(err, identity.ErrNoChannel) {
			t.Errorf("SendSignInCode by SMS without a number = %v, want ErrNoChannel", err)
		}
		e.noMail(t)
		if err := s.SendSignInCode(ctx, u.ID, identity.ChannelEmail, "f"); err != nil {
			t.Fatal(err)
		}
		code := e.onlyMail(t, identity.MailSignInCode).Code
		for i := 1; i <= identity.MaxCodeAttempts; i++ {
			err := s.CheckSignInCode(ctx, u.ID, identity.ChannelEmail, "f", wrongCode(code))
			want := identity.ErrCodeInvalid
			if i == identity.MaxCodeAttempts {
				want = identity.ErrTooManyAttempts
			}
			if !errors.Is(err, want) {
				t.Fatalf("wrong code %d = %v, want %v", i, err, want)
			}
		}
		if err := s.CheckSignInCode(ctx, u.ID, identity.ChannelEmail, "f", code); !errors.Is(err, identity.ErrTooManyAttempts) {
			t.Errorf("the right code after five wrong ones = %v, want ErrTooManyAttempts", err)
		}
	})
}

// TestSignInCodeBySMS: a code goes to the verified number in one short
// text.
func TestSignInCodeBySMS(t *testing.T) {
	eachEnv(t, func(t *testing.T, e *env) {
		ctx := t.Context()
		s, u := signInCodes(t, e)
		if err := e.svc.StartPhoneVerification(ctx, u.ID, "07911 123456"); err != nil {
			t.Fatal(err)
		}
		var verify string
		fmt.Sscanf(e.notifier.Texts()[0].Text, "Your Gatehouse verification code is %6s", &verify)
		if err := e.svc.VerifyPhoneCode(ctx, u.ID, verify); err != nil {
			t.Fatal(err)
		}
		if err := s.SendSignInCode(ctx, u.ID, identity.ChannelSMS, "f"); err != nil {
			t.Fatal(err)
		}
		texts := e.notifier.Texts()
		if len(texts) != 1 || texts[0].To != "+447911123456" {
			t.Fatalf("texts = %+v, want one to +447911123456", texts)
		}
		var code string
		fmt.Sscanf(texts[0].Text, "Your Gatehouse sign-in code is %6s", &code)
		if want := "Your Gatehouse sign-in code is " + code + ". It expires in 10 minutes. Never share it."; texts[0].Text != want || len(want) > 160 {
			t.Errorf("text = %q, want %q", texts[0].Text, want)
		}
		if strings.Contains(code, ".") || !sixDigits.MatchString(code) {
			t.Fatalf("no code in %q", texts[0].Text)
		}
		if err := s.CheckSignInCode(ctx, u.ID, identity.ChannelEmail, "f", code); !errors.Is(err, identity.ErrCodeInvalid) {
			t.Errorf("the SMS code as an e-mail code = %v, want ErrCodeInvalid", err)
		}
		if err := s.CheckSignInCode(ctx, u.ID, identity.ChannelSMS, "f", code); err != nil {
			t.Errorf("CheckSignInCode(sms): %v", err)
		}
	})
}

// TestSignInCodeRace: one code sent in by several requests at once is
// accepted once.
func TestSignInCodeRace(t *testing.T) {
	eachEnv(t, func(t *testing.T, e *env) {
		ctx := t.Context()
		s, u := signInCodes(t, e)
		if err := s.SendSignInCode(ctx, u.ID, identity.ChannelEmail, "f"); err != nil {
			t.Fatal(err)
		}
		code := e.onlyMail(t, identity.MailSignInCode).Code
		const n = 4
		results := make(chan error, n)
		start := make(chan struct{})
		for range n {
			go func() {
				<-start
				results <- s.CheckSignInCode(ctx, u.ID, identity.ChannelEmail, "f", code)
			}()
		}
		close(start)
		accepted := 0
		for range n {
			switch err := <-results; {
			case err == nil:
				accepted++
			case !errors.Is(err, identity.ErrCodeInvalid):
				t.Errorf("a racing check failed with %v, want ErrCodeInvalid", err)
			}
		}
		if accepted != 1 {
			t.Errorf("the code was accepted %d times, want once", accepted)
		}
	})
}
