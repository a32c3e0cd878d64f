package authflow

import (
	"slices"
	"testing"

	"github.com/google/go-cmp/cmp"

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
