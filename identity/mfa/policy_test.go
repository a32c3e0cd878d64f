package mfa_test

import (
	"testing"

	"github.com/google/go-cmp/cmp"

	"gatehouse/identity/mfa"
)

func TestDecide(t *testing.T) {
	totpFactor := mfa.Factor{Kind: mfa.KindTOTP}
	passkey := mfa.Factor{Kind: mfa.KindWebAuthn, WebAuthn: &mfa.WebAuthnCredential{}}
	hardwareKey := mfa.Factor{Kind: mfa.KindWebAuthn, WebAuthn: &mfa.WebAuthnCredential{HardwareBound: true}}
	both := []mfa.Kind{mfa.KindWebAuthn, mfa.KindTOTP}
	onlyTOTP := []mfa.Kind{mfa.KindTOTP}
	multi := []string{mfa.ACRMultiFactor}
	phr := []string{mfa.ACRPhishingResistant}
	phrh := []string{mfa.ACRPhishingResistantHardware}
	emailFactor := mfa.Factor{Kind: mfa.KindEmail}
	smsFactor := mfa.Factor{Kind: mfa.KindSMS}
	reachEmail := []mfa.Kind{mfa.KindEmail}
	reachBoth := []mfa.Kind{mfa.KindEmail, mfa.KindSMS}
	decision := func(o mfa.Outcome, offer ...mfa.Kind) mfa.Decision { return mfa.Decision{Outcome: o, Offer: offer} }

	for _, tc := range []struct {
		name string
		in   mfa.Input
		want mfa.Decision
	}{
		{"no factor, nothing asked",
			mfa.Input{Used: []mfa.Method{pwd}, Enrollable: both},
			decision(mfa.Satisfied)},
		{"unknown acr values are ignored",
			mfa.Input{ACRValues: []string{"0", "urn:example:gold"}, Used: []mfa.Method{pwd}, Enrollable: both},
			decision(mfa.Satisfied)},
		{"a user with TOTP is always challenged",
			mfa.Input{Factors: []mfa.Factor{totpFactor}, Used: []mfa.Method{pwd}, Enrollable: both},
			decision(mfa.Challenge, mfa.KindTOTP)},
		{"challenge offers passkeys first",
			mfa.Input{Factors: []mfa.Factor{totpFactor, passkey}, Used: []mfa.Method{pwd}, Enrollable: both},
			decision(mfa.Challenge, mfa.KindWebAuthn, mfa.KindTOTP)},
		{"password and TOTP done",
			mfa.Input{Factors: []mfa.Factor{totpFactor}, ACRValues: multi, Used: []mfa.Method{pwd, otpCode}},
			decision(mfa.Satisfied)},
		{"password and recovery code done",
			mfa.Input{Factors: []mfa.Factor{totpFactor}, Required: true, Used: []mfa.Method{pwd, recovery}},
			decision(mfa.Satisfied)},
		{"user-verified passkey alone done",
			mfa.Input{Factors: []mfa.Factor{passkey, totpFactor}, ACRValues: multi, Used: []mfa.Method{swkUV}},
			decision(mfa.Satisfied)},
		{"passkey without user verification needs another factor",
			mfa.Input{Factors: []mfa.Factor{passkey, totpFactor}, Used: []mfa.Method{swkPresent}},
			decision(mfa.Challenge, mfa.KindWebAuthn, mfa.KindTOTP)},
		{"RP asks multi-factor, user has none: enrol",
			mfa.Input{ACRValues: multi, Used: []mfa.Method{pwd}, Enrollable: both},
			decision(mfa.Enrol, mfa.KindWebAuthn, mfa.KindTOTP)},
		{"configuration requires MFA, user has none: enrol",
			mfa.Input{Required: true, Used: []mfa.Method{pwd}, Enrollable: onlyTOTP},
			decision(mfa.Enrol, mfa.KindTOTP)},
		{"nothing enrollable: unmet",
			mfa.Input{Required: true, Used: []mfa.Method{pwd}},
			decision(mfa.Unmet)},
		{"phr with TOTP only: enrol a passkey",
			mfa.Input{Factors: []mfa.Factor{totpFactor}, ACRValues: phr, Used: []mfa.Method{pwd}, Enrollable: both},
			decision(mfa.Enrol, mfa.KindWebAuthn)},
		{"phr is not met by password and TOTP",
			mfa.Input{Factors: []mfa.Factor{totpFactor}, ACRValues: phr, Used: []mfa.Method{pwd, otpCode}, Enrollable: both},
			decision(mfa.Enrol, mfa.KindWebAuthn)},
		{"phr where passkeys cannot be used: unmet",
			mfa.Input{Factors: []mfa.Factor{totpFactor}, ACRValues: phr, Used: []mfa.Method{pwd, otpCode}, Enrollable: onlyTOTP},
			decision(mfa.Unmet)},
		{"phr with a passkey: challenge it only",
			mfa.Input{Factors: []mfa.Factor{totpFactor, passkey}, ACRValues: phr, Used: []mfa.Method{pwd}, Enrollable: both},
			decision(mfa.Challenge, mfa.KindWebAuthn)},
		{"phr met by a passkey",
			mfa.Input{Factors: []mfa.Factor{passkey}, ACRValues: phr, Used: []mfa.Method{pwd, swkPresent}},
			decision(mfa.Satisfied)},
		{"phr and multi-factor: either will do",
			mfa.Input{Factors: []mfa.Factor{totpFactor}, ACRValues: []string{mfa.ACRPhishingResistant, mfa.ACRMultiFactor},
				Used: []mfa.Method{pwd, otpCode}},
			decision(mfa.Satisfied)},
		{"phrh with a software passkey and no attestation: unmet",
			mfa.Input{Factors: []mfa.Factor{passkey}, ACRValues: phrh, Used: []mfa.Method{pwd}, Enrollable: both},
			decision(mfa.Unmet)},
		{"phrh with attestation verified: enrol a passkey",
			mfa.Input{Factors: []mfa.Factor{passkey}, ACRValues: phrh, Used: []mfa.Method{pwd}, Enrollable: both, Attestation: true},
			decision(mfa.Enrol, mfa.KindWebAuthn)},
		{"phrh with a hardware key: challenge it",
			mfa.Input{Factors: []mfa.Factor{passkey, hardwareKey}, ACRValues: phrh, Used: []mfa.Method{pwd}},
			decision(mfa.Challenge, mfa.KindWebAuthn)},
		{"phrh met by a hardware key",
			mfa.Input{Factors: []mfa.Factor{hardwareKey}, ACRValues: phrh, Used: []mfa.Method{hwkUV}},
			decision(mfa.Satisfied)},
		// The configured policy: a grace period lets a user without a
		// factor put enrolment off, never what the relying party asks.
		{"policy in its grace period: enrolment may wait",
			mfa.Input{Required: true, InGrace: true, Used: []mfa.Method{pwd}, Enrollable: onlyTOTP},
			mfa.Decision{Outcome: mfa.Enrol, Offer: []mfa.Kind{mfa.KindTOTP}, Deferrable: true}},
		{"policy in its grace period, RP asks multi-factor: enrolment may not wait",
			mfa.Input{Required: true, InGrace: true, ACRValues: multi, Used: []mfa.Method{pwd}, Enrollable: onlyTOTP},
			decision(mfa.Enrol, mfa.KindTOTP)},
		{"grace without the policy requiring anything changes nothing",
			mfa.Input{InGrace: true, Used: []mfa.Method{pwd}, Enrollable: onlyTOTP},
			decision(mfa.Satisfied)},
		{"policy in its grace period, user has a factor: challenged",
			mfa.Input{Required: true, InGrace: true, Factors: []mfa.Factor{totpFactor}, Used: []mfa.Method{pwd}, Enrollable: onlyTOTP},
			decision(mfa.Challenge, mfa.KindTOTP)},
		// A remembered browser stands in for the user's own factor and
		// the policy, never for acr_values.
		{"remembered browser skips the user's factor",
			mfa.Input{Factors: []mfa.Factor{totpFactor}, Remembered: true, Used: []mfa.Method{pwd}, Enrollable: onlyTOTP},
			decision(mfa.Satisfied)},
		{"remembered browser skips the policy's challenge",
			mfa.Input{Required: true, Factors: []mfa.Factor{totpFactor}, Remembered: true, Used: []mfa.Method{pwd}},
			decision(mfa.Satisfied)},
		{"remembered browser does not meet acr_values",
			mfa.Input{Factors: []mfa.Factor{totpFactor}, Remembered: true, ACRValues: multi, Used: []mfa.Method{pwd}},
			decision(mfa.Challenge, mfa.KindTOTP)},
		{"remembered browser of a user with no factor left vouches for nothing",
			mfa.Input{Required: true, Remembered: true, Used: []mfa.Method{pwd}, Enrollable: onlyTOTP},
			decision(mfa.Enrol, mfa.KindTOTP)},
		{"TOTP already used is not offered again",
			mfa.Input{Factors: []mfa.Factor{totpFactor}, ACRValues: multi, Used: []mfa.Method{otpCode}, Enrollable: onlyTOTP},
			decision(mfa.Unmet)},
		{"e-mail codes turned on: challenged with one",
			mfa.Input{Factors: []mfa.Factor{emailFactor}, Used: []mfa.Method{pwd}, Reachable: reachBoth, Enrollable: both},
			decision(mfa.Challenge, mfa.KindEmail)},
		{"e-mail and SMS codes turned on: both offered, e-mail first",
			mfa.Input{Factors: []mfa.Factor{smsFactor, emailFactor}, Used: []mfa.Method{pwd}, Reachable: reachBoth},
			decision(mfa.Challenge, mfa.KindEmail, mfa.KindSMS)},
		{"e-mail code done",
			mfa.Input{Factors: []mfa.Factor{emailFactor}, Used: []mfa.Method{pwd, email}, Reachable: reachBoth},
			decision(mfa.Satisfied)},
		{"SMS code done",
			mfa.Input{Factors: []mfa.Factor{smsFactor}, ACRValues: multi, Used: []mfa.Method{pwd, sms}, Reachable: reachBoth},
			decision(mfa.Satisfied)},
		{"a user with TOTP is never offered codes",
			mfa.Input{Factors: []mfa.Factor{emailFactor, totpFactor, smsFactor}, Used: []mfa.Method{pwd}, Reachable: reachBoth},
			decision(mfa.Challenge, mfa.KindTOTP)},
		{"a user with a passkey is never offered codes",
			mfa.Input{Factors: []mfa.Factor{emailFactor, passkey}, ACRValues: multi, Used: []mfa.Method{pwd}, Reachable: reachBoth},
			decision(mfa.Challenge, mfa.KindWebAuthn)},
		{"a user with TOTP who used it is not offered codes either",
			mfa.Input{Factors: []mfa.Factor{emailFactor, totpFactor}, ACRValues: multi, Used: []mfa.Method{otpCode},
				Reachable: reachBoth, Enrollable: onlyTOTP},
			decision(mfa.Unmet)},
		{"e-mail code factor whose address is no longer verified: not offered, not needed",
			mfa.Input{Factors: []mfa.Factor{emailFactor}, Used: []mfa.Method{pwd}},
			decision(mfa.Satisfied)},
		{"only the codes turned on are offered",
			mfa.Input{Factors: []mfa.Factor{smsFactor}, Used: []mfa.Method{pwd}, Reachable: reachBoth},
			decision(mfa.Challenge, mfa.KindSMS)},
		{"RP asks multi-factor, user has no factor but a verified address: send a code",
			mfa.Input{ACRValues: multi, Used: []mfa.Method{pwd}, Reachable: reachEmail, Enrollable: both},
			decision(mfa.Challenge, mfa.KindEmail)},
		{"configuration requires MFA, user has no factor but verified address and number",
			mfa.Input{Required: true, Used: []mfa.Method{pwd}, Reachable: reachBoth, Enrollable: onlyTOTP},
			decision(mfa.Challenge, mfa.KindEmail, mfa.KindSMS)},
		{"no factor and nothing asked: a verified address changes nothing",
			mfa.Input{Used: []mfa.Method{pwd}, Reachable: reachBoth, Enrollable: both},
			decision(mfa.Satisfied)},
		{"phr is never met by a code: enrol a passkey",
			mfa.Input{Factors: []mfa.Factor{emailFactor}, ACRValues: phr, Used: []mfa.Method{pwd}, Reachable: reachBoth, Enrollable: both},
			decision(mfa.Enrol, mfa.KindWebAuthn)},
		{"phr without a factor is not met by a code",
			mfa.Input{ACRValues: phr, Used: []mfa.Method{pwd}, Reachable: reachBoth, Enrollable: onlyTOTP},
			decision(mfa.Unmet)},
		{"phrh is not met by a code, nor after one",
			mfa.Input{Factors: []mfa.Factor{smsFactor}, ACRValues: phrh, Used: []mfa.Method{pwd, sms}, Reachable: reachBoth, Enrollable: onlyTOTP},
			decision(mfa.Unmet)},
		{"an e-mail code already used is not offered again",
			mfa.Input{Factors: []mfa.Factor{emailFactor}, ACRValues: phr, Used: []mfa.Method{email}, Reachable: reachBoth, Enrollable: onlyTOTP},
			decision(mfa.Unmet)},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if diff := cmp.Diff(tc.want, mfa.Decide(tc.in)); diff != "" {
				t.Errorf("Decide mismatch (-want +got):\n%s", diff)
			}
		})
	}
}

func TestPreferred(t *testing.T) {
	offer := []mfa.Kind{mfa.KindWebAuthn, mfa.KindTOTP}
	for _, tc := range []struct {
		name    string
		factors []mfa.Factor
		want    []mfa.Kind
	}{
		{"no default keeps the order", []mfa.Factor{{Kind: mfa.KindTOTP}, {Kind: mfa.KindWebAuthn}}, offer},
		{"the default kind comes first", []mfa.Factor{{Kind: mfa.KindWebAuthn}, {Kind: mfa.KindTOTP, Default: true}},
			[]mfa.Kind{mfa.KindTOTP, mfa.KindWebAuthn}},
		{"a default not offered changes nothing", []mfa.Factor{{Kind: mfa.KindEmail, Default: true}}, offer},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if diff := cmp.Diff(tc.want, mfa.Preferred(offer, tc.factors)); diff != "" {
				t.Errorf("Preferred mismatch (-want +got):\n%s", diff)
			}
		})
	}
}
