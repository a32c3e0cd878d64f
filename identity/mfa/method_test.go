package mfa_test

import (
	"testing"

	"github.com/google/go-cmp/cmp"

	"gatehouse/identity/mfa"
)

var (
	pwd      = mfa.Method{Kind: mfa.MethodPassword}
	otpCode  = mfa.Method{Kind: mfa.MethodTOTP}
	recovery = mfa.Method{Kind: mfa.MethodRecoveryCode}
	email    = mfa.Method{Kind: mfa.MethodEmailCode}
	sms      = mfa.Method{Kind: mfa.MethodSMSCode}
	// Passkeys: software or hardware-bound, with or without user
	// verification.
	swkPresent = mfa.Method{Kind: mfa.MethodPasskey}
	swkUV      = mfa.Method{Kind: mfa.MethodPasskey, UserVerified: true}
	hwkUV      = mfa.Method{Kind: mfa.MethodPasskey, UserVerified: true, HardwareBound: true}
)

// TestAMRAndACR: RFC 8176 amr values and the acr achieved for each way of
// signing in.
func TestAMRAndACR(t *testing.T) {
	for _, tc := range []struct {
		name    string
		used    []mfa.Method
		wantAMR []string
		wantACR string
	}{
		{"nothing", nil, nil, mfa.ACRSingleFactor},
		{"password", []mfa.Method{pwd}, []string{"pwd"}, mfa.ACRSingleFactor},
		{"password and TOTP", []mfa.Method{pwd, otpCode}, []string{"pwd", "otp", "mfa"}, mfa.ACRMultiFactor},
		{"password and recovery code", []mfa.Method{pwd, recovery}, []string{"pwd", "mfa"}, mfa.ACRMultiFactor},
		{"password and SMS code", []mfa.Method{pwd, sms}, []string{"pwd", "sms", "mfa"}, mfa.ACRMultiFactor},
		{"password and e-mail code", []mfa.Method{pwd, email}, []string{"pwd", "email", "mfa"}, mfa.ACRMultiFactor},
		{"password twice", []mfa.Method{pwd, pwd}, []string{"pwd"}, mfa.ACRSingleFactor},
		{"passkey without user verification", []mfa.Method{swkPresent}, []string{"swk"}, mfa.ACRPhishingResistant},
		{"user-verified passkey", []mfa.Method{swkUV}, []string{"swk", "user", "mfa"}, mfa.ACRPhishingResistant},
		{"hardware-bound passkey", []mfa.Method{hwkUV}, []string{"hwk", "user", "mfa"}, mfa.ACRPhishingResistantHardware},
		{"password and passkey", []mfa.Method{pwd, swkPresent}, []string{"pwd", "swk", "mfa"}, mfa.ACRPhishingResistant},
		{"password, TOTP and hardware passkey", []mfa.Method{pwd, otpCode, hwkUV},
			[]string{"pwd", "otp", "hwk", "user", "mfa"}, mfa.ACRPhishingResistantHardware},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if diff := cmp.Diff(tc.wantAMR, mfa.AMR(tc.used)); diff != "" {
				t.Errorf("AMR mismatch (-want +got):\n%s", diff)
			}
			if got := mfa.ACR(tc.used); got != tc.wantACR {
				t.Errorf("ACR = %q, want %q", got, tc.wantACR)
			}
		})
	}
}
