package authflow

import (
	"context"
	"slices"
	"testing"

	"github.com/google/go-cmp/cmp"

	"gatehouse/identity"
	"gatehouse/identity/mfa"
)

// TestMethodsOf: a session's amr reads back as the methods it used, so
// that the policy sees a recovery-code sign-in as two factors, and the
// amr of those methods is the session's again.
func TestMethodsOf(t *testing.T) {
	pwd, totp, recovery := mfa.Method{Kind: mfa.MethodPassword}, mfa.Method{Kind: mfa.MethodTOTP}, mfa.Method{Kind: mfa.MethodRecoveryCode}
	tests := []struct {
		amr  []string
		want []mfa.Method
	}{
		{nil, nil},
		{[]string{"pwd"}, []mfa.Method{pwd}},
		{[]string{"pwd", "otp", "mfa"}, []mfa.Method{pwd, totp}},
		{[]string{"pwd", "mfa"}, []mfa.Method{pwd, recovery}},
		{[]string{"pwd", "email", "mfa"}, []mfa.Method{pwd, {Kind: mfa.MethodEmailCode}}},
		{[]string{"pwd", "sms", "mfa"}, []mfa.Method{pwd, {Kind: mfa.MethodSMSCode}}},
		{[]string{"pwd", "swk", "user", "mfa"}, []mfa.Method{pwd, {Kind: mfa.MethodPasskey, UserVerified: true}}},
		{[]string{"pwd", "swk", "mfa"}, []mfa.Method{pwd, {Kind: mfa.MethodPasskey}}},
		{[]string{"swk", "user", "mfa"}, []mfa.Method{{Kind: mfa.MethodPasskey, UserVerified: true}}},
		{[]string{"hwk", "user", "mfa"}, []mfa.Method{{Kind: mfa.MethodPasskey, UserVerified: true, HardwareBound: true}}},
	}
	for _, tc := range tests {
		got := methodsOf(tc.amr)
		if diff := cmp.Diff(tc.want, got); diff != "" {
			t.Errorf("methodsOf(%q) mismatch (-want +got):\n%s", tc.amr, diff)
		}
		if tc.amr != nil {
			// A passkey session meets acr phr without a new challenge.
			if slices.Contains(tc.amr, "swk") && mfa.ACR(got) != mfa.ACRPhishingResistant {
				t.Errorf("ACR(methodsOf(%q)) = %q, want phr", tc.amr, mfa.ACR(got))
			}
			if diff := cmp.Diff(tc.amr, mfa.AMR(got)); diff != "" {
				t.Errorf("AMR(methodsOf(%q)) mismatch (-want +got):\n%s", tc.amr, diff)
			}
		}
	}
}

// codeSender is a CodeSender that sends and accepts nothing.
type codeSender struct{}

func (codeSender) SendSignInCode(context.Context, string, identity.CodeChannel, string) error {
	return identity.ErrNoChannel
}

func (codeSender) CheckSignInCode(context.Context, string, identity.CodeChannel, string, string) error {
	return identity.ErrNoChannel
}

// TestReachable: a code kind reaches a user only with a verified address
// or number and a deployment that delivers it; an unverified or removed
// one takes the kind away, and so the factor (see mfa.Decide).
func TestReachable(t *testing.T) {
	both := []mfa.Kind{mfa.KindEmail, mfa.KindSMS}
	verified := &identity.User{Email: "a@example.com", EmailVerified: true, Phone: "+447911123456", PhoneVerified: true}
	for _, tc := range []struct {
		name string
		h    Handler
		user *identity.User
		want []mfa.Kind
	}{
		{"both verified and delivered", Handler{Codes: codeSender{}, CodeKinds: both}, verified, both},
		{"only e-mail delivered", Handler{Codes: codeSender{}, CodeKinds: []mfa.Kind{mfa.KindEmail}}, verified, []mfa.Kind{mfa.KindEmail}},
		{"no sender", Handler{CodeKinds: both}, verified, nil},
		{"address not verified", Handler{Codes: codeSender{}, CodeKinds: both},
			&identity.User{Email: "a@example.com", Phone: "+447911123456", PhoneVerified: true}, []mfa.Kind{mfa.KindSMS}},
		{"number removed", Handler{Codes: codeSender{}, CodeKinds: both},
			&identity.User{Email: "a@example.com", EmailVerified: true, PhoneVerified: true}, []mfa.Kind{mfa.KindEmail}},
		{"no user", Handler{Codes: codeSender{}, CodeKinds: both}, nil, nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if diff := cmp.Diff(tc.want, tc.h.reachable(tc.user)); diff != "" {
				t.Errorf("reachable mismatch (-want +got):\n%s", diff)
			}
		})
	}
}
