package identity

import (
	"context"
	"errors"
	"fmt"
	"strings"
)

// Errors of AdminResetPassword besides ErrNotFound.
var (
	ErrAccountDisabled = errors.New("identity: account is disabled")
	ErrNoEmail         = errors.New("identity: account has no e-mail address")
)

const (
	msgCurrentPasswordEmpty = "Enter your current password."
	msgCurrentPasswordWrong = "Your current password is not correct."
)

// RequestPasswordReset mails a single-use reset link, valid for
// ResetTokenTTL, to the account whose username or e-mail address is login.
// For an unknown or disabled account, one without an e-mail address, or
// within ResendCooldown of the last link, it sends nothing and still
// returns nil: the caller answers the same either way. A mail is queued
// durably before it returns, so the caller's answer can be trusted to
// survive a crash, and every case returns at the same time after the call
// began (see pace), so the caller may answer at once. err is for failures
// of the store or the queue only.
func (s *Service) RequestPasswordReset(ctx context.Context, login string) error {
	// The floor is read before the work, so that requests made together
	// leave together whatever their case.
	start, floor := s.clock(), s.resetPace.floor()
	err := s.requestReset(ctx, login)
	var ce *CooldownError
	switch {
	case err == nil:
		s.resetPace.observe(s.clock().Sub(start))
	case errors.Is(err, ErrNotFound) || errors.Is(err, ErrAccountDisabled) || errors.Is(err, ErrNoEmail) || errors.As(err, &ce):
	default:
		return err
	}
	s.wait(ctx, floor-s.clock().Sub(start))
	return nil
}

// AdminResetPassword is RequestPasswordReset for an administrator, who
// learns why nothing was sent: ErrNotFound, ErrAccountDisabled, ErrNoEmail
// or a *CooldownError.
func (s *Service) AdminResetPassword(ctx context.Context, login string) error {
	return s.requestReset(ctx, login)
}

func (s *Service) requestReset(ctx context.Context, login string) error {
	if s.Notifier == nil {
		return errors.New(msgNotifierMissing)
	}
	login = strings.TrimSpace(login)
	u, _, err := s.Users.FindUserByLogin(ctx, login)
	switch {
	case err != nil:
		return fmt.Errorf("identity: password reset for %q: %w", login, err)
	case u.Status != StatusActive:
		return fmt.Errorf("identity: password reset for %q: %w", login, ErrAccountDisabled)
	case u.Email == "":
		return fmt.Errorf("identity: password reset for %q: %w", login, ErrNoEmail)
	}
	ttl := s.resetTTL()
	tok, err := s.issueToken(ctx, tokenRequest{userID: u.ID, purpose: PurposePasswordReset, target: u.Email, link: true, ttl: ttl})
	if err != nil {
		return err
	}
	m := Mail{
		Kind: MailPasswordReset, To: u.Email, Name: greeting(u),
		Link: s.linkURL(linkPathResetPassword, tok.link), ExpiresIn: humanDuration(ttl), ExpiresAt: tok.token.ExpiresAt,
	}
	if err := s.Notifier.SendMail(ctx, m); err != nil {
		return s.dropToken(ctx, tok.token, fmt.Errorf("identity: queue reset mail: %w", err))
	}
	return nil
}

// CheckResetToken returns the ID of the user a reset link's token belongs
// to, so the page can offer the form, without using the token. It returns
// ErrCodeInvalid for a link that is unknown, expired or used, whose account
// is disabled, or whose account's address changed since it was sent.
func (s *Service) CheckResetToken(ctx context.Context, token string) (string, error) {
	_, u, err := s.resetToken(ctx, token)
	if err != nil {
		return "", err
	}
	return u.ID, nil
}

// ResetPassword sets a new password with a reset link's token: it checks
// the password policy (a *ValidationError for FieldPassword, which leaves
// the token usable), uses the token, replaces the hash, ends any lockout
// and sets the failure counts to zero (the owner has proved control of
// the account), marks the address the link went to as verified (following
// it proved the address), ends every session of the user and mails
// MailPasswordChanged. Token errors are those of CheckResetToken.
func (s *Service) ResetPassword(ctx context.Context, token, newPassword string) (*User, error) {
	t, u, err := s.resetToken(ctx, token)
	if err != nil {
		return nil, err
	}
	if err := s.Policy.Check(newPassword, u.Username, u.Email); err != nil {
		return nil, err
	}
	// Hashed before the token is used: a reset refused with ErrBusy
	// leaves the link good for another try.
	hash, err := s.Hasher.Hash(ctx, newPassword)
	if err != nil {
		return nil, err
	}
	// One transaction: a failure anywhere leaves the link usable, the old
	// password, the lockout and the sessions as they were, and no notice
	// or audit entry behind.
	err = s.inTx(ctx, func(ctx context.Context) error {
		if err := s.useToken(ctx, t); err != nil {
			return err
		}
		if err := s.Users.SetPasswordHash(ctx, u.ID, hash); err != nil {
			return fmt.Errorf("identity: reset password: %w", err)
		}
		if err := s.Users.UnlockUser(ctx, u.ID); err != nil {
			return fmt.Errorf("identity: reset password: %w", err)
		}
		if u.LockedAt(s.now()) {
			s.unlocked(ctx, u.ID, "password_reset")
		}
		if !u.EmailVerified {
			err := s.Users.MarkEmailVerified(ctx, u.ID, t.Target, s.now())
			if err != nil && !errors.Is(err, ErrNotFound) { // not found: the address changed just now
				return fmt.Errorf("identity: reset password: %w", err)
			}
			u.EmailVerified = err == nil
		}
		if err := s.passwordChanged(ctx, u, ""); err != nil {
			return err
		}
		if s.OnPasswordReset != nil {
			if err := s.OnPasswordReset(ctx, u.ID); err != nil {
				return fmt.Errorf("identity: reset password: %w", err)
			}
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	u.LockedUntil, u.LockedPermanently = nil, false
	return u, nil
}

// resetToken returns the live reset token behind a link and its active
// user, or ErrCodeInvalid.
func (s *Service) resetToken(ctx context.Context, token string) (*OneTimeToken, *User, error) {
	t, err := s.findLink(ctx, token, PurposePasswordReset)
	if err != nil {
		return nil, nil, err
	}
	u, err := s.Users.GetUser(ctx, t.UserID)
	switch {
	case errors.Is(err, ErrNotFound):
		return nil, nil, ErrCodeInvalid
	case err != nil:
		return nil, nil, fmt.Errorf("identity: check reset token: %w", err)
	case u.Status != StatusActive || !strings.EqualFold(u.Email, t.Target):
		return nil, nil, ErrCodeInvalid
	}
	return t, u, nil
}

// ChangePassword replaces the password of a signed-in user who repeats the
// current one. Problems come back together in one *ValidationError:
// FieldCurrentPassword for a missing or wrong current password (an account
// without a password has no right one), FieldPassword for a new one the
// policy rejects. Afterwards every other session of the user ends (the one
// with ID keepSessionID stays) and MailPasswordChanged is sent.
func (s *Service) ChangePassword(ctx context.Context, userID, current, newPassword, keepSessionID string) error {
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
		return s.passwordChanged(ctx, u, keepSessionID)
	})
}

// passwordChanged ends the user's sessions but keep and sends the notice.
// A failure to revoke is returned: the caller must not report success
// while an attacker's session may live on.
func (s *Service) passwordChanged(ctx context.Context, u *User, keep string) error {
	if s.Sessions != nil {
		if err := s.Sessions.RevokeUserSessions(ctx, u.ID, keep); err != nil {
			return fmt.Errorf("identity: revoke sessions after password change: %w", err)
		}
	}
	s.notice(ctx, u.ID, Mail{Kind: MailPasswordChanged, To: u.Email, Name: greeting(u)})
	return nil
}
