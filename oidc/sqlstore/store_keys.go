package sqlstore

import (
	"context"
	"fmt"
	"time"

	"gorm.io/gorm"

	"gatehouse/migrations/dbtime"
	"gatehouse/migrations/dbtx"
	"gatehouse/oidc"
)

// SigningKeys keeps the provider's signing keys, sealed (signing_keys).
type SigningKeys struct {
	db *gorm.DB
}

var _ oidc.KeyStore = (*SigningKeys)(nil)

// NewSigningKeys returns the signing-key storage over db.
func NewSigningKeys(db *gorm.DB) *SigningKeys { return &SigningKeys{db: mustPool(db)} }

type keyRow struct {
	ID            string
	Algorithm     string
	State         string
	PrivateSealed string
	CreatedAt     dbtime.Time
	ActivatedAt   dbtime.Time // NULL: not yet
	RetiredAt     dbtime.Time
	ExpiresAt     dbtime.Time
}

// orNull is the column value of an optional time: NULL for nil.
func orNull(t *time.Time) dbtime.Time {
	if t == nil {
		return dbtime.Time{}
	}
	return dbtime.New(*t)
}

// ListSigningKeys implements oidc.KeyStore.
func (s *SigningKeys) ListSigningKeys(ctx context.Context) ([]*oidc.SigningKeyRecord, error) {
	var rows []keyRow
	err := dbtx.DB(ctx, s.db).Raw(`SELECT id, algorithm, state, private_sealed, created_at, activated_at, retired_at, expires_at
		FROM signing_keys ORDER BY created_at`).Scan(&rows).Error
	if err != nil {
		return nil, fmt.Errorf("sqlstore: list keys: %w", err)
	}
	out := make([]*oidc.SigningKeyRecord, 0, len(rows))
	for _, r := range rows {
		out = append(out, &oidc.SigningKeyRecord{
			ID: r.ID, Algorithm: r.Algorithm, State: r.State, PrivateSealed: r.PrivateSealed,
			CreatedAt: r.CreatedAt.Time(), ActivatedAt: r.ActivatedAt.Ptr(), RetiredAt: r.RetiredAt.Ptr(), ExpiresAt: r.ExpiresAt.Ptr(),
		})
	}
	return out, nil
}

// SaveSigningKeys implements oidc.KeyStore.
func (s *SigningKeys) SaveSigningKeys(ctx context.Context, keys []*oidc.SigningKeyRecord) error {
	err := inTx(ctx, s.db, func(tx *gorm.DB) error {
		for _, k := range keys {
			res := tx.Exec(`UPDATE signing_keys SET state = ?, activated_at = ?, retired_at = ?, expires_at = ? WHERE id = ?`,
				k.State, orNull(k.ActivatedAt), orNull(k.RetiredAt), orNull(k.ExpiresAt), k.ID)
			if res.Error != nil {
				return res.Error
			}
			if res.RowsAffected > 0 {
				continue
			}
			err := tx.Exec(`INSERT INTO signing_keys (id, algorithm, state, private_sealed, created_at, activated_at, retired_at, expires_at)
				VALUES (?, ?, ?, ?, ?, ?, ?, ?)`, k.ID, k.Algorithm, k.State, k.PrivateSealed, dbtime.New(k.CreatedAt),
				orNull(k.ActivatedAt), orNull(k.RetiredAt), orNull(k.ExpiresAt)).Error
			if err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		return fmt.Errorf("sqlstore: save keys: %w", err)
	}
	return nil
}
