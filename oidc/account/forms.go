package account

import (
	"errors"

	"gatehouse/identity"
	"gatehouse/identity/audit"
)

func (h *Handler) profileInput(r *request) identity.ProfileInput {
	u, f := r.user, r.c.FormValue
	return identity.ProfileInput{
		GivenName: f("given_name"), MiddleName: f("middle_name"), FamilyName: f("family_name"),
		Nickname: f("nickname"), Username: f("username"), Picture: f("picture"), Website: f("website"),
		Gender: f("gender"), Birthdate: f("birthdate"),
		// Preferences are saved by their own form.
		Locale: u.Locale, Zoneinfo: u.Zoneinfo,
		Address: identity.Address{
			StreetAddress: f("street_address"), Locality: f("locality"), Region: f("region"),
			PostalCode: f("postal_code"), Country: f("country"),
		},
	}
}

// currentProfile is the user's profile as it stands, for forms that
// change only part of it.
func currentProfile(u *identity.User) identity.ProfileInput {
	return identity.ProfileInput{
		GivenName: u.GivenName, MiddleName: u.MiddleName, FamilyName: u.FamilyName, Nickname: u.Nickname,
		Username: u.Username, Picture: u.Picture, Website: u.Website, Gender: u.Gender, Birthdate: u.Birthdate,
		Locale: u.Locale, Zoneinfo: u.Zoneinfo, Address: u.Address,
	}
}

func (h *Handler) saveProfile(r *request) error {
	ctx := r.c.Request().Context()
	if _, err := h.Profiles.UpdateProfile(ctx, r.user.ID, h.profileInput(r)); err != nil {
		return h.fail(r, sectionProfile, err)
	}
	h.Logger.InfoContext(ctx, "profile updated", "user_id", r.user.ID)
	h.audit(r, audit.ActionProfileUpdated, nil)
	return done(r, sectionProfile, "profile_saved")
}

func (h *Handler) savePreferences(r *request) error {
	ctx := r.c.Request().Context()
	in := currentProfile(r.user)
	in.Locale, in.Zoneinfo = r.c.FormValue("locale"), r.c.FormValue("zoneinfo")
	if _, err := h.Profiles.UpdateProfile(ctx, r.user.ID, in); err != nil {
		return h.fail(r, sectionPreferences, err)
	}
	return done(r, sectionPreferences, "preferences_saved")
}

func (h *Handler) changeEmail(r *request) error {
	ctx := r.c.Request().Context()
	if err := h.Contacts.ChangeEmail(ctx, r.user.ID, r.c.FormValue("new_email")); err != nil {
		return h.fail(r, sectionContact, renameField(err, "email", "new_email"))
	}
	h.Logger.InfoContext(ctx, "email change requested", "user_id", r.user.ID)
	return done(r, sectionContact, "email_sent")
}

func (h *Handler) confirmEmail(r *request) error {
	ctx := r.c.Request().Context()
	if err := h.Contacts.ConfirmEmailChangeCode(ctx, r.user.ID, r.c.FormValue("code")); err != nil {
		return h.fail(r, sectionContact, codeField(err, "email_code"))
	}
	h.Logger.InfoContext(ctx, "email changed", "user_id", r.user.ID)
	h.audit(r, audit.ActionEmailChanged, nil)
	return done(r, sectionContact, "email_changed")
}

func (h *Handler) resendEmail(r *request) error {
	if err := h.Contacts.StartEmailVerification(r.c.Request().Context(), r.user.ID); err != nil {
		return h.fail(r, sectionContact, err)
	}
	return done(r, sectionContact, "email_resent")
}

func (h *Handler) changePhone(r *request) error {
	if err := h.Contacts.StartPhoneVerification(r.c.Request().Context(), r.user.ID, r.c.FormValue("phone")); err != nil {
		return h.fail(r, sectionContact, err)
	}
	return done(r, sectionContact, "phone_sent")
}

func (h *Handler) confirmPhone(r *request) error {
	ctx := r.c.Request().Context()
	if err := h.Contacts.VerifyPhoneCode(ctx, r.user.ID, r.c.FormValue("code")); err != nil {
		return h.fail(r, sectionContact, codeField(err, "phone_code"))
	}
	h.Logger.InfoContext(ctx, "phone verified", "user_id", r.user.ID)
	h.audit(r, audit.ActionPhoneVerified, nil)
	return done(r, sectionContact, "phone_verified")
}

func (h *Handler) changePassword(r *request) error {
	ctx := r.c.Request().Context()
	f := r.c.FormValue
	if err := h.Profiles.ChangePassword(ctx, r.user.ID, f("current_password"), f("new_password"), r.bs.ID); err != nil {
		return h.fail(r, sectionPassword, renameField(err, "password", "new_password"))
	}
	h.Logger.InfoContext(ctx, "password changed", "user_id", r.user.ID)
	h.audit(r, audit.ActionPasswordChanged, nil)
	return done(r, sectionPassword, "password_changed")
}

// codeField turns a code error into a field error on the form's own code
// input (the contact section has two code forms).
func codeField(err error, field string) error {
	switch {
	case errors.Is(err, identity.ErrTooManyAttempts):
		return &identity.ValidationError{Fields: map[string]string{field: "Too many wrong codes. Ask for a new code and try again."}}
	case errors.Is(err, identity.ErrCodeInvalid):
		return &identity.ValidationError{Fields: map[string]string{field: "That code is not right or has expired."}}
	}
	return err
}

// renameField moves a validation problem to the name the form uses.
func renameField(err error, from, to string) error {
	var ve *identity.ValidationError
	if errors.As(err, &ve) {
		if msg, ok := ve.Fields[from]; ok {
			delete(ve.Fields, from)
			ve.Fields[to] = msg
		}
	}
	return err
}
