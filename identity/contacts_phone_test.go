package identity_test

import (
	"errors"
	"fmt"
	"testing"

	"github.com/google/go-cmp/cmp"

	"gatehouse/identity"
)

const (
	msgPhoneInvalid = "Enter a valid phone number, for example +44 7911 123456."
	msgPhoneCountry = "Enter the phone number with its country code, for example +44 7911 123456."
	msgPhoneEnter   = "Enter a phone number."
	msgPhoneNoText  = "This number cannot receive text messages. Enter a mobile number."
)

func TestNormalizePhone(t *testing.T) {
	tests := []struct {
		name, raw, region string
		want              string // empty: rejected with wantMsg
		wantMsg           string
	}{
		{"national with region", "07911 123456", "GB", "+447911123456", ""},
		{"national, region in lower case", "07911 123456", "gb", "+447911123456", ""},
		{"national with punctuation", "(202) 555-0143", "US", "+12025550143", ""},
		{"E.164", "+447911123456", "", "+447911123456", ""},
		{"international with spaces and (0)", "+44 (0)7911-123456", "", "+447911123456", ""},
		{"international ignores the region", "+33 6 12 34 56 78", "GB", "+33612345678", ""},
		{"landline is a phone number", "020 7946 0000", "GB", "+442079460000", ""},
		{"national without region", "07911 123456", "", "", msgPhoneCountry},
		{"garbage", "call me maybe", "GB", "", msgPhoneInvalid},
		{"too short", "12", "GB", "", msgPhoneInvalid},
		{"too long", "+44 7911 123456 7911 123456 7911 123456 7911", "", "", msgPhoneInvalid},
		{"extension", "+447911123456 ext. 12", "", "", msgPhoneInvalid},
		{"empty", "  ", "GB", "", msgPhoneEnter},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got, err := identity.NormalizePhone(tc.raw, tc.region)
			if tc.want != "" {
				if err != nil || got != tc.want {
					t.Errorf("NormalizePhone(%q, %q) = %q, %v; want %q", tc.raw, tc.region, got, err, tc.want)
				}
				return
			}
			if diff := cmp.Diff(map[string]string{"phone": tc.wantMsg}, asValidation(t, err).Fields); diff != "" {
				t.Errorf("NormalizePhone(%q, %q) fields mismatch (-want +got):\n%s", tc.raw, tc.region, diff)
			}
		})
	}
}

func TestPhoneVerification(t *testing.T) {
	eachEnv(t, func(t *testing.T, e *env) {
		ctx := t.Context()
		u, _ := e.register(t, alice)

		for _, tc := range []struct{ raw, want string }{
			{"hello", msgPhoneInvalid},
			{"020 7946 0000", msgPhoneNoText},
			{"0800 123 4567", msgPhoneNoText},
			{"", msgPhoneEnter},
		} {
			err := e.svc.StartPhoneVerification(ctx, u.ID, tc.raw)
			if diff := cmp.Diff(map[string]string{"phone": tc.want}, asValidation(t, err).Fields); diff != "" {
				t.Errorf("StartPhoneVerification(%q) fields mismatch (-want +got):\n%s", tc.raw, diff)
			}
		}
		e.noMail(t)

		if err := e.svc.StartPhoneVerification(ctx, u.ID, "07911 123456"); err != nil {
			t.Fatalf("StartPhoneVerification: %v", err)
		}
		texts := e.notifier.Texts()
		if len(texts) != 1 || texts[0].To != "+447911123456" {
			t.Fatalf("texts = %+v, want one to +447911123456", texts)
		}
		var code string
		if _, err := fmt.Sscanf(texts[0].Text, "Your Gatehouse verification code is %6s", &code); err != nil || !sixDigits.MatchString(code) {
			t.Fatalf("text %q carries no code (%v)", texts[0].Text, err)
		}
		if want := "Your Gatehouse verification code is " + code + ". It expires in 10 minutes."; texts[0].Text != want {
			t.Errorf("text = %q, want %q", texts[0].Text, want)
		}
		if want := e.clock.Now().Add(identity.DefaultCodeTTL); !texts[0].ExpiresAt.Equal(want) {
			t.Errorf("text expires at %v, want with its code at %v", texts[0].ExpiresAt, want)
		}
		if _, pp, _ := e.svc.PendingContact(ctx, u.ID); pp != "+447911123456" {
			t.Errorf("PendingContact phone = %q, want +447911123456", pp)
		}
		if got := e.user(t, u.ID); got.Phone != "" {
			t.Errorf("phone before verification = %q, want none", got.Phone)
		}

		var ce *identity.CooldownError
		if err := e.svc.StartPhoneVerification(ctx, u.ID, "+447911123456"); !errors.As(err, &ce) {
			t.Errorf("StartPhoneVerification again at once = %v, want a CooldownError", err)
		}
		if err := e.svc.VerifyPhoneCode(ctx, u.ID, wrongCode(code)); !errors.Is(err, identity.ErrCodeInvalid) {
			t.Errorf("VerifyPhoneCode(wrong) = %v, want ErrCodeInvalid", err)
		}
		// The e-mail code of another purpose is no phone code.
		if err := e.svc.VerifyEmailCode(ctx, u.ID, code); !errors.Is(err, identity.ErrCodeInvalid) {
			t.Errorf("VerifyEmailCode(phone code) = %v, want ErrCodeInvalid", err)
		}
		if err := e.svc.VerifyPhoneCode(ctx, u.ID, code); err != nil {
			t.Fatalf("VerifyPhoneCode: %v", err)
		}
		if got := e.user(t, u.ID); got.Phone != "+447911123456" || !got.PhoneVerified {
			t.Errorf("after verification: phone %q verified %v; want +447911123456, verified", got.Phone, got.PhoneVerified)
		}
		if err := e.svc.VerifyPhoneCode(ctx, u.ID, code); !errors.Is(err, identity.ErrCodeInvalid) {
			t.Errorf("VerifyPhoneCode(used) = %v, want ErrCodeInvalid", err)
		}
		err := e.svc.StartPhoneVerification(ctx, u.ID, "07911 123456")
		if diff := cmp.Diff(map[string]string{"phone": "This number is already verified on your account."}, asValidation(t, err).Fields); diff != "" {
			t.Errorf("StartPhoneVerification(verified number) fields mismatch (-want +got):\n%s", diff)
		}
	})
}
