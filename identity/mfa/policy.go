package mfa

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
// met too. Methods already used are not offered again.
func Decide(in Input) Decision {
	requested := enforcedACRs(in.ACRValues)
	needMFA := in.Required || len(in.Factors) > 0
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
	usedTOTP := false
	for _, m := range in.Used {
		usedTOTP = usedTOTP || m.Kind == MethodTOTP
	}
	var offer []Kind
	for _, k := range []Kind{KindWebAuthn, KindTOTP} {
		if k == KindTOTP && usedTOTP {
			continue
		}
		for _, f := range in.Factors {
			if f.Kind == k && helps(k, f.WebAuthn != nil && f.WebAuthn.HardwareBound) {
				offer = append(offer, k)
				break
			}
		}
	}
	if len(offer) > 0 {
		return Decision{Outcome: Challenge, Offer: offer}
	}
	for _, k := range []Kind{KindWebAuthn, KindTOTP} {
		if k == KindTOTP && usedTOTP {
			continue // a second authenticator app adds no factor
		}
		enrollable := false
		for _, e := range in.Enrollable {
			enrollable = enrollable || e == k
		}
		if enrollable && helps(k, k == KindWebAuthn && in.Attestation) {
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
		return true
	case ACRPhishingResistant:
		return k == KindWebAuthn
	case ACRPhishingResistantHardware:
		return k == KindWebAuthn && hardwareBound
	}
	return false
}
