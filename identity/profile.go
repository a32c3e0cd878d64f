package identity

import (
	"context"
	"errors"
	"fmt"
	"strings"
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
func (s *Service) UpdateProfile(ctx context.Context, userID string, in ProfileInput) (*User, error) {
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
func (s *Service) validateProfile(ctx context.Context, u *User, in ProfileInput) (*User, error) {
	next := *u
	ve := &ValidationError{}
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
	set(&next.Birthdate, FieldBirthdate, in.Birthdate, func(f, v string) (string, error) { return normalizeBirthdate(f, v, s.now()) })
	set(&next.Locale, FieldLocale, in.Locale, normalizeLocale)
	set(&next.Zoneinfo, FieldZoneinfo, in.Zoneinfo, keep(validateZoneinfo))
	a := in.Address
	set(&next.Address.Formatted, FieldFormattedAddress, a.Formatted, linesOf(FormattedAddressMaxLength))
	set(&next.Address.StreetAddress, FieldStreetAddress, a.StreetAddress, linesOf(StreetAddressMaxLength))
	set(&next.Address.Locality, FieldLocality, a.Locality, keep(lineOf(AddressPartMaxLength)))
	set(&next.Address.Region, FieldRegion, a.Region, keep(lineOf(AddressPartMaxLength)))
	set(&next.Address.PostalCode, FieldPostalCode, a.PostalCode, keep(lineOf(PostalCodeMaxLength)))
	set(&next.Address.Country, FieldCountry, a.Country, keep(lineOf(AddressPartMaxLength)))

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
	return &next, nil
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
