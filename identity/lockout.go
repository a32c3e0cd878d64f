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
// A password attempt is counted before its hash is checked. One on a
// locked account, or one counted beyond MaxFailures (concurrent guesses),
// is not checked at all: it gets the answer of a wrong password after
// waiting as long as a check takes (Hasher.VerifyTime). So the lockout
// tells nobody whether a password was right, not even the owner, who
// learns of it from the mail with the unlock link and from the account's
// security activity (OnLockout, OnLockedAttempt); and of any number of
// concurrent guesses at most MaxFailures reach argon2id.
//
// Attempts while locked keep counting. When MaxFailures or more came
// during a lockout, the first attempt after it ends starts the next, longer
// one without being checked: whoever keeps guessing through a lockout gets
// no fresh guesses when it ends. A successful sign-in sets both counts back
// to zero, so the lockouts of an owner who mistypes now and then never add
// up; a completed password reset, the unlock link and an administrator end
// the lockout and do the same. Guessing across accounts from one address is
// for the rate limits in front of the service.
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

// ErrLocked is RecordSuccess's answer for a locked account.
var ErrLocked = errors.New("identity: account is locked")

// RecordFailure counts a failed sign-in step of the user (reason names it
// for the log, e.g. "password", "totp") towards the lockout, starts the
// lockout when it reaches the policy's MaxFailures, and then mails the
// unlock link. lockedNow reports whether the account is locked after this
// failure, by it or before it; a failure while locked counts too. It
// returns ErrNotFound for an unknown user.
func (s *Authenticator) RecordFailure(ctx context.Context, userID, reason string) (lockedNow bool, err error) {
	c, err := s.Users.CountLoginAttempt(ctx, userID)
	if err != nil {
		return false, fmt.Errorf("identity: record failure: %w", err)
	}
	if c.LockedAt(s.now()) {
		return true, nil
	}
	return s.lockIfDue(ctx, userID, reason, c)
}

// countAttempt counts a password attempt on the user before it is
// checked and reports whether it may be checked. When it may not (the
// account is locked, or the attempt is beyond MaxFailures), countAttempt
// has started the lockout that is due and told OnLockedAttempt: the caller
// only waits as long as a check takes (pause) and answers as for a wrong
// password.
func (s *Authenticator) countAttempt(ctx context.Context, userID string) (check bool, c LoginCount, err error) {
	c, err = s.Users.CountLoginAttempt(ctx, userID)
	if err != nil {
		return false, c, fmt.Errorf("identity: count login attempt: %w", err)
	}
	locked := c.LockedAt(s.now())
	if !locked && c.Failures <= s.Lockout.withDefaults().MaxFailures {
		return true, c, nil
	}
	if !locked {
		// Concurrent attempts took the last ones allowed.
		if _, err := s.lockIfDue(ctx, userID, "password", c); err != nil {
			return false, c, err
		}
	}
	s.lockedAttempt(ctx, userID)
	return false, c, nil
}

// lockedAttempt reports a sign-in attempt that a lockout refused.
func (s *Authenticator) lockedAttempt(ctx context.Context, userID string) {
	s.logger().InfoContext(ctx, "login attempt on a locked account", "user_id", userID)
	if s.OnLockedAttempt != nil {
		s.OnLockedAttempt(ctx, userID)
	}
}

// pause waits as long as a password check takes, or until ctx ends.
func (s *Authenticator) pause(ctx context.Context) { s.wait(ctx, s.Hasher.VerifyTime()) }

// lockIfDue starts the lockout that the failures counted in c call for,
// if any, mails the unlock link, and reports whether the account is
// locked now. It is not cancelled with ctx, so a client that hangs up
// cannot keep a lockout from starting.
func (s *Authenticator) lockIfDue(ctx context.Context, userID, reason string, c LoginCount) (bool, error) {
	p := s.Lockout.withDefaults()
	if c.Failures < p.MaxFailures {
		return false, nil
	}
	ctx = context.WithoutCancel(ctx)
	l := p.lock(c.Lockouts, s.now())
	started, err := s.Users.LockUser(ctx, userID, l)
	if err != nil {
		return false, fmt.Errorf("identity: lock account: %w", err)
	}
	if !started {
		// A concurrent failure started this lockout, or a success or an
		// unlock came in between and the failures no longer count.
		u, err := s.Users.GetUser(ctx, userID)
		if err != nil {
			return false, fmt.Errorf("identity: lock account: %w", err)
		}
		return u.LockedAt(s.now()), nil
	}
	log := s.logger().With("user_id", userID, "reason", reason, "lockouts", c.Lockouts+1)
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
func (s *Authenticator) sendUnlockMail(ctx context.Context, userID string) {
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
			ExpiresAt: tok.token.ExpiresAt,
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
// It returns ErrLocked when the account is locked, since then the step
// must not count as a success (and the caller answers as for a failed
// step), and ErrNotFound for an unknown user.
func (s *Authenticator) RecordSuccess(ctx context.Context, userID string) error {
	err := s.Users.ClearLoginFailures(ctx, userID, s.now())
	if !errors.Is(err, ErrNotFound) {
		if err != nil {
			return fmt.Errorf("identity: clear login failures: %w", err)
		}
		return nil
	}
	if _, err := s.Users.GetUser(ctx, userID); err != nil {
		return fmt.Errorf("identity: record success: %w", err)
	}
	return ErrLocked
}

// Unlock ends the user's lockout, permanent or not, on an administrator's
// behalf and sets the counts back to zero. It returns ErrNotFound for an
// unknown user.
func (s *Authenticator) Unlock(ctx context.Context, userID string) error {
	if err := s.Users.UnlockUser(ctx, userID); err != nil {
		return fmt.Errorf("identity: unlock: %w", err)
	}
	s.logger().InfoContext(ctx, "account unlocked", "user_id", userID, "by", "admin")
	return nil
}

// RecordPasskeySignIn records a sign-in whose first factor was a passkey,
// as Authenticate does for a right password: the failure counts go back
// to zero and the last sign-in time is set. A locked account gets
// ErrLocked and nothing is recorded.
func (s *Authenticator) RecordPasskeySignIn(ctx context.Context, userID string) error {
	if err := s.RecordSuccess(ctx, userID); err != nil {
		return err
	}
	if err := s.Users.RecordLogin(ctx, userID, s.now()); err != nil {
		return fmt.Errorf("identity: record login: %w", err)
	}
	return nil
}
