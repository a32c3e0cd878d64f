package identity

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"
)

// Errors of AdminResetPassword besides ErrNotFound. Authenticate also
// returns ErrAccountDisabled, for the right password of a disabled
// account.
var (
	ErrAccountDisabled = errors.New("identity: account is disabled")
	ErrNoEmail         = errors.New("identity: account has no e-mail address")
)

// Recovery is the way back into an account: the forgotten password (a
// mailed link, then a new password) and the link that ends a lockout.
type Recovery struct {
	*Core
	// Users stores the accounts.
	Users RecoveryStore
	// Policy decides which new passwords are acceptable; zero fields take
	// DefaultPasswordPolicy's values.
	Policy PasswordPolicy
	// Sessions ends a user's sessions after a password reset; nil ends
	// none.
	Sessions SessionRevoker
	// ResetTokenTTL is how long a password reset link stays valid; zero
	// means DefaultResetTokenTTL.
	ResetTokenTTL time.Duration
	// OnUnlock, when set, is told that the owner ended a lockout, by
	// "link" (the e-mailed unlock link) or "password_reset".
	OnUnlock func(ctx context.Context, userID, by string)
	// OnPasswordReset, when set, is told of a password reset inside its
	// transaction (see Core.Tx), with the context of that transaction; an
	// error undoes the reset. The audit trail records the reset here, so
	// that the reset and its entry commit together.
	OnPasswordReset func(ctx context.Context, userID string) error
	// PasswordElsewhere, when set, tells whether the user's password is
	// kept elsewhere (a directory) and where. Such a user asking for a
	// reset gets MailPasswordElsewhere instead of a link.
	PasswordElsewhere func(ctx context.Context, userID string) (directory string, elsewhere bool, err error)

	// resetPace times RequestPasswordReset's answers (see pace). A
	// Recovery must not be copied after first use.
	resetPace pace
}

// RecoveryStore is what Recovery needs of a UserStore.
type RecoveryStore interface {
	UserFinder
	// SetPasswordHash is UserStore.SetPasswordHash.
	SetPasswordHash(ctx context.Context, userID, hash string) error
	// UnlockUser is UserStore.UnlockUser.
	UnlockUser(ctx context.Context, userID string) error
	// MarkEmailVerified is UserStore.MarkEmailVerified.
	MarkEmailVerified(ctx context.Context, userID, email string, at time.Time) error
}

// RequestPasswordReset mails a single-use reset link, valid for
// ResetTokenTTL, to the account whose username or e-mail address is login.
// For an unknown or disabled account, one without an e-mail address, or
// within ResendCooldown of the last link, it sends nothing and still
// returns nil: the caller answers the same either way. A mail is queued
// durably before it returns, so the caller's answer can be trusted to
// survive a crash, and every case returns at the same time after the call
// began (see pace), so the caller may answer at once. err is for failures
// of the store or the queue only.
func (s *Recovery) RequestPasswordReset(ctx context.Context, login string) error {
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
func (s *Recovery) AdminResetPassword(ctx context.Context, login string) error {
	return s.requestReset(ctx, login)
}

func (s *Recovery) requestReset(ctx context.Context, login string) error {
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
	if s.PasswordElsewhere != nil {
		dir, elsewhere, err := s.PasswordElsewhere(ctx, u.ID)
		if err != nil {
			return fmt.Errorf("identity: password reset for %q: %w", login, err)
		}
		if elsewhere {
			m := Mail{Kind: MailPasswordElsewhere, To: u.Email, Name: greeting(u), Directory: dir}
			if err := s.Notifier.SendMail(ctx, m); err != nil {
				return fmt.Errorf("identity: queue password notice: %w", err)
			}
			return nil
		}
	}
	return s.sendReset(ctx, u)
}

// sendReset mails the reset link to the active user u, who has an e-mail
// address.
func (s *Recovery) sendReset(ctx context.Context, u *User) error {
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

// CheckResetToken returns the ID of the user a reset link's token (or an
// invitation's, see UserAdmin.Create) belongs to, so the page can offer the form, without using the token. It returns
// ErrCodeInvalid for a link that is unknown, expired or used, whose account
// is disabled, or whose account's address changed since it was sent.
func (s *Recovery) CheckResetToken(ctx context.Context, token string) (string, error) {
	_, u, err := s.resetToken(ctx, token)
	if err != nil {
		return "", err
	}
	return u.ID, nil
}

// ResetPassword sets a new password with a reset link's token, or the
// first one with an invitation's (which ends no session and sends no
// notice, but tells OnInviteAccepted): it checks
// the password policy (a *ValidationError for FieldPassword, which leaves
// the token usable), uses the token, replaces the hash, ends any lockout
// and sets the failure counts to zero (the owner has proved control of
// the account), marks the address the link went to as verified (following
// it proved the address), ends every session of the user and mails
// MailPasswordChanged. Token errors are those of CheckResetToken.
func (s *Recovery) ResetPassword(ctx context.Context, token, newPassword string) (*User, error) {
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
		// An invitation sets the first password: no session to end, no
		// change to tell of.
		if t.Purpose != PurposeInvite {
			if err := s.passwordChanged(ctx, s.Sessions, u, ""); err != nil {
				return err
			}
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
func (s *Recovery) resetToken(ctx context.Context, token string) (*OneTimeToken, *User, error) {
	t, err := s.findLink(ctx, token, PurposePasswordReset, PurposeInvite)
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

// UnlockWithToken ends the lockout whose MailAccountLocked carried the
// link with token, permanent or not, and sets the counts back to zero. The
// link is single-use. It returns ErrCodeInvalid for a link that is
// unknown, expired or used. Whoever reads the mailbox could reset the
// password anyway, so the link gives them nothing more.
func (s *Recovery) UnlockWithToken(ctx context.Context, token string) error {
	t, err := s.findLink(ctx, token, PurposeUnlock)
	if err != nil {
		return err
	}
	if err := s.useToken(ctx, t); err != nil {
		return err
	}
	if err := s.Users.UnlockUser(ctx, t.UserID); err != nil {
		return fmt.Errorf("identity: unlock: %w", err)
	}
	s.unlocked(ctx, t.UserID, "link")
	return nil
}

// unlocked reports a lockout that the owner ended (by: "link",
// "password_reset").
func (s *Recovery) unlocked(ctx context.Context, userID, by string) {
	s.logger().InfoContext(ctx, "account unlocked", "user_id", userID, "by", by)
	if s.OnUnlock != nil {
		s.OnUnlock(ctx, userID, by)
	}
}
