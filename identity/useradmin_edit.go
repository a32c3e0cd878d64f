package identity

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strings"

	"github.com/google/uuid"

	"gatehouse/identity/access"
	"gatehouse/identity/audit"
)

// Field names of UserAdmin's inputs beyond the profile's, after the
// OpenID Connect claims.
const (
	FieldEmailVerified = "email_verified"
	FieldPhoneNumber   = "phone_number"
	FieldPhoneVerified = "phone_number_verified"
	FieldInvite        = "invite"
)

// AdminCreateInput is a user an administrator creates. Exactly one of
// Password and Invite is given.
type AdminCreateInput struct {
	Username      string
	Email         string // required with Invite
	EmailVerified bool
	Phone         string // read with UserAdmin.DefaultRegion, stored in E.164
	PhoneVerified bool
	GivenName     string
	FamilyName    string
	MiddleName    string
	Nickname      string
	Picture       string
	Website       string
	Gender        string
	Birthdate     string
	Locale        string
	Zoneinfo      string
	Address       Address
	// Password is the user's first password.
	Password string
	// Invite creates the user without a password and mails them a
	// single-use link, valid UserAdmin.InviteTTL, to choose one.
	Invite bool
	// Roles are granted at once; any but "user" needs users:admin.
	Roles []string
}

// UserPatch is a change of a user: each field set replaces the value
// ("" clears it), each nil one stays.
type UserPatch struct {
	Username      *string
	Email         *string
	EmailVerified *bool
	Phone         *string
	PhoneVerified *bool
	GivenName     *string
	FamilyName    *string
	MiddleName    *string
	Nickname      *string
	Picture       *string
	Website       *string
	Gender        *string
	Birthdate     *string
	Locale        *string
	Zoneinfo      *string
	Address       *Address
}

// ETag is a strong validator of the user's current state, for
// If-Match: every change of the user (last sign-in time aside) changes
// it. It hashes the id, the update time and the fields themselves, so it
// changes even when two changes fall within one tick of the clock.
func ETag(u *User) string {
	v := *u
	v.LastLoginAt = nil
	b, _ := json.Marshal(v) // a User always encodes
	h := sha256.New()
	fmt.Fprintf(h, "%s\x00%d\x00", u.ID, u.UpdatedAt.UnixNano())
	h.Write(b)
	return `"` + hex.EncodeToString(h.Sum(nil)[:16]) + `"`
}

// etagMatches reports whether the If-Match value ifMatch names tag: "*",
// or a list of strong validators one of which is tag (RFC 9110 §13.1.1:
// If-Match uses the strong comparison, so weak ones never match).
func etagMatches(ifMatch, tag string) bool {
	for _, t := range strings.Split(ifMatch, ",") {
		if t = strings.TrimSpace(t); t == "*" || t == tag {
			return true
		}
	}
	return false
}

// Create creates an active user with a password, or without one and an
// invitation mailed to Email. It needs users:write, and users:admin to
// grant any role but "user". Every problem of the input comes back in
// one *ValidationError (keys after the claims: "email", "phone_number",
// "given_name", ...); an unknown role is ErrUnknownRole.
func (s *UserAdmin) Create(ctx context.Context, actor Actor, in AdminCreateInput) (*User, error) {
	if !actor.Can(access.UsersWrite) {
		return nil, ErrForbidden
	}
	roles, err := uniqueRoleNames(in.Roles)
	if err != nil {
		return nil, fieldError(FieldRoles, "Use role names of lowercase letters, digits, _ and -, starting with a letter.")
	}
	if slices.ContainsFunc(roles, func(r string) bool { return r != access.RoleUser }) && !actor.Can(access.UsersAdmin) {
		return nil, ErrForbidden
	}
	u, err := s.validateNew(ctx, in)
	if err != nil {
		return nil, err
	}
	u.Roles = roles
	var hash string
	if !in.Invite {
		if hash, err = s.Hasher.Hash(ctx, in.Password); err != nil {
			return nil, err
		}
	}
	id, err := uuid.NewV7()
	if err != nil {
		return nil, fmt.Errorf("identity: new user id: %w", err)
	}
	now := s.now()
	u.ID, u.Status, u.CreatedAt, u.UpdatedAt = id.String(), StatusActive, now, now
	err = s.inTx(ctx, func(ctx context.Context) error {
		custom, err := s.customRoles(ctx)
		if err != nil {
			return err
		}
		for _, r := range roles {
			if !known(r, custom) {
				return fmt.Errorf("%w %q", ErrUnknownRole, r)
			}
		}
		if err := s.Users.CreateUser(ctx, u, hash); err != nil {
			return takenField(err)
		}
		action := audit.ActionUsersCreated
		if in.Invite {
			action = audit.ActionUsersInvited
			if err := s.invite(ctx, u); err != nil {
				return err
			}
		}
		if err := s.record(ctx, actor, action, u.ID, audit.Details{"roles": strings.Join(roles, ",")}); err != nil {
			return err
		}
		// As stored, so that its ETag is the one a later read gives.
		u, err = s.Users.GetUser(ctx, u.ID)
		return err
	})
	if err != nil {
		return nil, fmt.Errorf("identity: create user: %w", err)
	}
	return u, nil
}

// validateNew checks and normalises in into a new user, or returns every
// problem in one *ValidationError.
func (s *UserAdmin) validateNew(ctx context.Context, in AdminCreateInput) (*User, error) {
	ve := &ValidationError{}
	u := applyProfile(&User{}, ProfileInput{
		Username: in.Username, GivenName: in.GivenName, FamilyName: in.FamilyName, MiddleName: in.MiddleName,
		Nickname: in.Nickname, Picture: in.Picture, Website: in.Website, Gender: in.Gender, Birthdate: in.Birthdate,
		Locale: in.Locale, Zoneinfo: in.Zoneinfo, Address: in.Address,
	}, s.now(), ve)
	if strings.TrimSpace(in.Email) != "" || in.Invite {
		addr, err := NormalizeEmail(in.Email)
		if err := ve.merge(err); err != nil {
			return nil, err
		}
		u.Email, u.EmailVerified = addr, in.EmailVerified && addr != ""
	}
	if strings.TrimSpace(in.Phone) != "" {
		phone, err := NormalizePhone(in.Phone, s.DefaultRegion)
		if err := ve.merge(err); err != nil {
			return nil, err
		}
		u.Phone, u.PhoneVerified = phone, in.PhoneVerified && phone != ""
	}
	switch {
	case in.Invite && in.Password != "":
		ve.Add(FieldPassword, "Set a password or send an invitation, not both.")
	case !in.Invite && in.Password == "":
		ve.Add(FieldPassword, "Set a password, or send an invitation to choose one.")
	case !in.Invite:
		if err := ve.merge(s.Policy.Check(in.Password, u.Username, u.Email)); err != nil {
			return nil, err
		}
	}
	if err := s.checkTaken(ctx, "", u, ve); err != nil {
		return nil, err
	}
	if err := claimFields(ve).orNil(); err != nil {
		return nil, err
	}
	return u, nil
}

// invite mails the new user u the link that sets the first password.
func (s *UserAdmin) invite(ctx context.Context, u *User) error {
	if s.Notifier == nil {
		return errors.New(msgNotifierMissing)
	}
	ttl := s.inviteTTL()
	tok, err := s.issueToken(ctx, tokenRequest{userID: u.ID, purpose: PurposeInvite, target: u.Email, link: true, ttl: ttl, replace: true})
	if err != nil {
		return err
	}
	m := Mail{
		Kind: MailInvite, To: u.Email, Name: greeting(u),
		Link: s.linkURL(linkPathSetPassword, tok.link), ExpiresIn: humanDuration(ttl), ExpiresAt: tok.token.ExpiresAt,
	}
	if err := s.Notifier.SendMail(ctx, m); err != nil {
		return fmt.Errorf("identity: queue invitation: %w", err)
	}
	return nil
}

// Update applies p to the user with id. It needs users:write. A non-empty
// ifMatch must match the user's ETag, checked in the transaction that
// writes with the row held, so of two changes made on one version one
// wins and the other gets ErrPreconditionFailed. Fields are validated as
// on the profile and at registration (one *ValidationError, keys after
// the claims). A new e-mail address or phone number is unverified unless
// the patch says it is verified. A patch that changes nothing writes and
// audits nothing.
func (s *UserAdmin) Update(ctx context.Context, actor Actor, id string, p UserPatch, ifMatch string) (*User, error) {
	u, err := s.change(ctx, actor, access.UsersWrite, id, false, func(ctx context.Context, u *User) (string, audit.Details, error) {
		if ifMatch != "" && !etagMatches(ifMatch, ETag(u)) {
			return "", nil, ErrPreconditionFailed
		}
		next, err := s.applyPatch(ctx, u, p)
		if err != nil {
			return "", nil, err
		}
		changed := changedFields(u, next)
		if len(changed) == 0 {
			return "", nil, nil
		}
		// Later than the last change even on a coarse or frozen clock.
		next.UpdatedAt = s.now()
		if !next.UpdatedAt.After(u.UpdatedAt) {
			next.UpdatedAt = u.UpdatedAt.Add(1000) // a microsecond, what the stores keep
		}
		if err := s.Users.UpdateUser(ctx, next); err != nil {
			return "", nil, takenField(err)
		}
		return audit.ActionUsersUpdated, audit.Details{"fields": strings.Join(changed, ",")}, nil
	})
	if err != nil {
		return nil, fmt.Errorf("identity: update user: %w", err)
	}
	return u, nil
}

// applyPatch returns a copy of u with p applied, or a *ValidationError.
func (s *UserAdmin) applyPatch(ctx context.Context, u *User, p UserPatch) (*User, error) {
	in := ProfileOf(u)
	for _, f := range []struct {
		dst *string
		src *string
	}{
		{&in.Username, p.Username}, {&in.GivenName, p.GivenName}, {&in.FamilyName, p.FamilyName},
		{&in.MiddleName, p.MiddleName}, {&in.Nickname, p.Nickname}, {&in.Picture, p.Picture},
		{&in.Website, p.Website}, {&in.Gender, p.Gender}, {&in.Birthdate, p.Birthdate},
		{&in.Locale, p.Locale}, {&in.Zoneinfo, p.Zoneinfo},
	} {
		if f.src != nil {
			*f.dst = *f.src
		}
	}
	if p.Address != nil {
		in.Address = *p.Address
	}
	ve := &ValidationError{}
	next := applyProfile(u, in, s.now(), ve)
	if p.Email != nil {
		next.Email, next.EmailVerified = "", false
		if strings.TrimSpace(*p.Email) != "" {
			addr, err := NormalizeEmail(*p.Email)
			if err := ve.merge(err); err != nil {
				return nil, err
			}
			next.Email = addr
			// The same address keeps its state; a new one is unverified.
			next.EmailVerified = u.EmailVerified && strings.EqualFold(addr, u.Email)
		}
	}
	if p.EmailVerified != nil {
		next.EmailVerified = *p.EmailVerified
	}
	if p.Phone != nil {
		next.Phone, next.PhoneVerified = "", false
		if strings.TrimSpace(*p.Phone) != "" {
			phone, err := NormalizePhone(*p.Phone, s.DefaultRegion)
			if err := ve.merge(err); err != nil {
				return nil, err
			}
			next.Phone = phone
			next.PhoneVerified = u.PhoneVerified && phone == u.Phone
		}
	}
	if p.PhoneVerified != nil {
		next.PhoneVerified = *p.PhoneVerified
	}
	if next.EmailVerified && next.Email == "" {
		ve.Add(FieldEmailVerified, "There is no e-mail address to mark verified.")
	}
	if next.PhoneVerified && next.Phone == "" {
		ve.Add(FieldPhoneVerified, "There is no phone number to mark verified.")
	}
	check := &User{}
	if !strings.EqualFold(next.Username, u.Username) {
		check.Username = next.Username
	}
	if !strings.EqualFold(next.Email, u.Email) {
		check.Email = next.Email
	}
	if err := s.checkTaken(ctx, u.ID, check, ve); err != nil {
		return nil, err
	}
	if err := claimFields(ve).orNil(); err != nil {
		return nil, err
	}
	return next, nil
}

// checkTaken adds a problem to ve for a valid username or e-mail address
// of u that a user other than self already uses.
func (s *UserAdmin) checkTaken(ctx context.Context, self string, u *User, ve *ValidationError) error {
	for _, c := range []struct{ field, value, msg string }{
		{FieldUsername, u.Username, msgUsernameTaken},
		{FieldEmail, u.Email, "Another account already uses this e-mail address."},
	} {
		if c.value == "" || ve.Fields[c.field] != "" {
			continue
		}
		other, _, err := s.Users.FindUserByLogin(ctx, c.value)
		switch {
		case err == nil && other.ID != self:
			ve.addTaken(c.field, c.msg)
		case err != nil && !errors.Is(err, ErrNotFound):
			return fmt.Errorf("identity: check %s: %w", c.field, err)
		}
	}
	return nil
}

// takenField turns a uniqueness conflict the store found (someone took
// the name or address between the check and the write) into a
// *ValidationError.
func takenField(err error) error {
	ve := &ValidationError{}
	switch {
	case errors.Is(err, ErrUsernameTaken):
		ve.addTaken(FieldUsername, msgUsernameTaken)
	case errors.Is(err, ErrEmailTaken):
		ve.addTaken(FieldEmail, "Another account already uses this e-mail address.")
	default:
		return err
	}
	return ve
}

// claimFields renames the keys of ve that differ from the claims'.
func claimFields(ve *ValidationError) *ValidationError {
	if msg, ok := ve.Fields[FieldPhone]; ok {
		delete(ve.Fields, FieldPhone)
		ve.Add(FieldPhoneNumber, msg)
	}
	return ve
}

// changedFields names, after the claims, the fields that differ between
// u and next.
func changedFields(u, next *User) []string {
	var out []string
	for _, f := range []struct {
		name string
		same bool
	}{
		{FieldUsername, u.Username == next.Username},
		{FieldEmail, u.Email == next.Email},
		{FieldEmailVerified, u.EmailVerified == next.EmailVerified},
		{FieldPhoneNumber, u.Phone == next.Phone},
		{FieldPhoneVerified, u.PhoneVerified == next.PhoneVerified},
		{FieldGivenName, u.GivenName == next.GivenName},
		{FieldFamilyName, u.FamilyName == next.FamilyName},
		{FieldMiddleName, u.MiddleName == next.MiddleName},
		{FieldNickname, u.Nickname == next.Nickname},
		{FieldPicture, u.Picture == next.Picture},
		{FieldWebsite, u.Website == next.Website},
		{FieldGender, u.Gender == next.Gender},
		{FieldBirthdate, u.Birthdate == next.Birthdate},
		{FieldLocale, u.Locale == next.Locale},
		{FieldZoneinfo, u.Zoneinfo == next.Zoneinfo},
		{"address", u.Address == next.Address},
	} {
		if !f.same {
			out = append(out, f.name)
		}
	}
	return out
}
