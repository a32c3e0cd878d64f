package mfa

// MethodKind is a way a user proved who they are in a sign-in.
type MethodKind string

// The methods a session can record.
const (
	MethodPassword     MethodKind = "password"
	MethodTOTP         MethodKind = "totp"
	MethodPasskey      MethodKind = "passkey"
	MethodRecoveryCode MethodKind = "recovery_code"
	MethodEmailCode    MethodKind = "email_code"
	MethodSMSCode      MethodKind = "sms_code"
)

// Method is one method a session used.
type Method struct {
	Kind MethodKind
	// UserVerified: the passkey's authenticator verified the user (PIN
	// or biometric), the UV flag of WebAuthn §6.1.
	UserVerified bool
	// HardwareBound: attestation proved the passkey a hardware key.
	HardwareBound bool
}

// The acr values Gatehouse achieves and enforces.
const (
	// ACRSingleFactor is one factor (OpenID Connect Core §2: "0").
	ACRSingleFactor = "0"
	// ACRMultiFactor is the PAPE policy URI widely used for "MFA was
	// performed".
	ACRMultiFactor = "http://schemas.openid.net/pape/policies/2007/06/multi-factor"
	// ACRPhishingResistant is OpenID EAP "phr": a passkey.
	ACRPhishingResistant = "phr"
	// ACRPhishingResistantHardware is OpenID EAP "phrh": a passkey
	// whose attestation proved a hardware-bound key.
	ACRPhishingResistantHardware = "phrh"
)

// AMR returns the amr claim (RFC 8176 §2) for the methods a session used,
// in order of first use, each value once, with "mfa" last when the
// session is multi-factor.
//
// A recovery code is something the user knows, like a password: it adds
// "pwd" and counts as a factor, so password plus recovery code gives
// ["pwd", "mfa"]. "email" is not in RFC 8176's registry but in common
// use for a code sent by e-mail.
func AMR(used []Method) []string {
	var out []string
	add := func(v string) {
		for _, have := range out {
			if have == v {
				return
			}
		}
		out = append(out, v)
	}
	for _, m := range used {
		switch m.Kind {
		case MethodPassword, MethodRecoveryCode:
			add("pwd")
		case MethodTOTP:
			add("otp")
		case MethodPasskey:
			if m.HardwareBound {
				add("hwk")
			} else {
				add("swk")
			}
			if m.UserVerified {
				add("user")
			}
		case MethodSMSCode:
			add("sms")
		case MethodEmailCode:
			add("email")
		}
	}
	if multiFactor(used) {
		add("mfa")
	}
	return out
}

// ACR returns the acr claim for what the session achieved: a passkey
// gives phr (phrh when hardware-bound), else two factors give the
// multi-factor URI, else "0".
func ACR(used []Method) string {
	acr := ACRSingleFactor
	if multiFactor(used) {
		acr = ACRMultiFactor
	}
	for _, m := range used {
		if m.Kind != MethodPasskey {
			continue
		}
		if m.HardwareBound {
			return ACRPhishingResistantHardware
		}
		acr = ACRPhishingResistant
	}
	return acr
}

// multiFactor reports whether the methods make a multi-factor sign-in:
// two different methods, or a passkey that verified the user (possession
// of the key plus the user's PIN or biometric).
func multiFactor(used []Method) bool {
	kinds := map[MethodKind]bool{}
	for _, m := range used {
		if m.Kind == MethodPasskey && m.UserVerified {
			return true
		}
		kinds[m.Kind] = true
	}
	return len(kinds) >= 2
}

// meets reports whether the methods satisfy one acr value Gatehouse
// enforces.
func meets(used []Method, acr string) bool {
	for _, m := range used {
		if m.Kind != MethodPasskey {
			continue
		}
		switch acr {
		case ACRPhishingResistant:
			return true
		case ACRPhishingResistantHardware:
			if m.HardwareBound {
				return true
			}
		}
	}
	return acr == ACRMultiFactor && multiFactor(used)
}
