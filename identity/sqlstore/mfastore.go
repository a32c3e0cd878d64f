package sqlstore

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/jackc/pgx/v5/pgconn"
	"gorm.io/gorm"

	"gatehouse/identity/mfa"
	"gatehouse/migrations/dberr"
	"gatehouse/migrations/dbtx"
)

// MFAStore is the gorm implementation of mfa.Factors and mfa.RecoveryCodes
// on the mfa_factors and mfa_recovery_codes tables (00014_mfa.sql). Using
// a TOTP step and using a recovery code are each one conditional UPDATE,
// so of two racing requests the database lets exactly one through.
type MFAStore struct {
	db *gorm.DB
}

var (
	_ mfa.Factors       = (*MFAStore)(nil)
	_ mfa.Credentials   = (*MFAStore)(nil)
	_ mfa.RecoveryCodes = (*MFAStore)(nil)
)

// NewMFAStore returns an MFAStore on db, whose schema must be migrated.
func NewMFAStore(db *gorm.DB) *MFAStore { return &MFAStore{db: db} }

// factorRow is a row of the mfa_factors table.
type factorRow struct {
	ID           string `gorm:"primaryKey"`
	UserID       string
	Kind         string
	Name         string
	SecretSealed string
	LastStep     int64
	CredentialID string // base64url, empty for TOTP
	SignCount    int64
	Credential   string    // JSON of mfa.WebAuthnCredential, empty for TOTP
	CreatedAt    timestamp `gorm:"autoCreateTime:false"`
	ConfirmedAt  timestamp // zero: NULL, pending
	LastUsedAt   timestamp // zero: NULL, never used
	IsDefault    bool
	// CounterWarningAt is 00015_passkeys.sql's flag; zero: NULL.
	CounterWarningAt timestamp
}

// TableName tells gorm the table name.
func (factorRow) TableName() string { return "mfa_factors" }

func newFactorRow(f *mfa.Factor, id, userID string) (*factorRow, error) {
	row := &factorRow{
		ID: id, UserID: userID, Kind: string(f.Kind), Name: f.Name,
		SecretSealed: f.SecretSealed, LastStep: f.LastStep, CreatedAt: newTimestamp(f.CreatedAt), IsDefault: f.Default,
	}
	if f.ConfirmedAt != nil {
		row.ConfirmedAt = newTimestamp(*f.ConfirmedAt)
	}
	if f.LastUsedAt != nil {
		row.LastUsedAt = newTimestamp(*f.LastUsedAt)
	}
	if f.CounterWarningAt != nil {
		row.CounterWarningAt = newTimestamp(*f.CounterWarningAt)
	}
	if c := f.WebAuthn; c != nil {
		doc, err := json.Marshal(c)
		if err != nil {
			return nil, err
		}
		row.CredentialID = base64.RawURLEncoding.EncodeToString(c.ID)
		row.SignCount = int64(c.SignCount)
		row.Credential = string(doc)
	}
	return row, nil
}

func (r *factorRow) toFactor() (*mfa.Factor, error) {
	f := &mfa.Factor{
		ID: r.ID, UserID: r.UserID, Kind: mfa.Kind(r.Kind), Name: r.Name,
		SecretSealed: r.SecretSealed, LastStep: r.LastStep,
		CreatedAt: r.CreatedAt.Time(), ConfirmedAt: r.ConfirmedAt.Ptr(), LastUsedAt: r.LastUsedAt.Ptr(),
		Default:          r.IsDefault,
		CounterWarningAt: r.CounterWarningAt.Ptr(),
	}
	if r.Credential != "" {
		c := &mfa.WebAuthnCredential{}
		if err := json.Unmarshal([]byte(r.Credential), c); err != nil {
			return nil, fmt.Errorf("factor %s credential: %w", r.ID, err)
		}
		id, err := base64.RawURLEncoding.DecodeString(r.CredentialID)
		if err != nil {
			return nil, fmt.Errorf("factor %s credential id: %w", r.ID, err)
		}
		c.ID, c.SignCount = id, uint32(r.SignCount)
		f.WebAuthn = c
	}
	return f, nil
}

// CreateFactor inserts f.
func (s *MFAStore) CreateFactor(ctx context.Context, f *mfa.Factor) error {
	id, ok := canonicalID(f.ID)
	if !ok {
		return fmt.Errorf("sqlstore: create factor: id %q is not a UUID", f.ID)
	}
	userID, ok := canonicalID(f.UserID)
	if !ok {
		return fmt.Errorf("sqlstore: create factor: %w", mfa.ErrNotFound)
	}
	if f.CreatedAt.IsZero() {
		return errors.New("sqlstore: create factor: zero CreatedAt")
	}
	row, err := newFactorRow(f, id, userID)
	if err != nil {
		return fmt.Errorf("sqlstore: create factor: %w", err)
	}
	if err := dbtx.DB(ctx, s.db).Create(row).Error; err != nil {
		if isForeignKeyViolation(err) {
			return fmt.Errorf("sqlstore: create factor: %w", mfa.ErrNotFound)
		}
		if isCodeKindTaken(err) {
			return fmt.Errorf("sqlstore: create factor: %w", mfa.ErrExists)
		}
		return fmt.Errorf("sqlstore: create factor: %w", err)
	}
	f.ID, f.UserID, f.CreatedAt = id, userID, row.CreatedAt.Time()
	return nil
}

// GetFactor returns one factor of the user.
func (s *MFAStore) GetFactor(ctx context.Context, userID, id string) (*mfa.Factor, error) {
	userID, okUser := canonicalID(userID)
	id, okID := canonicalID(id)
	if !okUser || !okID {
		return nil, fmt.Errorf("sqlstore: get factor: %w", mfa.ErrNotFound)
	}
	var row factorRow
	err := dbtx.DB(ctx, s.db).Where("id = ? AND user_id = ?", id, userID).Take(&row).Error
	if errors.Is(err, gorm.ErrRecordNotFound) {
		return nil, fmt.Errorf("sqlstore: get factor: %w", mfa.ErrNotFound)
	}
	if err != nil {
		return nil, fmt.Errorf("sqlstore: get factor: %w", err)
	}
	f, err := row.toFactor()
	if err != nil {
		return nil, fmt.Errorf("sqlstore: get factor: %w", err)
	}
	return f, nil
}

// ListFactors returns the user's factors, oldest first.
func (s *MFAStore) ListFactors(ctx context.Context, userID string) ([]mfa.Factor, error) {
	userID, ok := canonicalID(userID)
	if !ok {
		return nil, nil
	}
	var rows []factorRow
	if err := dbtx.DB(ctx, s.db).Where("user_id = ?", userID).Order("created_at, id").Find(&rows).Error; err != nil {
		return nil, fmt.Errorf("sqlstore: list factors: %w", err)
	}
	out := make([]mfa.Factor, 0, len(rows))
	for i := range rows {
		f, err := rows[i].toFactor()
		if err != nil {
			return nil, fmt.Errorf("sqlstore: list factors: %w", err)
		}
		out = append(out, *f)
	}
	return out, nil
}

// AcceptStep advances a TOTP factor's last step. The WHERE clause is the
// decision: of two requests with one code, the second finds last_step no
// longer below step and changes nothing.
func (s *MFAStore) AcceptStep(ctx context.Context, userID, id string, step int64, at time.Time, confirm bool) (bool, error) {
	userID, okUser := canonicalID(userID)
	id, okID := canonicalID(id)
	if !okUser || !okID {
		return false, fmt.Errorf("sqlstore: accept step: %w", mfa.ErrNotFound)
	}
	when := newTimestamp(at)
	updates := map[string]any{"last_step": step, "last_used_at": when}
	state := "confirmed_at IS NOT NULL"
	if confirm {
		updates["confirmed_at"] = when
		state = "confirmed_at IS NULL"
	}
	res := dbtx.DB(ctx, s.db).Model(&factorRow{}).
		Where("id = ? AND user_id = ? AND kind = ? AND last_step < ? AND "+state, id, userID, string(mfa.KindTOTP), step).
		Updates(updates)
	if res.Error != nil {
		return false, fmt.Errorf("sqlstore: accept step: %w", res.Error)
	}
	return res.RowsAffected == 1, nil
}

// SetDefaultFactor makes one confirmed factor of the user the default and
// every other factor of theirs not, in one UPDATE: the EXISTS clause
// makes it change nothing when id is not such a factor.
func (s *MFAStore) SetDefaultFactor(ctx context.Context, userID, id string) error {
	userID, okUser := canonicalID(userID)
	id, okID := canonicalID(id)
	if !okUser || !okID {
		return fmt.Errorf("sqlstore: set default factor: %w", mfa.ErrNotFound)
	}
	res := dbtx.DB(ctx, s.db).Exec(`UPDATE mfa_factors SET is_default = (id = ?)
		WHERE user_id = ? AND EXISTS (
			SELECT 1 FROM mfa_factors f WHERE f.id = ? AND f.user_id = ? AND f.confirmed_at IS NOT NULL)`,
		id, userID, id, userID)
	if res.Error != nil {
		return fmt.Errorf("sqlstore: set default factor: %w", res.Error)
	}
	if res.RowsAffected == 0 {
		return fmt.Errorf("sqlstore: set default factor: %w", mfa.ErrNotFound)
	}
	return nil
}

// isCodeKindTaken reports a second factor of a code kind the user has
// already (the index mfa_factors_code_kind_idx of 00016_mfa_codes.sql).
func isCodeKindTaken(err error) bool {
	var pgErr *pgconn.PgError
	if errors.As(err, &pgErr) {
		return pgErr.Code == "23505" && pgErr.ConstraintName == "mfa_factors_code_kind_idx"
	}
	return strings.Contains(err.Error(), "UNIQUE constraint failed: mfa_factors.user_id, mfa_factors.kind")
}

// DeleteFactor removes one factor of the user.
func (s *MFAStore) DeleteFactor(ctx context.Context, userID, id string) error {
	userID, okUser := canonicalID(userID)
	id, okID := canonicalID(id)
	if !okUser || !okID {
		return fmt.Errorf("sqlstore: delete factor: %w", mfa.ErrNotFound)
	}
	res := dbtx.DB(ctx, s.db).Where("id = ? AND user_id = ?", id, userID).Delete(&factorRow{})
	if res.Error != nil {
		return fmt.Errorf("sqlstore: delete factor: %w", res.Error)
	}
	if res.RowsAffected == 0 {
		return fmt.Errorf("sqlstore: delete factor: %w", mfa.ErrNotFound)
	}
	return nil
}

// DeletePendingFactors removes the user's unconfirmed factors of kind.
func (s *MFAStore) DeletePendingFactors(ctx context.Context, userID string, kind mfa.Kind) error {
	userID, ok := canonicalID(userID)
	if !ok {
		return nil
	}
	err := dbtx.DB(ctx, s.db).Where("user_id = ? AND kind = ? AND confirmed_at IS NULL", userID, string(kind)).
		Delete(&factorRow{}).Error
	if err != nil {
		return fmt.Errorf("sqlstore: delete pending factors: %w", err)
	}
	return nil
}

// recoveryCodeRow is a row of the mfa_recovery_codes table.
type recoveryCodeRow struct {
	UserID    string    `gorm:"primaryKey"`
	CodeHash  string    `gorm:"primaryKey"`
	CreatedAt timestamp `gorm:"autoCreateTime:false"`
	UsedAt    timestamp // zero: NULL, unused
}

// TableName tells gorm the table name.
func (recoveryCodeRow) TableName() string { return "mfa_recovery_codes" }

// ReplaceRecoveryCodes deletes the user's codes and inserts hashes in one
// transaction (joining the caller's, if ctx carries one).
func (s *MFAStore) ReplaceRecoveryCodes(ctx context.Context, userID string, hashes []string, at time.Time) error {
	userID, ok := canonicalID(userID)
	if !ok {
		return fmt.Errorf("sqlstore: replace recovery codes: %w", mfa.ErrNotFound)
	}
	rows := make([]recoveryCodeRow, len(hashes))
	for i, h := range hashes {
		rows[i] = recoveryCodeRow{UserID: userID, CodeHash: h, CreatedAt: newTimestamp(at)}
	}
	err := dbtx.New(s.db).Run(ctx, func(ctx context.Context) error {
		db := dbtx.DB(ctx, s.db)
		if err := db.Where("user_id = ?", userID).Delete(&recoveryCodeRow{}).Error; err != nil {
			return err
		}
		if len(rows) == 0 {
			return nil
		}
		return db.Create(&rows).Error
	})
	if err != nil {
		if isForeignKeyViolation(err) {
			return fmt.Errorf("sqlstore: replace recovery codes: %w", mfa.ErrNotFound)
		}
		return fmt.Errorf("sqlstore: replace recovery codes: %w", dberr.Mark(err))
	}
	return nil
}

// UseRecoveryCode sets used_at on the user's unused code with hash.
func (s *MFAStore) UseRecoveryCode(ctx context.Context, userID, hash string, at time.Time) (bool, error) {
	userID, ok := canonicalID(userID)
	if !ok || hash == "" {
		return false, nil
	}
	res := dbtx.DB(ctx, s.db).Model(&recoveryCodeRow{}).
		Where("user_id = ? AND code_hash = ? AND used_at IS NULL", userID, hash).
		Update("used_at", newTimestamp(at))
	if res.Error != nil {
		return false, fmt.Errorf("sqlstore: use recovery code: %w", res.Error)
	}
	return res.RowsAffected == 1, nil
}

// CountRecoveryCodes counts the user's unused codes.
func (s *MFAStore) CountRecoveryCodes(ctx context.Context, userID string) (int, error) {
	userID, ok := canonicalID(userID)
	if !ok {
		return 0, nil
	}
	var n int64
	err := dbtx.DB(ctx, s.db).Model(&recoveryCodeRow{}).
		Where("user_id = ? AND used_at IS NULL", userID).Count(&n).Error
	if err != nil {
		return 0, fmt.Errorf("sqlstore: count recovery codes: %w", err)
	}
	return int(n), nil
}
