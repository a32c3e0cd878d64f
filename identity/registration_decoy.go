package identity

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"github.com/google/uuid"
)

// PurposeRegistrationAttempt is the state of a registration that was
// answered as if it had created an account although its e-mail address
// already belongs to one (see TakenEmailError). The token sits on the
// owner's account: Target is the address, TokenHash the keyed hash of the
// decoy's ID (so the decoy finds it and nothing else does), and CodeHash
// the hash of a code that is never sent, so that wrong codes count as they
// would against a real verification code. Its CreatedAt paces both the
// owner's notices and the decoy's resends by ResendCooldown.
const PurposeRegistrationAttempt Purpose = "registration_attempt"

// Paths under BaseURL that the registration attempt notice links to.
const (
	linkPathSignIn         = "/login"
	linkPathForgotPassword = "/forgot-password"
)

// TakenEmailError is Register's answer, when HideTakenEmails is set, to a
// registration whose only problem is that another account uses its e-mail
// address. Nothing was created. The owner of the address was mailed that
// someone tried to register with it (MailRegistrationAttempt, at most once
// per ResendCooldown).
//
// The caller must answer exactly as for a new account that waits for its
// address to be verified, with Decoy in place of the user, so the answer
// does not tell who has an account: a "check your inbox" page for Decoy's
// address, where VerifyDecoyCode and ResendDecoyCode stand in for
// VerifyEmailCode and StartEmailVerification.
type TakenEmailError struct {
	// Decoy has a fresh ID, in the form of a user ID, and the address.
	Decoy *User
	// OwnerID is the account that uses the address; empty if it went away
	// meanwhile.
	OwnerID string
}

func (e *TakenEmailError) Error() string {
	return "identity: e-mail address already in use; registration answered as new"
}

// hideTakenEmail takes a taken e-mail address out of Register's problems
// when HideTakenEmails is set. It reports whether that was the only one,
// and returns the problems left.
func (s *Accounts) hideTakenEmail(err error) (bool, error) {
	var ve *ValidationError
	if !s.HideTakenEmails || !errors.As(err, &ve) || ve.Fields[FieldEmail] != msgEmailTaken {
		return false, err
	}
	delete(ve.Fields, FieldEmail)
	if len(ve.Fields) == 0 {
		return true, nil
	}
	return false, ve
}

// registrationDecoy does what Register does for a new account, short of
// creating it, and returns the *TakenEmailError that stands for it.
func (s *Accounts) registrationDecoy(ctx context.Context, addr, password string) error {
	// The work a new account costs, so the answer takes as long.
	if _, err := s.Hasher.Hash(ctx, password); err != nil {
		return err
	}
	id, err := uuid.NewV7()
	if err != nil {
		return fmt.Errorf("identity: new decoy id: %w", err)
	}
	now := s.now()
	te := &TakenEmailError{Decoy: &User{ID: id.String(), Email: addr, Status: StatusActive, CreatedAt: now, UpdatedAt: now}}
	owner, _, err := s.Users.FindUserByLogin(ctx, addr)
	switch {
	case errors.Is(err, ErrNotFound):
		return te // deleted since the check: nobody to tell
	case err != nil:
		return fmt.Errorf("identity: registration decoy: %w", err)
	}
	te.OwnerID = owner.ID
	if s.Contacts == nil {
		return te
	}
	var ce *CooldownError
	if err := s.Contacts.startDecoy(ctx, owner, te.Decoy.ID); err != nil && !errors.As(err, &ce) {
		// As for a new account whose verification mail failed.
		s.logger().ErrorContext(ctx, "registration attempt: notify owner", "user_id", owner.ID, "error", err)
	}
	return te
}

// startDecoy stores the decoy's token on the owner's account and mails the
// owner, or returns a *CooldownError when the owner's last notice is
// younger than ResendCooldown; the earlier attempt's token then stays.
func (s *Contacts) startDecoy(ctx context.Context, owner *User, decoyID string) error {
	if s.Notifier == nil || s.Tokens == nil || owner.Email == "" {
		return nil
	}
	k, err := s.tokenHasher()
	if err != nil {
		return err
	}
	code, err := newCode() // never sent: no code can verify a decoy
	if err != nil {
		return err
	}
	id, err := uuid.NewV7()
	if err != nil {
		return fmt.Errorf("identity: new token id: %w", err)
	}
	now, cooldown := s.now(), s.cooldown()
	t := &OneTimeToken{
		ID: id.String(), UserID: owner.ID, Purpose: PurposeRegistrationAttempt, Target: owner.Email,
		CodeHash: k.code(owner.ID, PurposeRegistrationAttempt, code), TokenHash: k.link(decoyID),
		ExpiresAt: now.Add(s.codeTTL()), CreatedAt: now,
	}
	ok, err := s.Tokens.PutToken(ctx, t, now.Add(-cooldown))
	if err != nil {
		return fmt.Errorf("identity: store %s token: %w", t.Purpose, err)
	}
	if !ok {
		return s.cooldownError(ctx, owner.ID, PurposeRegistrationAttempt, now, cooldown)
	}
	base := strings.TrimRight(s.BaseURL, "/")
	s.notice(ctx, owner.ID, Mail{Kind: MailRegistrationAttempt, To: owner.Email, Name: greeting(owner),
		Link: base + linkPathSignIn, ResetLink: base + linkPathForgotPassword})
	return nil
}

// VerifyDecoyCode stands in for VerifyEmailCode on the page of a decoy
// (see TakenEmailError): every code fails as a wrong one would, with
// ErrCodeInvalid, and counts towards MaxCodeAttempts, after which the
// answer is ErrTooManyAttempts until a new code is asked for.
func (s *Contacts) VerifyDecoyCode(ctx context.Context, decoyID, code string) error {
	if s.Tokens == nil {
		return ErrCodeInvalid
	}
	k, err := s.tokenHasher()
	if err != nil {
		return err
	}
	find := func() (*OneTimeToken, error) {
		t, err := s.Tokens.FindToken(ctx, k.link(decoyID))
		if err == nil && t.Purpose != PurposeRegistrationAttempt {
			return nil, ErrNotFound
		}
		return t, err
	}
	_, err = s.tryCode(ctx, find, code, func(*OneTimeToken, string) bool { return false })
	if err == nil { // cannot happen: nothing matches
		err = ErrCodeInvalid
	}
	return err
}

// ResendDecoyCode stands in for StartEmailVerification on the page of a
// decoy for addr: like a real resend it returns a *CooldownError within
// ResendCooldown of the last one, and otherwise starts over, which mails
// the owner of addr again.
func (s *Contacts) ResendDecoyCode(ctx context.Context, decoyID, addr string) error {
	owner, _, err := s.Users.FindUserByLogin(ctx, addr)
	switch {
	case errors.Is(err, ErrNotFound):
		return nil // the account went away: nothing to send, as if sent
	case err != nil:
		return fmt.Errorf("identity: resend decoy code: %w", err)
	}
	return s.startDecoy(ctx, owner, decoyID)
}
