package mfa

import "slices"

// Outcome is what a sign-in needs next, as Decide sees it.
type Outcome int

// Decide's outcomes.
const (
	// Satisfied: nothing more is needed.
	Satisfied Outcome = iota
	// Challenge: ask for one of Decision.Offer, then decide again.
	Challenge
	// Enrol: the user has no factor that would do; lead them to enrol
	// one of Decision.Offer, then decide again.
	Enrol
	// Unmet: nothing the user has or could enrol here meets the
	// requirement (acr_values=phr where passkeys cannot be used). With
	// prompt=none, Challenge and Enrol mean the same.
	Unmet
)

func (o Outcome) String() string {
	switch o {
	case Satisfied:
		return "satisfied"
	case Challenge:
		return "challenge"
	case Enrol:
		return "enrol"
	case Unmet:
		return "unmet"
	}
	return "unknown"
}

// Input is what Decide weighs.
type Input struct {
	// Factors are the user's confirmed factors.
	Factors []Factor
	// ACRValues is the relying party's acr_values. Of the values
	// Gatehouse enforces (ACRMultiFactor, ACRPhishingResistant,
	// ACRPhishingResistantHardware), meeting any one will do; others are
	// ignored.
	ACRValues []string
	// Required: configuration requires MFA for the user's roles or for
	// the client (Policy.Requires).
	Required bool
	// InGrace: Required, but the policy's enrolment grace period still
	// runs for this user, so a user without a factor may put enrolment
	// off (Decision.Deferrable).
	InGrace bool
	// Remembered: the browser was remembered for this user after a
	// second factor proved in it. It stands in for the second factor
	// the user's own factors or Required ask for, never for acr_values,
	// and only while the user has a factor. The caller leaves it false
	// for a re-authentication (prompt=login, max_age).
	Remembered bool
	// Used are the methods the sign-in (or the session) already used.
	Used []Method
	// Enrollable are the kinds the user could enrol now: WebAuthn only
	// where the relying party ID is a domain (browsers refuse an IP).
	Enrollable []Kind
	// Attestation: passkey registration verifies attestation, so a new
	// passkey can prove itself hardware-bound (never with "none").
	Attestation bool
	// Reachable are the kinds of sign-in code (KindEmail, KindSMS) that
	// can reach the user now: a verified address or number and a way to
	// send to it. A KindEmail or KindSMS factor counts only while its
	// kind is reachable. A user with no factor at all who must prove a
	// second one (Required, or acr_values multi-factor) may be sent a
	// code to any reachable kind; phr and phrh are never met by one.
	Reachable []Kind
}

// Decision is Decide's answer.
type Decision struct {
	Outcome Outcome
	// Offer lists, strongest first, the kinds to challenge with
	// (Challenge) or to enrol (Enrol).
	Offer []Kind
	// Deferrable: an Enrol that only the policy asks for, within its
	// grace period; the user may put it off ("Set up later").
	Deferrable bool `json:",omitempty"`
}

// Decide says whether a sign-in that used in.Used is enough. A user who
// has a second factor always needs it (RP or not); so does everyone when
// configuration requires MFA; and a relying party's acr_values must be
// met too. Methods already used are not offered again, except a passkey
// (one without user verification may be asked again).
//
// Codes by e-mail or SMS are offered only to a user who has neither an
// authenticator app nor a passkey: whoever holds the user's mailbox or
// SIM must not get around the stronger factor.
func Decide(in Input) Decision {
	requested := enforcedACRs(in.ACRValues)
	factors := usable(in.Factors, in.Reachable)
	needMFA := in.Required || len(factors) > 0
	rpMet := len(requested) == 0
	for _, acr := range requested {
		rpMet = rpMet || meets(in.Used, acr)
	}
	// A remembered browser vouches for a factor the user has; with none
	// left it vouches for nothing.
	remembered := in.Remembered && len(in.Factors) > 0
	mfaMet := !needMFA || multiFactor(in.Used) || remembered
	if rpMet && mfaMet {
		return Decision{Outcome: Satisfied}
	}
	// Every kind of factor adds a factor; the relying party's values may
	// narrow that down, and they are then the stricter need.
	helps := func(k Kind, hardwareBound bool) bool { return true }
	if !rpMet {
		helps = func(k Kind, hardwareBound bool) bool {
			for _, acr := range requested {
				if kindMeets(k, hardwareBound, acr) {
					return true
				}
			}
			return false
		}
	}
	used := func(k Kind) bool {
		for _, m := range in.Used {
			if m.Kind == methodOf[k] {
				return true
			}
		}
		return false
	}
	var offer []Kind
	strong := false
	for _, k := range []Kind{KindWebAuthn, KindTOTP} {
		for _, f := range factors {
			if f.Kind != k {
				continue
			}
			strong = true
			if !used(k) && helps(k, f.WebAuthn != nil && f.WebAuthn.HardwareBound) && !slices.Contains(offer, k) {
				offer = append(offer, k)
			}
		}
	}
	if !strong {
		// The codes the user turned on; a user who turned on none may
		// be sent one wherever they can be reached.
		codes := kindsOf(factors)
		if len(codes) == 0 {
			codes = in.Reachable
		}
		for _, k := range []Kind{KindEmail, KindSMS} {
			if slices.Contains(codes, k) && slices.Contains(in.Reachable, k) && !used(k) && helps(k, false) {
				offer = append(offer, k)
			}
		}
	}
	if len(offer) > 0 {
		return Decision{Outcome: Challenge, Offer: offer}
	}
	for _, k := range []Kind{KindWebAuthn, KindTOTP} {
		if used(k) {
			continue // a second authenticator app adds no factor
		}
		if slices.Contains(in.Enrollable, k) && helps(k, k == KindWebAuthn && in.Attestation) {
			offer = append(offer, k)
		}
	}
	if len(offer) > 0 {
		// Only the policy asks (no factor of the user's own, nothing the
		// relying party requested): its grace period may put it off.
		deferrable := rpMet && in.Required && in.InGrace && len(in.Factors) == 0
		return Decision{Outcome: Enrol, Offer: offer, Deferrable: deferrable}
	}
	return Decision{Outcome: Unmet}
}

// methodOf is the method that proves a factor of each kind, for telling
// which kinds a sign-in already used. A passkey is left out: one used
// without user verification may be asked for again.
var methodOf = map[Kind]MethodKind{KindTOTP: MethodTOTP, KindEmail: MethodEmailCode, KindSMS: MethodSMSCode}

// usable drops the code factors whose address or number cannot be
// reached now (no longer verified, or removed).
func usable(factors []Factor, reachable []Kind) []Factor {
	var out []Factor
	for _, f := range factors {
		if !f.Kind.CodeKind() || slices.Contains(reachable, f.Kind) {
			out = append(out, f)
		}
	}
	return out
}

func kindsOf(factors []Factor) []Kind {
	var out []Kind
	for _, f := range factors {
		out = append(out, f.Kind)
	}
	return out
}

// Preferred returns offer with the kind of the user's default factor
// first and the rest in their order, so the challenge shows the method
// the user chose; offer is unchanged when the default is not in it.
func Preferred(offer []Kind, factors []Factor) []Kind {
	for _, f := range factors {
		if !f.Default {
			continue
		}
		i := slices.Index(offer, f.Kind)
		if i <= 0 {
			return offer
		}
		out := append([]Kind{f.Kind}, offer[:i]...)
		return append(out, offer[i+1:]...)
	}
	return offer
}

// enforcedACRs keeps the acr values Gatehouse enforces.
func enforcedACRs(values []string) []string {
	var out []string
	for _, v := range values {
		switch v {
		case ACRMultiFactor, ACRPhishingResistant, ACRPhishingResistantHardware:
			out = append(out, v)
		}
	}
	return out
}

// kindMeets reports whether a factor of kind k, used on top of a first
// factor, can meet acr.
func kindMeets(k Kind, hardwareBound bool, acr string) bool {
	switch acr {
	case ACRMultiFactor:
		return true // a code by e-mail or SMS too
	case ACRPhishingResistant:
		return k == KindWebAuthn
	case ACRPhishingResistantHardware:
		return k == KindWebAuthn && hardwareBound
	}
	return false
}
