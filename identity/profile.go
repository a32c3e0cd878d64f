package identity

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"
)

// ProfileInput is what a person edits on their profile. Every field is
// replaced: an empty one clears the value (the username excepted, which is
// required). Names follow OpenID Connect Core §5.1.
type ProfileInput struct {
	GivenName  string
	MiddleName string
	FamilyName string
	Nickname   string
	Username   string // the preferred_username claim; unique
	Picture    string // absolute http(s) URL
	Website    string // absolute http(s) URL
	Gender     string // free text
	Birthdate  string // YYYY-MM-DD, YYYY or 0000-MM-DD
	Locale     string // BCP 47, e.g. "en-GB"
	Zoneinfo   string // IANA time zone, e.g. "Europe/London"
	Address    Address
}

// Profiles edits what a user says about themselves (the profile) and
// changes their password.
type Profiles struct {
	*Core
	// Users stores the accounts.
	Users ProfileStore
	// Policy decides which new passwords are acceptable; zero fields take
	// DefaultPasswordPolicy's values.
	Policy PasswordPolicy
	// Sessions ends a user's other sessions after a password change; nil
	// ends none.
	Sessions SessionRevoker
}

// ProfileStore is what Profiles needs of a UserStore.
type ProfileStore interface {
	UserFinder
	// UpdateProfile is UserStore.UpdateProfile.
	UpdateProfile(ctx context.Context, u *User) error
	// PasswordHash is UserStore.PasswordHash.
	PasswordHash(ctx context.Context, userID string) (string, error)
	// SetPasswordHash is UserStore.SetPasswordHash.
	SetPasswordHash(ctx context.Context, userID, hash string) error
}

// ProfileOf returns u's profile as a ProfileInput, for forms that change
// only some of it.
func ProfileOf(u *User) ProfileInput {
	return ProfileInput{
		GivenName: u.GivenName, MiddleName: u.MiddleName, FamilyName: u.FamilyName, Nickname: u.Nickname,
		Username: u.Username, Picture: u.Picture, Website: u.Website, Gender: u.Gender,
		Birthdate: u.Birthdate, Locale: u.Locale, Zoneinfo: u.Zoneinfo, Address: u.Address,
	}
}

// UpdateProfile validates in and saves it as the profile of the user with
// userID, in one update that leaves contact details, roles and status
// alone. Every problem comes back together in one *ValidationError, keyed
// by the Field* names (a taken username included); values are stored
// normalised (trimmed, locale canonicalised). It returns the updated user,
// or ErrNotFound.
func (s *Profiles) UpdateProfile(ctx context.Context, userID string, in ProfileInput) (*User, error) {
	u, err := s.Users.GetUser(ctx, userID)
	if err != nil {
		return nil, fmt.Errorf("identity: update profile: %w", err)
	}
	next, err := s.validateProfile(ctx, u, in)
	if err != nil {
		return nil, err
	}
	next.UpdatedAt = s.now()
	if err := s.Users.UpdateProfile(ctx, next); err != nil {
		if errors.Is(err, ErrUsernameTaken) {
			return nil, fieldError(FieldUsername, msgUsernameTaken)
		}
		return nil, fmt.Errorf("identity: update profile: %w", err)
	}
	return next, nil
}

// validateProfile returns a copy of u with in applied, or a
// *ValidationError listing every problem.
func (s *Profiles) validateProfile(ctx context.Context, u *User, in ProfileInput) (*User, error) {
	ve := &ValidationError{}
	next := applyProfile(u, in, s.now(), ve)
	if ve.Fields[FieldUsername] == "" && !strings.EqualFold(next.Username, u.Username) {
		other, _, err := s.Users.FindUserByLogin(ctx, next.Username)
		switch {
		case err == nil && other.ID != u.ID:
			ve.Add(FieldUsername, msgUsernameTaken)
		case err != nil && !errors.Is(err, ErrNotFound):
			return nil, fmt.Errorf("identity: check username: %w", err)
		}
	}
	if err := ve.orNil(); err != nil {
		return nil, err
	}
	return next, nil
}

// applyProfile returns a copy of u with in applied, values normalised,
// and adds every problem to ve (the fields with one keep u's value).
// Whether a new username is free is for the caller to check.
func applyProfile(u *User, in ProfileInput, now time.Time, ve *ValidationError) *User {
	next := *u
	set := func(dst *string, field, value string, check func(field, v string) (string, error)) {
		v, err := check(field, strings.TrimSpace(value))
		if err != nil {
			_ = ve.merge(err) // every check returns a *ValidationError
			return
		}
		*dst = v
	}
	set(&next.Username, FieldUsername, in.Username, keep(func(_, v string) error { return ValidateUsername(v) }))
	set(&next.GivenName, FieldGivenName, in.GivenName, keep(validateName))
	set(&next.MiddleName, FieldMiddleName, in.MiddleName, keep(validateName))
	set(&next.FamilyName, FieldFamilyName, in.FamilyName, keep(validateName))
	set(&next.Nickname, FieldNickname, in.Nickname, keep(validateName))
	set(&next.Picture, FieldPicture, in.Picture, normalizeWebURL)
	set(&next.Website, FieldWebsite, in.Website, normalizeWebURL)
	set(&next.Gender, FieldGender, in.Gender, keep(lineOf(GenderMaxLength)))
	set(&next.Birthdate, FieldBirthdate, in.Birthdate, func(f, v string) (string, error) { return normalizeBirthdate(f, v, now) })
	set(&next.Locale, FieldLocale, in.Locale, normalizeLocale)
	set(&next.Zoneinfo, FieldZoneinfo, in.Zoneinfo, keep(validateZoneinfo))
	a := in.Address
	set(&next.Address.Formatted, FieldFormattedAddress, a.Formatted, linesOf(FormattedAddressMaxLength))
	set(&next.Address.StreetAddress, FieldStreetAddress, a.StreetAddress, linesOf(StreetAddressMaxLength))
	set(&next.Address.Locality, FieldLocality, a.Locality, keep(lineOf(AddressPartMaxLength)))
	set(&next.Address.Region, FieldRegion, a.Region, keep(lineOf(AddressPartMaxLength)))
	set(&next.Address.PostalCode, FieldPostalCode, a.PostalCode, keep(lineOf(PostalCodeMaxLength)))
	set(&next.Address.Country, FieldCountry, a.Country, keep(lineOf(AddressPartMaxLength)))
	return &next
}

// keep adapts a check that does not change the value.
func keep(check func(field, v string) error) func(field, v string) (string, error) {
	return func(field, v string) (string, error) {
		if err := check(field, v); err != nil {
			return "", err
		}
		return v, nil
	}
}

const (
	msgCurrentPasswordEmpty = "Enter your current password."
	msgCurrentPasswordWrong = "Your current password is not correct."
)

// ChangePassword replaces the password of a signed-in user who repeats the
// current one. Problems come back together in one *ValidationError:
// FieldCurrentPassword for a missing or wrong current password (an account
// without a password has no right one), FieldPassword for a new one the
// policy rejects. Afterwards every other session of the user ends (the one
// with ID keepSessionID stays) and MailPasswordChanged is sent.
func (s *Profiles) ChangePassword(ctx context.Context, userID, current, newPassword, keepSessionID string) error {
	u, err := s.Users.GetUser(ctx, userID)
	if err != nil {
		return fmt.Errorf("identity: change password: %w", err)
	}
	hash, err := s.Users.PasswordHash(ctx, u.ID)
	if err != nil {
		return fmt.Errorf("identity: change password: %w", err)
	}
	ve := &ValidationError{}
	if err := ve.merge(s.Policy.Check(newPassword, u.Username, u.Email)); err != nil {
		return err
	}
	switch {
	case current == "":
		ve.Add(FieldCurrentPassword, msgCurrentPasswordEmpty)
	case hash == "" || len(current) > s.Policy.maxBytes():
		ve.Add(FieldCurrentPassword, msgCurrentPasswordWrong)
	}
	var newHash string
	if ve.Fields[FieldCurrentPassword] == "" {
		// One worker for both: the check of the current password and,
		// when it and the new one pass, the hash of the new one.
		var ok bool
		if perr := s.Hasher.pool.Do(ctx, func() {
			if ok, _, err = s.Hasher.verify(current, hash); err == nil && ok && ve.orNil() == nil {
				newHash, err = s.Hasher.hash(newPassword)
			}
		}); perr != nil {
			return fmt.Errorf("identity: change password: %w", perr)
		}
		if err != nil {
			return fmt.Errorf("identity: change password of %s: %w", u.ID, err)
		}
		if !ok {
			ve.Add(FieldCurrentPassword, msgCurrentPasswordWrong)
		}
	}
	if err := ve.orNil(); err != nil {
		return err
	}
	// The new hash and the end of the other sessions are one change.
	return s.inTx(ctx, func(ctx context.Context) error {
		if err := s.Users.SetPasswordHash(ctx, u.ID, newHash); err != nil {
			return fmt.Errorf("identity: change password: %w", err)
		}
		return s.passwordChanged(ctx, s.Sessions, u, keepSessionID)
	})
}
