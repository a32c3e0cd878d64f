package mfapages

import (
	"context"
	"errors"
	"net/http"

	"gatehouse/identity"
	"gatehouse/identity/audit"
	"gatehouse/identity/mfa"
	"gatehouse/oidc"
	"gatehouse/templates"
)

// Routes of the passkey forms of the security section.
const (
	// PathPasskeys adds a passkey (fields name, ceremony, credential).
	PathPasskeys = "/account/security/passkeys"
	// PathPasskeyOptions answers passkey.js with a registration's options.
	PathPasskeyOptions = PathPasskeys + "/options"
	// PathPasskeyRename renames one (fields factor, name).
	PathPasskeyRename = PathPasskeys + "/rename"
)

// msgPasskeysUnavailable says why the security section offers no passkeys.
const msgPasskeysUnavailable = "Passkeys cannot be used here: this server is reached by an IP address, " +
	"and browsers allow passkeys only on a domain name."

// Passkeys registers and renames passkeys; *mfa.Passkeys is one.
type Passkeys interface {
	// Available reports whether browsers allow passkeys for the issuer.
	Available() bool
	// BeginRegistration starts a registration bound to binding.
	BeginRegistration(ctx context.Context, u mfa.PasskeyUser, binding string) (*mfa.Begun, error)
	// FinishRegistration verifies the browser's response and stores the
	// passkey, or returns mfa.ErrPasskeyRefused.
	FinishRegistration(ctx context.Context, u mfa.PasskeyUser, ceremonyID, binding, name string, response []byte) (*mfa.Factor, error)
	// Rename renames one of the user's passkeys.
	Rename(ctx context.Context, userID, factorID, name string) error
}

// AccountPasskeys is what the security section offers for passkeys.
func (h *Handler) AccountPasskeys() templates.AccountPasskeys {
	switch {
	case h.Passkeys == nil:
		return templates.AccountPasskeys{}
	case !h.Passkeys.Available():
		return templates.AccountPasskeys{Unavailable: msgPasskeysUnavailable}
	}
	return templates.AccountPasskeys{OptionsAction: PathPasskeyOptions, AddAction: PathPasskeys, RenameAction: PathPasskeyRename}
}

// ceremonyBinding ties a registration to the browser session that began
// it. The challenge itself waits server-side (mfa.Ceremonies, the
// webauthn_ceremonies table) and not in a sealed cookie: a cookie can be
// sent again, and only a row the finishing request deletes makes the
// challenge single-use. A ceremony begun in one session, stolen or
// replayed in another, finds no row.
func ceremonyBinding(bs *oidc.BrowserSession) string { return "account:" + bs.ID }

func passkeyUser(u *identity.User) mfa.PasskeyUser {
	display := u.Name()
	if display == "" {
		display = u.Username
	}
	return mfa.PasskeyUser{ID: u.ID, Name: u.Username, DisplayName: display}
}

// passkeyOptions begins a registration: JSON for passkey.js.
func (h *Handler) passkeyOptions(r *request) error {
	if h.Passkeys == nil || !h.Passkeys.Available() {
		return r.c.JSON(http.StatusNotFound, map[string]string{"error": msgPasskeysUnavailable})
	}
	b, err := h.Passkeys.BeginRegistration(r.c.Request().Context(), passkeyUser(r.user), ceremonyBinding(r.bs))
	if err != nil {
		return err
	}
	r.c.Response().Header().Set("Cache-Control", "no-store")
	return r.c.JSON(http.StatusOK, map[string]any{"ceremony": b.CeremonyID, "publicKey": b.Options})
}

var errPasskeyNotAdded = &oidc.PageError{Status: http.StatusBadRequest, Title: "The passkey was not added",
	Message: "Your browser's answer could not be verified, or it came too late. Go back to the security page and add the passkey again."}

// addPasskey finishes a registration.
func (h *Handler) addPasskey(r *request) error {
	if h.Passkeys == nil || !h.Passkeys.Available() {
		return r.c.Redirect(http.StatusSeeOther, securityURL)
	}
	ctx := r.c.Request().Context()
	_, err := h.Passkeys.FinishRegistration(ctx, passkeyUser(r.user), r.c.FormValue("ceremony"), ceremonyBinding(r.bs),
		r.c.FormValue("name"), []byte(r.c.FormValue("credential")))
	if errors.Is(err, mfa.ErrPasskeyRefused) {
		h.Logger.InfoContext(ctx, "passkey registration refused", "user_id", r.user.ID, "error", err)
		return errPasskeyNotAdded
	}
	if err != nil {
		return err
	}
	return h.enabled(r, mfa.KindWebAuthn, "Your passkey is added.")
}

// renamePasskey renames one of the user's passkeys.
func (h *Handler) renamePasskey(r *request) error {
	if h.Passkeys == nil {
		return r.c.Redirect(http.StatusSeeOther, securityURL)
	}
	ctx := r.c.Request().Context()
	err := h.Passkeys.Rename(ctx, r.user.ID, r.c.FormValue("factor"), r.c.FormValue("name"))
	if errors.Is(err, mfa.ErrNotFound) {
		// Not one of this user's passkeys, or removed meanwhile.
		return r.c.Redirect(http.StatusSeeOther, securityURL)
	}
	if err != nil {
		return err
	}
	oidc.Audit(r.c, h.Auditor, h.Logger, audit.Entry{ActorType: audit.ActorUser, ActorID: r.user.ID,
		Subject: r.user.ID, Action: audit.ActionMFARenamed, Details: audit.Details{"factor": string(mfa.KindWebAuthn)}})
	h.notify(ctx, r.user, identity.MailMFARenamed)
	return r.c.Redirect(http.StatusSeeOther, securityURL)
}
