package mfapages

import (
	"context"

	"gatehouse/identity/mfa"
	"gatehouse/templates"
)

// kindNames says in words what kind of factor each is.
var kindNames = map[mfa.Kind]string{
	mfa.KindTOTP:     "Authenticator app",
	mfa.KindWebAuthn: "Security key",
}

// dateFormat is how the security section shows when a factor was added
// and last used.
const dateFormat = "2 Jan 2006 15:04 MST"

// AccountFactors returns the user's factors as the security section
// lists them, and the number of recovery codes left.
func (h *Handler) AccountFactors(ctx context.Context, userID string) ([]templates.AccountFactor, int, error) {
	factors, err := h.Factors.ListFactors(ctx, userID)
	if err != nil || len(factors) == 0 {
		return nil, 0, err
	}
	left, err := h.Factors.RemainingRecoveryCodes(ctx, userID)
	if err != nil {
		return nil, 0, err
	}
	out := make([]templates.AccountFactor, 0, len(factors))
	for _, f := range factors {
		kind := kindNames[f.Kind]
		if kind == "" {
			kind = string(f.Kind)
		}
		af := templates.AccountFactor{ID: f.ID, Kind: kind, Name: f.Name, Added: f.CreatedAt.UTC().Format(dateFormat)}
		if f.LastUsedAt != nil {
			af.LastUsed = f.LastUsedAt.UTC().Format(dateFormat)
		}
		out = append(out, af)
	}
	return out, left, nil
}
