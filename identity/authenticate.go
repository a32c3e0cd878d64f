package identity

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"
)

// Authenticator checks sign-ins and keeps the brute-force lockout of each
// account (see LockoutPolicy): it counts attempts, locks, mails the unlock
// link and ends a lockout on an administrator's word.
type Authenticator struct {
	*Core
	// Users stores the accounts and their login bookkeeping.
	Users LoginStore
	// Policy bounds the passwords worth checking (see PasswordPolicy);
	// zero fields take DefaultPasswordPolicy's values.
	Policy PasswordPolicy
	// Lockout is the brute-force detection per account; the zero value
	// takes the defaults (see LockoutPolicy).
	Lockout LockoutPolicy
	// OnLockout, when set, is told that a lockout started (for the audit
	// trail, which identity does not depend on). ctx is that of the
	// attempt that started it.
	OnLockout func(ctx context.Context, userID, reason string, permanent bool)
	// OnLockedAttempt, when set, is told of a sign-in attempt refused
	// unchecked by a lockout, so that the owner can see it in the
	// account's security activity (the attempt itself got the answer of a
	// wrong password).
	OnLockedAttempt func(ctx context.Context, userID string)
}

// LoginStore is what Authenticator needs of a UserStore.
type LoginStore interface {
	UserFinder
	// SetPasswordHash is UserStore.SetPasswordHash.
	SetPasswordHash(ctx context.Context, userID, hash string) error
	// RecordLogin is UserStore.RecordLogin.
	RecordLogin(ctx context.Context, userID string, at time.Time) error
	// CountLoginAttempt is UserStore.CountLoginAttempt.
	CountLoginAttempt(ctx context.Context, userID string) (LoginCount, error)
	// LockUser is UserStore.LockUser.
	LockUser(ctx context.Context, userID string, l Lock) (bool, error)
	// ClearLoginFailures is UserStore.ClearLoginFailures.
	ClearLoginFailures(ctx context.Context, userID string, now time.Time) error
	// UnlockUser is UserStore.UnlockUser.
	UnlockUser(ctx context.Context, userID string) error
}

// Authenticate checks a username or e-mail address and password. A wrong
// password, an unknown login, an account without a password and a locked
// one all give (nil, false, nil) and take the time of one argon2id
// verification, so neither the answer nor its timing tells which
// accounts exist, which are locked, or whether a password was right. A
// disabled account answers the same to a wrong password; the right one
// gets ErrAccountDisabled, so that its owner can be told why they cannot
// sign in.
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
func (s *Authenticator) Authenticate(ctx context.Context, login, password string) (*User, bool, error) {
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
	// A disabled account is counted and checked like any other: the
	// status is told only to whoever knows the password, and the lockout
	// keeps anyone from guessing it to learn the status.
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
	if u.Status != StatusActive {
		return nil, false, fmt.Errorf("identity: authenticate user %s: %w", u.ID, ErrAccountDisabled)
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
func (s *Authenticator) checkPassword(ctx context.Context, userID, password, hash string) (passwordCheck, error) {
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
