package identity

import (
	"context"
	"errors"
	"fmt"
	"time"
)

// Defaults of LockoutPolicy, Keycloak's brute-force detection values.
const (
	DefaultMaxFailures  = 5
	DefaultFirstLockout = time.Minute
	DefaultMaxLockout   = 15 * time.Minute
	// UnlockTokenTTL is how long the link in a MailAccountLocked stays
	// valid.
	UnlockTokenTTL = 24 * time.Hour
)

// linkPathUnlock is the page under BaseURL that unlock links point to.
const linkPathUnlock = "/unlock"

// LockoutPolicy is brute-force detection per account: after MaxFailures
// consecutive failed sign-ins (passwords, and second factors through
// RecordFailure) the account is locked, first for FirstLockout, each
// further time for twice as long as the last, up to MaxLockout. With
// PermanentAfter > 0, the lockout after PermanentAfter temporary ones does
// not expire (Keycloak's "max temporary lockouts"). Zero fields take the
// defaults: 5, 1 minute, 15 minutes, never permanent.
//
// A successful sign-in sets both counts back to zero, so the lockouts of
// an owner who mistypes now and then never add up. Failures while the
// account is locked are not counted: they neither extend the lockout nor
// bring the permanent one closer. Guessing across accounts from one
// address is for the rate limits in front of the service.
type LockoutPolicy struct {
	MaxFailures    int
	FirstLockout   time.Duration
	MaxLockout     time.Duration
	PermanentAfter int
}

func (p LockoutPolicy) withDefaults() LockoutPolicy {
	if p.MaxFailures <= 0 {
		p.MaxFailures = DefaultMaxFailures
	}
	p.FirstLockout = orDefault(p.FirstLockout, DefaultFirstLockout)
	p.MaxLockout = max(orDefault(p.MaxLockout, DefaultMaxLockout), p.FirstLockout)
	return p
}

// lock returns the lockout to start for a user with lockouts lockouts so
// far and MaxFailures failures.
func (p LockoutPolicy) lock(lockouts int, now time.Time) Lock {
	l := Lock{Lockouts: lockouts, MinFailures: p.MaxFailures}
	if p.PermanentAfter > 0 && lockouts >= p.PermanentAfter {
		l.Permanent = true
		return l
	}
	d := p.FirstLockout
	for i := 0; i < lockouts && d < p.MaxLockout; i++ {
		d *= 2
	}
	l.Until = now.Add(min(d, p.MaxLockout))
	return l
}

// LockedError refuses a sign-in with the right password to an account that
// is locked after failed attempts.
//
// Authenticate returns it only when the password given was correct; a
// wrong one gets the usual (nil, false, nil) whether the account is locked
// or not. Someone guessing therefore learns nothing from the lockout (not
// even that it happened, nor that the account exists), while the owner,
// who knows the password, is told why the sign-in failed and when to try
// again, instead of doubting the password and locking the account anew.
// Both cost the same argon2id verification.
type LockedError struct {
	// Until is when a temporary lockout ends; zero when Permanent.
	Until time.Time
	// Permanent reports a lockout that only the unlock link or an
	// administrator ends.
	Permanent bool
}

func (e *LockedError) Error() string {
	if e.Permanent {
		return "identity: account is locked"
	}
	return "identity: account is locked until " + e.Until.UTC().Format(time.RFC3339)
}

// lockedError describes u's lockout.
func lockedError(u *User) *LockedError {
	if u.LockedPermanently || u.LockedUntil == nil {
		return &LockedError{Permanent: true}
	}
	return &LockedError{Until: *u.LockedUntil}
}

// RecordFailure counts a failed sign-in step of the user (reason names it
// for the log, e.g. "password", "totp") towards the lockout, starts the
// lockout when it reaches the policy's MaxFailures, and then mails the
// unlock link. lockedNow reports whether the account is locked after this
// failure, by it or before it; a failure while locked counts nothing. It
// returns ErrNotFound for an unknown user.
func (s *Service) RecordFailure(ctx context.Context, userID, reason string) (lockedNow bool, err error) {
	lockedNow, err = s.recordFailure(ctx, userID, reason)
	if errors.Is(err, ErrNotFound) {
		// Nothing was counted: the account is locked or does not exist.
		if _, err := s.Users.GetUser(ctx, userID); err != nil {
			return false, fmt.Errorf("identity: record failure: %w", err)
		}
		return true, nil
	}
	return lockedNow, err
}

// recordFailure is RecordFailure with ErrNotFound for a user that is
// unknown or already locked.
func (s *Service) recordFailure(ctx context.Context, userID, reason string) (bool, error) {
	p := s.Lockout.withDefaults()
	now := s.now()
	failures, lockouts, err := s.Users.CountLoginFailure(ctx, userID, now)
	if err != nil {
		if errors.Is(err, ErrNotFound) {
			return false, ErrNotFound
		}
		return false, fmt.Errorf("identity: count login failure: %w", err)
	}
	if failures < p.MaxFailures {
		return false, nil
	}
	l := p.lock(lockouts, now)
	started, err := s.Users.LockUser(ctx, userID, l)
	if err != nil {
		return false, fmt.Errorf("identity: lock account: %w", err)
	}
	if !started {
		// A concurrent failure started this lockout.
		return true, nil
	}
	log := s.logger().With("user_id", userID, "reason", reason, "lockouts", lockouts+1)
	if l.Permanent {
		log.WarnContext(ctx, "account locked permanently")
	} else {
		log.WarnContext(ctx, "account locked", "locked_until", l.Until)
	}
	if s.OnLockout != nil {
		s.OnLockout(ctx, userID, reason, l.Permanent)
	}
	s.sendUnlockMail(ctx, userID)
	return true, nil
}

// sendUnlockMail mails the user a link that ends the lockout just started.
// The lockout stands whether or not the mail goes out, so failures are
// logged, not returned.
func (s *Service) sendUnlockMail(ctx context.Context, userID string) {
	if s.Notifier == nil {
		return
	}
	err := func() error {
		u, err := s.Users.GetUser(ctx, userID)
		if err != nil || u.Email == "" {
			return err
		}
		// Each lockout takes MaxFailures failures and the lockouts are
		// spaced by their length, so the cooldown would only withhold the
		// link of a lockout that follows a short one.
		tok, err := s.issueToken(ctx, tokenRequest{
			userID: u.ID, purpose: PurposeUnlock, target: u.Email, link: true, ttl: UnlockTokenTTL, replace: true,
		})
		if err != nil {
			return err
		}
		m := Mail{
			Kind: MailAccountLocked, To: u.Email, Name: greeting(u),
			Link: s.linkURL(linkPathUnlock, tok.link), ExpiresIn: humanDuration(UnlockTokenTTL),
		}
		if err := s.Notifier.SendMail(ctx, m); err != nil {
			return s.dropToken(ctx, tok.token, fmt.Errorf("identity: queue unlock mail: %w", err))
		}
		return nil
	}()
	if err != nil {
		s.logger().ErrorContext(ctx, "send unlock mail", "user_id", userID, "error", err)
	}
}

// RecordSuccess sets the user's failure and lockout counts back to zero
// after a successful sign-in step (Authenticate does so for passwords).
// It returns a *LockedError when the account is locked, since then the
// step must not count as a success, and ErrNotFound for an unknown user.
func (s *Service) RecordSuccess(ctx context.Context, userID string) error {
	err := s.Users.ClearLoginFailures(ctx, userID, s.now())
	if !errors.Is(err, ErrNotFound) {
		if err != nil {
			return fmt.Errorf("identity: clear login failures: %w", err)
		}
		return nil
	}
	u, err := s.Users.GetUser(ctx, userID)
	if err != nil {
		return fmt.Errorf("identity: record success: %w", err)
	}
	return lockedError(u)
}

// Unlock ends the user's lockout, permanent or not, on an administrator's
// behalf and sets the counts back to zero. It returns ErrNotFound for an
// unknown user.
func (s *Service) Unlock(ctx context.Context, userID string) error {
	if err := s.Users.UnlockUser(ctx, userID); err != nil {
		return fmt.Errorf("identity: unlock: %w", err)
	}
	s.logger().InfoContext(ctx, "account unlocked", "user_id", userID, "by", "admin")
	return nil
}

// UnlockWithToken ends the lockout whose MailAccountLocked carried the
// link with token, permanent or not, and sets the counts back to zero. The
// link is single-use. It returns ErrCodeInvalid for a link that is
// unknown, expired or used. Whoever reads the mailbox could reset the
// password anyway, so the link gives them nothing more.
func (s *Service) UnlockWithToken(ctx context.Context, token string) error {
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
	s.logger().InfoContext(ctx, "account unlocked", "user_id", t.UserID, "by", "link")
	if s.OnUnlockLink != nil {
		s.OnUnlockLink(ctx, t.UserID)
	}
	return nil
}
