package identity

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"github.com/google/uuid"
)

// Accounts creates and looks up accounts: sign-up (Register), creation by
// an administrator, the lookup of users and login names, and the
// password an administrator sets.
type Accounts struct {
	*Core
	// Users stores the accounts.
	Users AccountStore
	// Policy decides which new passwords are acceptable; zero fields take
	// DefaultPasswordPolicy's values.
	Policy PasswordPolicy
	// DefaultRegion is the ISO 3166-1 alpha-2 region (e.g. "GB") of phone
	// numbers typed without a country code; empty requires the code.
	DefaultRegion string
	// HideTakenEmails keeps Register from telling that an e-mail address
	// has an account (see TakenEmailError). It is for deployments that
	// hold new accounts until their address is verified: only there can a
	// registration be answered the same way whether or not it created one.
	HideTakenEmails bool
	// Contacts verifies the e-mail address of a new account and tells the
	// owner of a taken one (see TakenEmailError); nil does neither.
	Contacts *Contacts
}

// AccountStore is what Accounts needs of a UserStore.
type AccountStore interface {
	UserFinder
	// CreateUser is UserStore.CreateUser.
	CreateUser(ctx context.Context, u *User, passwordHash string) error
	// SetPasswordHash is UserStore.SetPasswordHash.
	SetPasswordHash(ctx context.Context, userID, hash string) error
}

// Messages for uniqueness conflicts. Registration has to say that a
// username is taken, or nobody could pick another one; for the e-mail
// address the message points to the ways back into the existing account.
const (
	msgUsernameTaken = "This username is already taken. Choose another one."
	msgEmailTaken    = "An account already uses this e-mail address. Sign in, or reset your password if you forgot it."
)

// RegisterInput is what a person fills in on the registration page.
type RegisterInput struct {
	Username   string
	Email      string // required
	Password   string
	GivenName  string // optional
	FamilyName string // optional
	Phone      string // optional; stored in E.164, unverified
}

// CreateInput is what an administrator supplies to create an account.
type CreateInput struct {
	Username      string
	Email         string // optional
	Password      string
	Roles         []string
	EmailVerified bool
}

// Register creates an active account for a person signing up. Every field
// problem, a taken username or e-mail address included, comes back
// together in one *ValidationError; with HideTakenEmails a taken address
// is not among them, and when it is the only problem the answer is a
// *TakenEmailError. The e-mail address and the phone
// number (read with DefaultRegion) start unverified. With Contacts and a
// Notifier set, Register then mails a verification link and code; a
// failure to do so is logged, not returned, since the account exists and
// the person can ask for a new code.
func (s *Accounts) Register(ctx context.Context, in RegisterInput) (*User, error) {
	u := &User{
		Username:   strings.TrimSpace(in.Username),
		GivenName:  strings.TrimSpace(in.GivenName),
		FamilyName: strings.TrimSpace(in.FamilyName),
	}
	ve := &ValidationError{}
	if err := ve.merge(validateName(FieldGivenName, u.GivenName)); err != nil {
		return nil, err
	}
	if err := ve.merge(validateName(FieldFamilyName, u.FamilyName)); err != nil {
		return nil, err
	}
	if strings.TrimSpace(in.Phone) != "" {
		phone, err := NormalizePhone(in.Phone, s.DefaultRegion)
		if err := ve.merge(err); err != nil {
			return nil, err
		}
		u.Phone = phone
	}
	draft := u
	u, err := s.create(ctx, u, in.Email, true, in.Password, ve)
	onlyTaken, err := s.hideTakenEmail(err)
	switch {
	case onlyTaken:
		return nil, s.registrationDecoy(ctx, draft.Email, in.Password)
	case err != nil:
		return nil, err
	}
	if s.Contacts != nil && s.Notifier != nil {
		if err := s.Contacts.StartEmailVerification(ctx, u.ID); err != nil {
			s.logger().ErrorContext(ctx, "registration: start email verification", "user_id", u.ID, "error", err)
		}
	}
	return u, nil
}

// CreateUser creates an active account on an administrator's behalf, with
// the same validation as Register except that the e-mail address may be
// left empty.
func (s *Accounts) CreateUser(ctx context.Context, in CreateInput) (*User, error) {
	u := &User{
		Username:      strings.TrimSpace(in.Username),
		EmailVerified: in.EmailVerified,
	}
	ve := &ValidationError{}
	roles, err := normalizeRoles(in.Roles)
	if err := ve.merge(err); err != nil {
		return nil, err
	}
	u.Roles = roles
	return s.create(ctx, u, in.Email, false, in.Password, ve)
}

// create validates username, e-mail and password into ve (which may already
// hold problems of other fields), checks uniqueness up front so both
// conflicts can be reported at once, then hashes and stores.
func (s *Accounts) create(ctx context.Context, u *User, email string, emailRequired bool, password string, ve *ValidationError) (*User, error) {
	if err := ve.merge(ValidateUsername(u.Username)); err != nil {
		return nil, err
	}
	if strings.TrimSpace(email) != "" || emailRequired {
		addr, err := NormalizeEmail(email)
		if err := ve.merge(err); err != nil {
			return nil, err
		}
		u.Email = addr
	}
	if err := ve.merge(s.Policy.Check(password, u.Username, u.Email)); err != nil {
		return nil, err
	}
	if err := s.checkTaken(ctx, u, ve); err != nil {
		return nil, err
	}
	if err := ve.orNil(); err != nil {
		return nil, err
	}

	hash, err := s.Hasher.Hash(ctx, password)
	if err != nil {
		return nil, err
	}
	id, err := uuid.NewV7()
	if err != nil {
		return nil, fmt.Errorf("identity: new user id: %w", err)
	}
	now := s.now()
	u.ID = id.String()
	u.Status = StatusActive
	u.CreatedAt, u.UpdatedAt = now, now
	if err := s.Users.CreateUser(ctx, u, hash); err != nil {
		// Someone took the name or address between the check and now.
		switch {
		case errors.Is(err, ErrUsernameTaken):
			return nil, fieldError(FieldUsername, msgUsernameTaken)
		case errors.Is(err, ErrEmailTaken):
			return nil, fieldError(FieldEmail, msgEmailTaken)
		}
		return nil, fmt.Errorf("identity: create user: %w", err)
	}
	return u, nil
}

// checkTaken adds a problem to ve for a valid username or e-mail address
// that another account already uses.
func (s *Accounts) checkTaken(ctx context.Context, u *User, ve *ValidationError) error {
	for _, c := range []struct{ field, value, msg string }{
		{FieldUsername, u.Username, msgUsernameTaken},
		{FieldEmail, u.Email, msgEmailTaken},
	} {
		if c.value == "" || ve.Fields[c.field] != "" {
			continue
		}
		_, _, err := s.Users.FindUserByLogin(ctx, c.value)
		switch {
		case err == nil:
			ve.Add(c.field, c.msg)
		case !errors.Is(err, ErrNotFound):
			return fmt.Errorf("identity: check %s: %w", c.field, err)
		}
	}
	return nil
}

// SetPassword replaces the password of the user with userID after checking
// it against the policy. It returns a *ValidationError for a password the
// policy rejects and ErrNotFound for an unknown user.
func (s *Accounts) SetPassword(ctx context.Context, userID, password string) error {
	u, err := s.Users.GetUser(ctx, userID)
	if err != nil {
		return fmt.Errorf("identity: set password: %w", err)
	}
	if err := s.Policy.Check(password, u.Username, u.Email); err != nil {
		return err
	}
	hash, err := s.Hasher.Hash(ctx, password)
	if err != nil {
		return err
	}
	if err := s.Users.SetPasswordHash(ctx, u.ID, hash); err != nil {
		return fmt.Errorf("identity: set password: %w", err)
	}
	return nil
}

// GetUser returns the user with the given ID, or ErrNotFound.
func (s *Accounts) GetUser(ctx context.Context, id string) (*User, error) {
	return s.Users.GetUser(ctx, id)
}
