package mfapages

import (
	"context"
	"errors"
	"net/http"
	"net/url"
	"slices"
	"time"

	"gatehouse/identity"
	"gatehouse/identity/audit"
	"gatehouse/identity/mfa"
	"gatehouse/oidc"
	"gatehouse/templates"
)

// kindNames says in words what kind of factor each is.
var kindNames = map[mfa.Kind]string{
	mfa.KindTOTP:     "Authenticator app",
	mfa.KindWebAuthn: "Passkey",
	mfa.KindEmail:    "Codes by e-mail",
	mfa.KindSMS:      "Codes by SMS",
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
	var user *identity.User
	out := make([]templates.AccountFactor, 0, len(factors))
	for _, f := range factors {
		kind := kindNames[f.Kind]
		if kind == "" {
			kind = string(f.Kind)
		}
		if f.Kind.CodeKind() {
			// A code factor follows the user's current address or number.
			if user == nil {
				if user, err = h.Users.GetUser(ctx, userID); err != nil {
					return nil, 0, err
				}
			}
			dest, ok := codeDestination(user, f.Kind)
			kind += " to " + dest
			if !ok {
				kind += " (not verified: not used until it is)"
			}
		}
		af := templates.AccountFactor{ID: f.ID, Kind: kind, Name: f.Name, Added: f.CreatedAt.UTC().Format(dateFormat), Default: f.Default,
			Passkey: f.Kind == mfa.KindWebAuthn, CounterWarning: f.CounterWarningAt != nil}
		if f.LastUsedAt != nil {
			af.LastUsed = f.LastUsedAt.UTC().Format(dateFormat)
		}
		out = append(out, af)
	}
	return out, left, nil
}

// freshWindow is how recent a sign-in with the second factor must be to
// remove a factor or replace the recovery codes.
const freshWindow = 5 * time.Minute

// freshSecondFactor reports whether the browser session was signed in
// with a second factor within freshWindow. Adding a factor does not
// change the session's amr, so an enrolment in this session does not
// count.
func (h *Handler) freshSecondFactor(bs *oidc.BrowserSession) bool {
	now := time.Now
	if h.Now != nil {
		now = h.Now
	}
	return slices.Contains(bs.AMR, "mfa") && now().Sub(bs.AuthTime) <= freshWindow
}

// reauthenticate sends the user to sign in again, with the password and
// the second factor, and then to the confirmation of the change they
// asked for (PathConfirm with q).
func reauthenticate(r *request, q url.Values) error {
	next := PathConfirm + "?" + q.Encode()
	return r.c.Redirect(http.StatusSeeOther, oidc.PathLogin+"?next="+url.QueryEscape(next))
}

// The changes PathConfirm confirms (its "action" parameter).
const (
	confirmRemove     = "remove"
	confirmRegenerate = "regenerate"
)

// confirm shows, after the user signed in again, the change they asked
// for before with its button: a sign-in only ever leads to a GET, and
// the change stays the user's own POST. Without a fresh second factor
// (the window passed meanwhile) it asks for one again.
func (h *Handler) confirm(r *request) error {
	q := url.Values{"action": {r.c.QueryParam("action")}}
	if f := r.c.QueryParam("factor"); f != "" {
		q.Set("factor", f)
	}
	if !h.freshSecondFactor(r.bs) {
		return reauthenticate(r, q)
	}
	p := templates.MFAConfirmPage{CSRF: oidc.CSRFToken(r.c), CancelURL: securityURL}
	switch q.Get("action") {
	case confirmRegenerate:
		p.Title, p.Action, p.Button = "Make new recovery codes?", PathRecoveryCodes, "Regenerate recovery codes"
		p.Message = "Your current recovery codes will stop working, and the new ones are shown once."
	case confirmRemove:
		factors, _, err := h.AccountFactors(r.c.Request().Context(), r.user.ID)
		if err != nil {
			return err
		}
		for _, f := range factors {
			if f.ID == q.Get("factor") {
				p.Title = "Remove " + f.Name + "?"
				p.Message = f.Kind + ", added " + f.Added + ", will no longer be accepted when you sign in."
				p.Action, p.Factor, p.Button = PathFactorRemove, f.ID, "Remove "+f.Name
			}
		}
	}
	if p.Action == "" {
		// Removed meanwhile, another user's factor, or no such change.
		return r.c.Redirect(http.StatusSeeOther, securityURL)
	}
	return h.Pages.MFAConfirm(oidc.StartPage(r.c, http.StatusOK), p)
}

// regenerateCodes replaces the user's recovery codes and shows the new
// ones once.
func (h *Handler) regenerateCodes(r *request) error {
	if !h.freshSecondFactor(r.bs) {
		return reauthenticate(r, url.Values{"action": {confirmRegenerate}})
	}
	ctx := r.c.Request().Context()
	factors, err := h.Factors.ListFactors(ctx, r.user.ID)
	if err != nil {
		return err
	}
	if len(factors) == 0 {
		// Recovery codes stand in for a factor; without one they are
		// of no use.
		return r.c.Redirect(http.StatusSeeOther, securityURL)
	}
	codes, err := h.Factors.RegenerateRecoveryCodes(ctx, r.user.ID)
	if err != nil {
		return err
	}
	oidc.Audit(r.c, h.Auditor, h.Logger, audit.Entry{ActorType: audit.ActorUser, ActorID: r.user.ID,
		Subject: r.user.ID, Action: audit.ActionMFARecoveryCodesRegenerated})
	h.notify(ctx, r.user, identity.MailRecoveryCodesRegenerated)
	return h.Pages.TOTPSetup(oidc.StartPage(r.c, http.StatusOK), templates.TOTPSetupPage{
		RecoveryCodes: codes, ContinueURL: securityURL,
		CodesNotice: "Your new recovery codes are ready. The old ones no longer work.",
	})
}

// removeFactor removes one of the user's factors.
func (h *Handler) removeFactor(r *request) error {
	if !h.freshSecondFactor(r.bs) {
		return reauthenticate(r, url.Values{"action": {confirmRemove}, "factor": {r.c.FormValue("factor")}})
	}
	ctx := r.c.Request().Context()
	factorID := r.c.FormValue("factor")
	var kind mfa.Kind
	factors, err := h.Factors.ListFactors(ctx, r.user.ID)
	if err != nil {
		return err
	}
	for _, f := range factors {
		if f.ID == factorID {
			kind = f.Kind
		}
	}
	if kind == "" {
		// Not one of this user's factors, or removed already (a reload).
		return r.c.Redirect(http.StatusSeeOther, securityURL)
	}
	err = h.Factors.RemoveFactor(ctx, r.user.ID, factorID)
	if errors.Is(err, mfa.ErrNotFound) {
		return r.c.Redirect(http.StatusSeeOther, securityURL)
	}
	if err != nil {
		return err
	}
	oidc.Audit(r.c, h.Auditor, h.Logger, audit.Entry{ActorType: audit.ActorUser, ActorID: r.user.ID,
		Subject: r.user.ID, Action: audit.ActionMFADisabled, Details: audit.Details{"factor": string(kind)}})
	h.notifyMail(ctx, r.user, identity.Mail{Kind: identity.MailMFARemoved, Factor: string(kind)})
	return r.c.Redirect(http.StatusSeeOther, securityURL)
}
