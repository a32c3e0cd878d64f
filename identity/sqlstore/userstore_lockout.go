package sqlstore

import (
	"context"
	"fmt"
	"time"

	"gorm.io/gorm"

	"gatehouse/identity"
	"gatehouse/migrations/dbtx"
)

// unlockedAt is the condition of an account that no lockout holds at the
// bound time. locked_until compares as text in SQLite, which timestamp's
// fixed width makes time order.
const unlockedAt = "NOT locked_permanently AND (locked_until IS NULL OR locked_until <= ?)"

// CountLoginAttempt increments failed_logins, locked or not, reading the
// new count and the lock in the same statement (RETURNING, PostgreSQL and
// SQLite 3.35+), so concurrent attempts count exactly.
func (s *UserStore) CountLoginAttempt(ctx context.Context, userID string) (identity.LoginCount, error) {
	id, ok := canonicalID(userID)
	if !ok {
		return identity.LoginCount{}, fmt.Errorf("sqlstore: count login attempt: %w", identity.ErrNotFound)
	}
	var rows []struct {
		FailedLogins, Lockouts int
		LockedUntil            timestamp
		LockedPermanently      bool
	}
	err := dbtx.DB(ctx, s.db).Raw(`UPDATE users SET failed_logins = failed_logins + 1
		WHERE id = ?
		RETURNING failed_logins, lockouts, locked_until, locked_permanently`, id).Scan(&rows).Error
	if err != nil {
		return identity.LoginCount{}, fmt.Errorf("sqlstore: count login attempt: %w", err)
	}
	if len(rows) == 0 {
		return identity.LoginCount{}, fmt.Errorf("sqlstore: count login attempt: %w", identity.ErrNotFound)
	}
	r := rows[0]
	return identity.LoginCount{
		Failures: r.FailedLogins, Lockouts: r.Lockouts,
		LockedUntil: r.LockedUntil.Ptr(), LockedPermanently: r.LockedPermanently,
	}, nil
}

// LockUser starts a lockout with one conditional UPDATE: the lockouts
// count acts as a version, so only one of the failures that reached the
// limit together starts it, and the failures condition keeps a stale
// caller from locking an account unlocked meanwhile.
func (s *UserStore) LockUser(ctx context.Context, userID string, l identity.Lock) (bool, error) {
	id, ok := canonicalID(userID)
	if !ok {
		return false, fmt.Errorf("sqlstore: lock user: %w", identity.ErrNotFound)
	}
	until := newTimestamp(l.Until)
	if l.Permanent {
		until = timestamp{}
	}
	res := dbtx.DB(ctx, s.db).Model(&userRow{}).
		Where("id = ? AND lockouts = ? AND failed_logins >= ?", id, l.Lockouts, l.MinFailures).
		Updates(map[string]any{
			"failed_logins":      0,
			"lockouts":           gorm.Expr("lockouts + 1"),
			"locked_until":       until,
			"locked_permanently": l.Permanent,
			"updated_at":         newTimestamp(s.now()),
		})
	if res.Error != nil {
		return false, fmt.Errorf("sqlstore: lock user: %w", res.Error)
	}
	return res.RowsAffected == 1, nil
}

// ClearLoginFailures resets the counts of an account not locked at now.
func (s *UserStore) ClearLoginFailures(ctx context.Context, userID string, now time.Time) error {
	id, ok := canonicalID(userID)
	if !ok {
		return fmt.Errorf("sqlstore: clear login failures: %w", identity.ErrNotFound)
	}
	res := dbtx.DB(ctx, s.db).Model(&userRow{}).
		Where("id = ? AND "+unlockedAt, id, newTimestamp(now)).
		Updates(resetLockout())
	if err := affectedOne(res); err != nil {
		return fmt.Errorf("sqlstore: clear login failures: %w", err)
	}
	return nil
}

// UnlockUser resets the counts and ends any lockout.
func (s *UserStore) UnlockUser(ctx context.Context, userID string) error {
	cols := resetLockout()
	cols["updated_at"] = newTimestamp(s.now())
	return s.setColumns(ctx, "unlock user", userID, cols)
}

// resetLockout are the lockout columns of an account never locked.
func resetLockout() map[string]any {
	return map[string]any{
		"failed_logins":      0,
		"lockouts":           0,
		"locked_until":       timestamp{},
		"locked_permanently": false,
	}
}
