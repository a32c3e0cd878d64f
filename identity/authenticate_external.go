package identity

import (
	"context"
	"errors"
	"fmt"
)

// ExternalCheck checks a password somewhere else than in the store (a
// directory). ok false is a wrong password; err is for an upstream that
// could not answer.
type ExternalCheck func(ctx context.Context) (ok bool, err error)

// AuthenticateExternal is Authenticate for the account userID whose
// password lives upstream: check verifies it there, under this account's
// lockout. The attempt is counted before check runs, and one on a locked
// account, or beyond MaxFailures, is refused without calling check; a
// wrong password may start a lockout and a right one sets the counts back
// to zero and records the login. A disabled account gets
// ErrAccountDisabled after the right password only, as in Authenticate.
// An error of check is returned as it is; when this attempt was the
// account's only failure it is taken back (an outage alone must not build
// up towards a lockout), otherwise it stays counted, since taking it back
// would also wipe the failures before it.
func (s *Authenticator) AuthenticateExternal(ctx context.Context, userID string, check ExternalCheck) (*User, bool, error) {
	u, err := s.Users.GetUser(ctx, userID)
	if err != nil {
		return nil, false, fmt.Errorf("identity: authenticate user %s: %w", userID, err)
	}
	ok, c, err := s.countAttempt(ctx, userID)
	if err != nil {
		return nil, false, err
	}
	if !ok {
		s.pause(ctx)
		return nil, false, nil
	}
	right, err := check(ctx)
	if err != nil {
		if c.Failures == 1 && c.Lockouts == 0 {
			if cerr := s.Users.ClearLoginFailures(context.WithoutCancel(ctx), userID, s.now()); cerr != nil && !errors.Is(cerr, ErrNotFound) {
				s.logger().ErrorContext(ctx, "clear login failures after an upstream error", "user_id", userID, "error", cerr)
			}
		}
		return nil, false, err
	}
	if !right {
		// As long as a local wrong password takes, so that the answer's
		// timing does not tell whose password is upstream.
		s.pause(ctx)
		if _, err := s.lockIfDue(ctx, userID, "password", c); err != nil {
			return nil, false, err
		}
		return nil, false, nil
	}
	switch err := s.RecordSuccess(context.WithoutCancel(ctx), userID); {
	case errors.Is(err, ErrLocked):
		s.lockedAttempt(ctx, userID)
		return nil, false, nil
	case err != nil:
		return nil, false, err
	}
	if u.Status != StatusActive {
		return nil, false, fmt.Errorf("identity: authenticate user %s: %w", userID, ErrAccountDisabled)
	}
	now := s.now()
	if err := s.Users.RecordLogin(ctx, userID, now); err != nil {
		return nil, false, fmt.Errorf("identity: record login: %w", err)
	}
	u.LastLoginAt = &now
	u.LockedUntil, u.LockedPermanently = nil, false
	return u, true, nil
}
