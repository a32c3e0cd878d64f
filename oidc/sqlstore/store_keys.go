package sqlstore

import (
	"context"
	"fmt"
	"time"

	"gorm.io/gorm"

	"gatehouse/oidc"
)

type keyRow struct {
	ID            string
	Algorithm     string
	State         string
	PrivateSealed string
	CreatedAt     time.Time
	ActivatedAt   *time.Time
	RetiredAt     *time.Time
	ExpiresAt     *time.Time
}

func utcPtr(t *time.Time) *time.Time {
	if t == nil {
		return nil
	}
	u := t.UTC()
	return &u
}

// ListSigningKeys implements oidc.KeyStore.
func (s *Store) ListSigningKeys(ctx context.Context) ([]*oidc.SigningKeyRecord, error) {
	var rows []keyRow
	err := s.conn(ctx).Raw(`SELECT id, algorithm, state, private_sealed, created_at, activated_at, retired_at, expires_at
		FROM signing_keys ORDER BY created_at`).Scan(&rows).Error
	if err != nil {
		return nil, fmt.Errorf("sqlstore: list keys: %w", err)
	}
	out := make([]*oidc.SigningKeyRecord, 0, len(rows))
	for _, r := range rows {
		out = append(out, &oidc.SigningKeyRecord{
			ID: r.ID, Algorithm: r.Algorithm, State: r.State, PrivateSealed: r.PrivateSealed,
			CreatedAt: r.CreatedAt.UTC(), ActivatedAt: utcPtr(r.ActivatedAt), RetiredAt: utcPtr(r.RetiredAt), ExpiresAt: utcPtr(r.ExpiresAt),
		})
	}
	return out, nil
}

// SaveSigningKeys implements oidc.KeyStore.
func (s *Store) SaveSigningKeys(ctx context.Context, keys []*oidc.SigningKeyRecord) error {
	err := s.inTx(ctx, func(tx *gorm.DB) error {
		for _, k := range keys {
			res := tx.Exec(`UPDATE signing_keys SET state = ?, activated_at = ?, retired_at = ?, expires_at = ? WHERE id = ?`,
				k.State, utcPtr(k.ActivatedAt), utcPtr(k.RetiredAt), utcPtr(k.ExpiresAt), k.ID)
			if res.Error != nil {
				return res.Error
			}
			if res.RowsAffected > 0 {
				continue
			}
			err := tx.Exec(`INSERT INTO signing_keys (id, algorithm, state, private_sealed, created_at, activated_at, retired_at, expires_at)
				VALUES (?, ?, ?, ?, ?, ?, ?, ?)`, k.ID, k.Algorithm, k.State, k.PrivateSealed, k.CreatedAt.UTC(),
				utcPtr(k.ActivatedAt), utcPtr(k.RetiredAt), utcPtr(k.ExpiresAt)).Error
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
