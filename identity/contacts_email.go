package identity

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"
)

// Messages of the e-mail address forms.
const (
	msgEmailInUse      = "Another account already uses this e-mail address."
	msgEmailUnchanged  = "This is already your e-mail address."
	msgEmailMissing    = "Add an e-mail address to your account first."
	msgNotifierMissing = "identity: Core.Notifier is not set"
)

// greeting is how messages address the user.
// Contacts proves that a user controls an e-mail address or phone number:
// it verifies the address of an account, changes it to a new one once that
// is proven, and verifies phone numbers. It also answers the verification
// of a registration decoy (see TakenEmailError).
type Contacts struct {
	*Core
	// Users stores the accounts.
	Users ContactStore
	// DefaultRegion is the ISO 3166-1 alpha-2 region (e.g. "GB") of phone
	// numbers typed without a country code; empty requires the code.
	DefaultRegion string
	// ProductName names the service in text messages; empty leaves it out.
	ProductName string
}

// ContactStore is what Contacts needs of a UserStore.
type ContactStore interface {
	UserFinder
	// MarkEmailVerified is UserStore.MarkEmailVerified.
	MarkEmailVerified(ctx context.Context, userID, email string, at time.Time) error
	// SetEmail is UserStore.SetEmail.
	SetEmail(ctx context.Context, userID, email string, at time.Time) error
	// SetPhone is UserStore.SetPhone.
	SetPhone(ctx context.Context, userID, phone string, verified bool, at time.Time) error
}

func greeting(u *User) string {
	if u.GivenName != "" {
		return u.GivenName
	}
	return u.Username
}

// notice queues a message that reports a change already made. Its failure
// must not undo or hide the change, so it is logged instead of returned.
func (s *Core) notice(ctx context.Context, userID string, m Mail) {
	if s.Notifier == nil || m.To == "" {
		return
	}
	if err := s.Notifier.SendMail(ctx, m); err != nil {
		s.logger().ErrorContext(ctx, "queue notice", "user_id", userID, "kind", string(m.Kind), "error", err)
	}
}

// StartEmailVerification mails the user a link and a 6-digit code that
// prove their current address, valid for CodeTTL, replacing any earlier
// ones. It does nothing for an address that is already verified, returns
// a *ValidationError for FieldEmail when the user has none, and a
// *CooldownError when the last code went out less than ResendCooldown ago.
func (s *Contacts) StartEmailVerification(ctx context.Context, userID string) error {
	if s.Notifier == nil {
		return errors.New(msgNotifierMissing)
	}
	u, err := s.Users.GetUser(ctx, userID)
	if err != nil {
		return fmt.Errorf("identity: start email verification: %w", err)
	}
	switch {
	case u.EmailVerified:
		return nil
	case u.Email == "":
		return fieldError(FieldEmail, msgEmailMissing)
	}
	return s.sendEmailToken(ctx, u, PurposeVerifyEmail, u.Email, MailVerifyEmail)
}

// sendEmailToken issues a code and link for purpose and mails them to
// target.
func (s *Contacts) sendEmailToken(ctx context.Context, u *User, p Purpose, target string, kind MailKind) error {
	ttl := s.codeTTL()
	tok, err := s.issueToken(ctx, tokenRequest{userID: u.ID, purpose: p, target: target, code: true, link: true, ttl: ttl})
	if err != nil {
		return err
	}
	m := Mail{
		Kind: kind, To: target, Name: greeting(u), Code: tok.code,
		Link: s.linkURL(linkPathVerifyEmail, tok.link), ExpiresIn: humanDuration(ttl), ExpiresAt: tok.token.ExpiresAt,
	}
	if p == PurposeChangeEmail {
		m.NewEmail = target
	}
	if err := s.Notifier.SendMail(ctx, m); err != nil {
		return s.dropToken(ctx, tok.token, fmt.Errorf("identity: queue %s mail: %w", kind, err))
	}
	return nil
}

// VerifyEmailToken takes the token of a link sent by StartEmailVerification
// or ChangeEmail (both point to one page) and verifies the address it was
// sent to, or completes the change to it (see ConfirmEmailChangeToken). It
// returns the updated user, ErrCodeInvalid for a link that is unknown,
// expired or used, or one whose address is no longer the user's, and a
// *ValidationError for FieldEmail when a new address was taken meanwhile.
func (s *Contacts) VerifyEmailToken(ctx context.Context, token string) (*User, error) {
	t, err := s.findLink(ctx, token, PurposeVerifyEmail, PurposeChangeEmail)
	if err != nil {
		return nil, err
	}
	if t.Purpose == PurposeChangeEmail {
		return s.confirmEmailChange(ctx, t)
	}
	return s.verifyEmail(ctx, t)
}

// VerifyEmailCode verifies the user's address with the code mailed by
// StartEmailVerification. It returns ErrCodeInvalid or ErrTooManyAttempts.
func (s *Contacts) VerifyEmailCode(ctx context.Context, userID, code string) error {
	t, err := s.checkCode(ctx, userID, PurposeVerifyEmail, code)
	if err != nil {
		return err
	}
	_, err = s.verifyEmail(ctx, t)
	return err
}

// verifyEmail uses t and marks its address verified, if it is still the
// user's.
func (s *Contacts) verifyEmail(ctx context.Context, t *OneTimeToken) (*User, error) {
	if err := s.useToken(ctx, t); err != nil {
		return nil, err
	}
	err := s.Users.MarkEmailVerified(ctx, t.UserID, t.Target, s.now())
	switch {
	case errors.Is(err, ErrNotFound):
		return nil, ErrCodeInvalid // the address changed since the code was sent
	case err != nil:
		return nil, fmt.Errorf("identity: verify email: %w", err)
	}
	u, err := s.Users.GetUser(ctx, t.UserID)
	if err != nil {
		return nil, fmt.Errorf("identity: verify email: %w", err)
	}
	return u, nil
}

// ChangeEmail starts moving the user to newEmail. The current address stays
// in use until the new one is proven: newEmail gets a link and a code
// (MailConfirmEmailChange) and the current address a notice
// (MailEmailChangeRequested). It returns a *ValidationError for FieldEmail
// when newEmail is invalid, the current address or another account's, and
// a *CooldownError when asked again within ResendCooldown.
func (s *Contacts) ChangeEmail(ctx context.Context, userID, newEmail string) error {
	if s.Notifier == nil {
		return errors.New(msgNotifierMissing)
	}
	u, err := s.Users.GetUser(ctx, userID)
	if err != nil {
		return fmt.Errorf("identity: change email: %w", err)
	}
	addr, err := NormalizeEmail(newEmail)
	if err != nil {
		return err
	}
	if strings.EqualFold(addr, u.Email) {
		return fieldError(FieldEmail, msgEmailUnchanged)
	}
	if err := s.checkEmailFree(ctx, u.ID, addr); err != nil {
		return err
	}
	if err := s.sendEmailToken(ctx, u, PurposeChangeEmail, addr, MailConfirmEmailChange); err != nil {
		return err
	}
	s.notice(ctx, u.ID, Mail{Kind: MailEmailChangeRequested, To: u.Email, Name: greeting(u), NewEmail: addr})
	return nil
}

// ConfirmEmailChangeToken completes a change started by ChangeEmail with
// the token of its link and returns the updated user. See
// VerifyEmailToken, which takes these links too, for the errors.
func (s *Contacts) ConfirmEmailChangeToken(ctx context.Context, token string) (*User, error) {
	t, err := s.findLink(ctx, token, PurposeChangeEmail)
	if err != nil {
		return nil, err
	}
	return s.confirmEmailChange(ctx, t)
}

// ConfirmEmailChangeCode completes a change started by ChangeEmail with the
// code sent to the new address. It returns ErrCodeInvalid,
// ErrTooManyAttempts, or a *ValidationError for FieldEmail when another
// account took the address meanwhile.
func (s *Contacts) ConfirmEmailChangeCode(ctx context.Context, userID, code string) error {
	t, err := s.checkCode(ctx, userID, PurposeChangeEmail, code)
	if err != nil {
		return err
	}
	_, err = s.confirmEmailChange(ctx, t)
	return err
}

// confirmEmailChange makes t's address the user's, verified, and tells the
// old address. Uniqueness is checked again: the address was free when the
// change began, but the code may have waited.
func (s *Contacts) confirmEmailChange(ctx context.Context, t *OneTimeToken) (*User, error) {
	u, err := s.Users.GetUser(ctx, t.UserID)
	if err != nil {
		return nil, fmt.Errorf("identity: confirm email change: %w", err)
	}
	if err := s.checkEmailFree(ctx, u.ID, t.Target); err != nil {
		return nil, err
	}
	if err := s.useToken(ctx, t); err != nil {
		return nil, err
	}
	now := s.now()
	if err := s.Users.SetEmail(ctx, u.ID, t.Target, now); err != nil {
		if errors.Is(err, ErrEmailTaken) {
			return nil, fieldError(FieldEmail, msgEmailInUse)
		}
		return nil, fmt.Errorf("identity: confirm email change: %w", err)
	}
	old := u.Email
	u.Email, u.EmailVerified, u.UpdatedAt = t.Target, true, now
	if !strings.EqualFold(old, u.Email) {
		s.notice(ctx, u.ID, Mail{Kind: MailEmailChanged, To: old, Name: greeting(u), NewEmail: u.Email})
	}
	return u, nil
}

// checkEmailFree returns a *ValidationError for FieldEmail when an account
// other than userID's uses addr.
func (s *Contacts) checkEmailFree(ctx context.Context, userID, addr string) error {
	other, _, err := s.Users.FindUserByLogin(ctx, addr)
	switch {
	case errors.Is(err, ErrNotFound):
		return nil
	case err != nil:
		return fmt.Errorf("identity: check email: %w", err)
	case other.ID != userID:
		return fieldError(FieldEmail, msgEmailInUse)
	}
	return nil
}

// PendingContact returns the e-mail address and the phone number the user
// asked to change to and has not confirmed yet, each empty when there is
// none (or its code expired or was used up).
func (s *Contacts) PendingContact(ctx context.Context, userID string) (email, phone string, err error) {
	if s.Tokens == nil {
		return "", "", nil
	}
	now := s.now()
	for _, p := range []struct {
		purpose Purpose
		dst     *string
	}{{PurposeChangeEmail, &email}, {PurposeVerifyPhone, &phone}} {
		t, err := s.Tokens.GetToken(ctx, userID, p.purpose)
		switch {
		case errors.Is(err, ErrNotFound):
		case err != nil:
			return "", "", fmt.Errorf("identity: pending contact: %w", err)
		case t.live(now):
			*p.dst = t.Target
		}
	}
	return email, phone, nil
}
