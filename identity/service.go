package identity

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"time"

	"github.com/google/uuid"
)

// Service applies Gatehouse's account rules on top of a UserStore:
// validation and normalisation of every field, the password policy,
// argon2id hashing and login bookkeeping, verification of e-mail addresses
// and phone numbers, password recovery and the profile. Callers never see
// a hash.
//
// Only Users and Hasher are needed for accounts and logins. The
// verification and recovery methods also need Tokens, TokenKey, Notifier
// and BaseURL, and return an error naming what is missing.
type Service struct {
	// Users stores the accounts.
	Users UserStore
	// Hasher hashes and verifies passwords, in its bounded Pool; required.
	Hasher *Hasher
	// Policy decides which new passwords are acceptable; zero fields take
	// DefaultPasswordPolicy's values.
	Policy PasswordPolicy
	// Lockout is the brute-force detection per account; the zero value
	// takes the defaults (see LockoutPolicy).
	Lockout LockoutPolicy
	// Now is the clock for creation and login times, lockouts and the
	// expiry of codes and links; nil means time.Now.
	Now func() time.Time

	// Tokens stores one-time codes and links.
	Tokens TokenStore
	// TokenKey keys the hashes of one-time codes and links: at least 32
	// random bytes, kept secret. A 6-digit code hashed without a key would
	// be found from its hash in a million tries. Changing the key voids
	// the codes and links outstanding.
	TokenKey []byte
	// Notifier queues e-mails and text messages. Register starts e-mail
	// verification only when it is set.
	Notifier Notifier
	// Sessions ends a user's sessions after a password reset or change;
	// nil ends none.
	Sessions SessionRevoker
	// Tx makes the writes of one change a single transaction, which the
	// other stores (Sessions, Notifier, the hooks' audit trail) join
	// through the context: a password reset's token, hash, lockout,
	// sessions, notice and audit entry commit together or not at all.
	// nil writes them one by one.
	Tx Transactor
	// BaseURL is the issuer URL that links in e-mails start with, e.g.
	// "https://id.example.com".
	BaseURL string
	// DefaultRegion is the ISO 3166-1 alpha-2 region (e.g. "GB") of phone
	// numbers typed without a country code; empty requires the code.
	DefaultRegion string
	// ProductName names the service in text messages; empty leaves it out.
	ProductName string
	// CodeTTL is how long e-mail and phone codes (and the links sent with
	// them) stay valid; zero means DefaultCodeTTL.
	CodeTTL time.Duration
	// ResetTokenTTL is how long a password reset link stays valid; zero
	// means DefaultResetTokenTTL.
	ResetTokenTTL time.Duration
	// ResendCooldown is the least time between two codes or links of one
	// purpose for one user; zero means DefaultResendCooldown.
	ResendCooldown time.Duration
	// HideTakenEmails keeps Register from telling that an e-mail address
	// has an account (see TakenEmailError). It is for deployments that
	// hold new accounts until their address is verified: only there can a
	// registration be answered the same way whether or not it created one.
	HideTakenEmails bool
	// Logger records failures that come after a change is done and so are
	// not returned (a notice that could not be queued); nil discards them.
	Logger *slog.Logger
	// Sleep waits d or until ctx ends; nil waits on a timer. Answers given
	// without checking a password wait as long as a check takes (see
	// LockoutPolicy); tests set it to see the wait without sleeping.
	Sleep func(ctx context.Context, d time.Duration)
	// OnLockout, when set, is told that a lockout started (for the audit
	// trail, which identity does not depend on). ctx is that of the
	// attempt that started it.
	OnLockout func(ctx context.Context, userID, reason string, permanent bool)
	// OnLockedAttempt, when set, is told of a sign-in attempt refused
	// unchecked by a lockout, so that the owner can see it in the
	// account's security activity (the attempt itself got the answer of a
	// wrong password).
	OnLockedAttempt func(ctx context.Context, userID string)
	// OnUnlock, when set, is told that the owner ended a lockout, by
	// "link" (the e-mailed unlock link) or "password_reset".
	OnUnlock func(ctx context.Context, userID, by string)
	// OnPasswordReset, when set, is told of a password reset inside its
	// transaction (see Tx), with the context of that transaction; an
	// error undoes the reset. The audit trail records the reset here, so
	// that the reset and its entry commit together.
	OnPasswordReset func(ctx context.Context, userID string) error

	// resetPace times RequestPasswordReset's answers (see pace). A
	// Service must not be copied after first use.
	resetPace pace
}

func (s *Service) logger() *slog.Logger {
	if s.Logger != nil {
		return s.Logger
	}
	return slog.New(slog.DiscardHandler)
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

func (s *Service) now() time.Time {
	if s.Now != nil {
		return s.Now().UTC()
	}
	return time.Now().UTC()
}

// Register creates an active account for a person signing up. Every field
// problem, a taken username or e-mail address included, comes back
// together in one *ValidationError; with HideTakenEmails a taken address
// is not among them, and when it is the only problem the answer is a
// *TakenEmailError. The e-mail address and the phone
// number (read with DefaultRegion) start unverified. With a Notifier set,
// Register then mails a verification link and code; a failure to do so
// is logged, not returned, since the account exists and the person can
// ask for a new code.
func (s *Service) Register(ctx context.Context, in RegisterInput) (*User, error) {
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
	if s.Notifier != nil {
		if err := s.StartEmailVerification(ctx, u.ID); err != nil {
			s.logger().ErrorContext(ctx, "registration: start email verification", "user_id", u.ID, "error", err)
		}
	}
	return u, nil
}

// CreateUser creates an active account on an administrator's behalf, with
// the same validation as Register except that the e-mail address may be
// left empty.
func (s *Service) CreateUser(ctx context.Context, in CreateInput) (*User, error) {
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
func (s *Service) create(ctx context.Context, u *User, email string, emailRequired bool, password string, ve *ValidationError) (*User, error) {
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
func (s *Service) checkTaken(ctx context.Context, u *User, ve *ValidationError) error {
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

// Authenticate checks a username or e-mail address and password. A wrong
// password, an unknown login, an account without a password, a disabled
// account and a locked one all give (nil, false, nil) and take the time of
// one argon2id verification, so neither the answer nor its timing tells
// which accounts exist, which are locked, or whether a password was right.
// An empty login or password, or a password longer than the policy could
// ever accept, is refused at once without hashing. On success a hash made
// with old parameters is replaced and the login time recorded. err is for
// failures of the store (or a corrupt stored hash), for ErrBusy when the
// Hasher's Pool had no worker in time, and for ctx's end while waiting
// for one or before the outcome was recorded.
//
// Every attempt on an active account is counted before its password is
// checked; one on a locked account, or beyond the Lockout policy's
// MaxFailures, is refused without checking (see LockoutPolicy). A wrong
// password may start a lockout; a right one sets the counts back to zero.
// Unknown logins leave no trace, so the lockout state cannot tell which
// accounts exist. An attempt refused with ErrBusy, or given up by its
// caller while it waited for a worker, is not counted: no password was
// checked, and a flood of sign-ins must not lock the owner out.
func (s *Service) Authenticate(ctx context.Context, login, password string) (*User, bool, error) {
	login = strings.TrimSpace(login)
	if login == "" || password == "" || len(password) > s.Policy.maxBytes() {
		// Decided by the input alone; hashing megabytes would only help an
		// attacker burn CPU.
		return nil, false, nil
	}
	u, hash, err := s.Users.FindUserByLogin(ctx, login)
	if errors.Is(err, ErrNotFound) || err == nil && hash == "" {
		if err := s.Hasher.VerifyDummy(ctx, password); err != nil {
			return nil, false, fmt.Errorf("identity: authenticate: %w", err)
		}
		return nil, false, nil
	}
	if err != nil {
		return nil, false, fmt.Errorf("identity: authenticate: %w", err)
	}
	if u.Status != StatusActive {
		// Checked like any other, so the status is never revealed to
		// someone who does not know the password; not counted, since a
		// disabled account cannot sign in anyway.
		if _, _, err := s.Hasher.Verify(ctx, password, hash); err != nil {
			return nil, false, fmt.Errorf("identity: authenticate user %s: %w", u.ID, err)
		}
		return nil, false, nil
	}
	res, err := s.checkPassword(ctx, u.ID, password, hash)
	if err != nil {
		return nil, false, err
	}
	switch {
	case res.refused:
		s.pause(ctx)
		return nil, false, nil
	case !res.ok:
		if _, err := s.lockIfDue(ctx, u.ID, "password", res.count); err != nil {
			return nil, false, err
		}
		return nil, false, nil
	}
	// Conditional on the account not being locked meanwhile by concurrent
	// attempts: then this one is refused like them. Recorded even if the
	// caller has gone, so that a right password never counts as a wrong one.
	switch err := s.RecordSuccess(context.WithoutCancel(ctx), u.ID); {
	case errors.Is(err, ErrLocked):
		s.lockedAttempt(ctx, u.ID)
		return nil, false, nil
	case err != nil:
		return nil, false, err
	}
	if err := ctx.Err(); err != nil {
		// Nobody is waiting for the answer: no sign-in to record.
		return nil, false, fmt.Errorf("identity: authenticate: %w", err)
	}
	if res.newHash != "" {
		if err := s.Users.SetPasswordHash(ctx, u.ID, res.newHash); err != nil {
			return nil, false, fmt.Errorf("identity: rehash password: %w", err)
		}
	}
	now := s.now()
	if err := s.Users.RecordLogin(ctx, u.ID, now); err != nil {
		return nil, false, fmt.Errorf("identity: record login: %w", err)
	}
	u.LastLoginAt = &now
	u.LockedUntil, u.LockedPermanently = nil, false
	return u, true, nil
}

// passwordCheck is the outcome of checkPassword.
type passwordCheck struct {
	refused bool       // not checked: locked, or beyond MaxFailures
	ok      bool       // the password matched
	count   LoginCount // the counts after this attempt
	newHash string     // a fresh hash to store, when the old one's parameters are outdated
}

// checkPassword takes a worker of the Hasher's Pool, then counts the
// attempt on the active user userID and, if it may be checked, verifies
// password against hash (and hashes it again when hash is outdated). The
// worker is taken first so that an attempt refused for want of one is not
// counted; it is given back before any waiting or further bookkeeping.
func (s *Service) checkPassword(ctx context.Context, userID, password, hash string) (passwordCheck, error) {
	release, err := s.Hasher.pool.acquire(ctx)
	if err != nil {
		return passwordCheck{}, fmt.Errorf("identity: authenticate: %w", err)
	}
	defer release()
	var res passwordCheck
	check, c, err := s.countAttempt(ctx, userID)
	res.count = c
	switch {
	case errors.Is(err, ErrNotFound):
		// Deleted since it was found.
		s.Hasher.verifyDummy(password)
		return passwordCheck{}, nil
	case err != nil:
		return passwordCheck{}, err
	case !check:
		res.refused = true
		return res, nil
	}
	ok, rehash, err := s.Hasher.verify(password, hash)
	if err != nil {
		return passwordCheck{}, fmt.Errorf("identity: authenticate user %s: %w", userID, err)
	}
	res.ok = ok
	if ok && rehash {
		if res.newHash, err = s.Hasher.hash(password); err != nil {
			return passwordCheck{}, err
		}
	}
	return res, nil
}

// SetPassword replaces the password of the user with userID after checking
// it against the policy. It returns a *ValidationError for a password the
// policy rejects and ErrNotFound for an unknown user.
func (s *Service) SetPassword(ctx context.Context, userID, password string) error {
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
func (s *Service) GetUser(ctx context.Context, id string) (*User, error) {
	return s.Users.GetUser(ctx, id)
}
