package sqlstore

import (
	"context"
	"encoding/base64"
	"errors"
	"fmt"
	"time"

	"gorm.io/gorm"

	"gatehouse/identity/mfa"
	"gatehouse/migrations/dbpurge"
	"gatehouse/migrations/dbtx"
)

// FactorByCredentialID returns the factor of a WebAuthn credential ID.
func (s *MFAStore) FactorByCredentialID(ctx context.Context, credentialID []byte) (*mfa.Factor, error) {
	if len(credentialID) == 0 {
		return nil, fmt.Errorf("sqlstore: factor by credential: %w", mfa.ErrNotFound)
	}
	var row factorRow
	err := dbtx.DB(ctx, s.db).Where("credential_id = ? AND kind = ?",
		base64.RawURLEncoding.EncodeToString(credentialID), string(mfa.KindWebAuthn)).Take(&row).Error
	if errors.Is(err, gorm.ErrRecordNotFound) {
		return nil, fmt.Errorf("sqlstore: factor by credential: %w", mfa.ErrNotFound)
	}
	if err != nil {
		return nil, fmt.Errorf("sqlstore: factor by credential: %w", err)
	}
	f, err := row.toFactor()
	if err != nil {
		return nil, fmt.Errorf("sqlstore: factor by credential: %w", err)
	}
	return f, nil
}

// AcceptAssertion advances a WebAuthn factor's sign_count. The WHERE
// clause is the decision: of two assertions with one count, the second
// finds sign_count no longer below it and changes nothing. A count of 0
// on a factor at 0 is an authenticator without a counter, accepted.
func (s *MFAStore) AcceptAssertion(ctx context.Context, userID, id string, count uint32, at time.Time) (bool, error) {
	userID, okUser := canonicalID(userID)
	id, okID := canonicalID(id)
	if !okUser || !okID {
		return false, fmt.Errorf("sqlstore: accept assertion: %w", mfa.ErrNotFound)
	}
	res := dbtx.DB(ctx, s.db).Model(&factorRow{}).
		Where("id = ? AND user_id = ? AND kind = ? AND confirmed_at IS NOT NULL AND (sign_count < ? OR (sign_count = 0 AND ? = 0))",
			id, userID, string(mfa.KindWebAuthn), int64(count), int64(count)).
		Updates(map[string]any{"sign_count": int64(count), "last_used_at": newTimestamp(at)})
	if res.Error != nil {
		return false, fmt.Errorf("sqlstore: accept assertion: %w", res.Error)
	}
	return res.RowsAffected == 1, nil
}

// FlagCounterRegression sets the factor's counter_warning_at.
func (s *MFAStore) FlagCounterRegression(ctx context.Context, userID, id string, at time.Time) error {
	return s.updateFactor(ctx, "flag counter regression", userID, id, map[string]any{"counter_warning_at": newTimestamp(at)})
}

// RenameFactor sets the factor's name.
func (s *MFAStore) RenameFactor(ctx context.Context, userID, id, name string) error {
	return s.updateFactor(ctx, "rename factor", userID, id, map[string]any{"name": name})
}

func (s *MFAStore) updateFactor(ctx context.Context, op, userID, id string, updates map[string]any) error {
	userID, okUser := canonicalID(userID)
	id, okID := canonicalID(id)
	if !okUser || !okID {
		return fmt.Errorf("sqlstore: %s: %w", op, mfa.ErrNotFound)
	}
	res := dbtx.DB(ctx, s.db).Model(&factorRow{}).Where("id = ? AND user_id = ?", id, userID).Updates(updates)
	if res.Error != nil {
		return fmt.Errorf("sqlstore: %s: %w", op, res.Error)
	}
	if res.RowsAffected == 0 {
		return fmt.Errorf("sqlstore: %s: %w", op, mfa.ErrNotFound)
	}
	return nil
}

// CeremonyStore is the gorm implementation of mfa.Ceremonies on the
// webauthn_ceremonies table (00015_passkeys.sql).
type CeremonyStore struct {
	db *gorm.DB
}

var _ mfa.Ceremonies = (*CeremonyStore)(nil)

// NewCeremonyStore returns a CeremonyStore on db, whose schema must be
// migrated.
func NewCeremonyStore(db *gorm.DB) *CeremonyStore { return &CeremonyStore{db: db} }

type ceremonyRow struct {
	ID        string `gorm:"primaryKey"`
	Binding   string
	Purpose   string
	UserID    *string
	Session   string
	ExpiresAt timestamp
}

// TableName tells gorm the table name.
func (ceremonyRow) TableName() string { return "webauthn_ceremonies" }

// CreateCeremony inserts c.
func (s *CeremonyStore) CreateCeremony(ctx context.Context, c *mfa.Ceremony) error {
	row := &ceremonyRow{ID: c.ID, Binding: c.Binding, Purpose: string(c.Purpose), Session: string(c.Session),
		ExpiresAt: newTimestamp(c.ExpiresAt)}
	if c.UserID != "" {
		userID, ok := canonicalID(c.UserID)
		if !ok {
			return fmt.Errorf("sqlstore: create ceremony: %w", mfa.ErrNotFound)
		}
		row.UserID = &userID
	}
	if err := dbtx.DB(ctx, s.db).Create(row).Error; err != nil {
		if isForeignKeyViolation(err) {
			return fmt.Errorf("sqlstore: create ceremony: %w", mfa.ErrNotFound)
		}
		return fmt.Errorf("sqlstore: create ceremony: %w", err)
	}
	return nil
}

// TakeCeremony reads the ceremony, then deletes it; only the request
// whose DELETE removed the row returns it.
func (s *CeremonyStore) TakeCeremony(ctx context.Context, id, binding string, now time.Time) (*mfa.Ceremony, error) {
	if id == "" || binding == "" {
		return nil, fmt.Errorf("sqlstore: take ceremony: %w", mfa.ErrNotFound)
	}
	db := dbtx.DB(ctx, s.db)
	var row ceremonyRow
	err := db.Where("id = ? AND binding = ? AND expires_at > ?", id, binding, newTimestamp(now)).Take(&row).Error
	if errors.Is(err, gorm.ErrRecordNotFound) {
		return nil, fmt.Errorf("sqlstore: take ceremony: %w", mfa.ErrNotFound)
	}
	if err != nil {
		return nil, fmt.Errorf("sqlstore: take ceremony: %w", err)
	}
	res := db.Where("id = ?", id).Delete(&ceremonyRow{})
	if res.Error != nil {
		return nil, fmt.Errorf("sqlstore: take ceremony: %w", res.Error)
	}
	if res.RowsAffected != 1 {
		return nil, fmt.Errorf("sqlstore: take ceremony: %w", mfa.ErrNotFound)
	}
	c := &mfa.Ceremony{ID: row.ID, Binding: row.Binding, Purpose: mfa.Purpose(row.Purpose), Session: []byte(row.Session),
		ExpiresAt: row.ExpiresAt.Time()}
	if row.UserID != nil {
		c.UserID = *row.UserID
	}
	return c, nil
}

// DeleteExpiredCeremonies removes ceremonies expired at now.
func (s *CeremonyStore) DeleteExpiredCeremonies(ctx context.Context, now time.Time) (int64, error) {
	n, err := dbpurge.Delete(ctx, s.db, "webauthn_ceremonies", "id", "expires_at <= ?", 1000, newTimestamp(now))
	if err != nil {
		return n, fmt.Errorf("sqlstore: delete expired ceremonies: %w", err)
	}
	return n, nil
}
