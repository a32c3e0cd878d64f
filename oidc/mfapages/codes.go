package mfapages

import (
	"context"
	"errors"
	"net/http"
	"slices"

	"gatehouse/identity"
	"gatehouse/identity/audit"
	"gatehouse/identity/mfa"
	"gatehouse/oidc"
	"gatehouse/templates"
)

// Routes of sign-in codes and of the default factor.
const (
	// PathSignInCodes turns on sign-in codes of one kind (field "kind":
	// "email" or "sms").
	PathSignInCodes = "/account/security/sign-in-codes"
	// PathFactorDefault makes one factor the default (field "factor").
	PathFactorDefault = "/account/security/factors/default"
)

// codeKindNames name each kind of sign-in code in the security section
// and in the notice of one turned on.
var codeKindNames = map[mfa.Kind]string{mfa.KindEmail: "Sign-in codes by e-mail", mfa.KindSMS: "Sign-in codes by SMS"}

// codeDestination is the masked address or number a factor of kind
// sends to, and whether it can: the address or number must be verified.
func codeDestination(u *identity.User, kind mfa.Kind) (string, bool) {
	switch kind {
	case mfa.KindEmail:
		return identity.MaskEmail(u.Email), u.Email != "" && u.EmailVerified
	case mfa.KindSMS:
		return identity.MaskPhone(u.Phone), u.Phone != "" && u.PhoneVerified
	}
	return "", false
}

// SignInCodeOptions are the kinds of sign-in code the user could turn
// on: those the deployment delivers and the user has not turned on, each
// available only with a verified address or number.
func (h *Handler) SignInCodeOptions(ctx context.Context, u *identity.User) ([]templates.SignInCodeOption, error) {
	if len(h.CodeKinds) == 0 {
		return nil, nil
	}
	factors, err := h.Factors.ListFactors(ctx, u.ID)
	if err != nil {
		return nil, err
	}
	var out []templates.SignInCodeOption
	for _, k := range h.CodeKinds {
		if slices.ContainsFunc(factors, func(f mfa.Factor) bool { return f.Kind == k }) {
			continue
		}
		dest, ok := codeDestination(u, k)
		o := templates.SignInCodeOption{Kind: string(k), Label: codeKindNames[k], Destination: dest, Available: ok}
		out = append(out, o)
	}
	return out, nil
}

// enableCodes turns on sign-in codes of one kind. It needs the verified
// address or number and nothing more: proving it was the verification.
func (h *Handler) enableCodes(r *request) error {
	ctx := r.c.Request().Context()
	kind := mfa.Kind(r.c.FormValue("kind"))
	if !slices.Contains(h.CodeKinds, kind) {
		return &oidc.PageError{Status: http.StatusBadRequest, Title: "Not available",
			Message: "Sign-in codes of this kind are not available here."}
	}
	if _, ok := codeDestination(r.user, kind); !ok {
		return &oidc.PageError{Status: http.StatusBadRequest, Title: "Verify it first",
			Message: "Sign-in codes need a verified e-mail address or phone number. Verify it in the contact section, then turn them on."}
	}
	_, err := h.Factors.EnableCodes(ctx, r.user.ID, kind)
	if errors.Is(err, mfa.ErrExists) {
		// On already (a reload, or another tab).
		return r.c.Redirect(http.StatusSeeOther, securityURL)
	}
	if err != nil {
		return err
	}
	oidc.Audit(r.c, h.Auditor, h.Logger, audit.Entry{ActorType: audit.ActorUser, ActorID: r.user.ID,
		Subject: r.user.ID, Action: audit.ActionMFAEnabled, Details: audit.Details{"factor": string(kind)}})
	h.notifyMail(ctx, r.user, identity.Mail{Kind: identity.MailMFAEnabled, Factor: string(kind)})
	return r.c.Redirect(http.StatusSeeOther, securityURL)
}

// makeDefault makes one of the user's factors the one the sign-in asks
// for first. It changes which form is shown, not what is accepted, so
// it needs no recent second factor.
func (h *Handler) makeDefault(r *request) error {
	err := h.Factors.SetDefault(r.c.Request().Context(), r.user.ID, r.c.FormValue("factor"))
	if err != nil && !errors.Is(err, mfa.ErrNotFound) {
		return err
	}
	// Not one of this user's factors: nothing changed.
	return r.c.Redirect(http.StatusSeeOther, securityURL)
}
