package sqlstore

import (
	"context"
	"fmt"
	"strings"
	"time"

	"gorm.io/gorm"
)

// GetConsent implements oidc.ConsentStore.
func (s *Store) GetConsent(ctx context.Context, userID, clientID string) ([]string, error) {
	var scopes string
	res := s.conn(ctx).Raw(`SELECT scopes FROM consents WHERE user_id = ? AND client_id = ?`, userID, clientID).Scan(&scopes)
	if res.Error != nil {
		return nil, fmt.Errorf("sqlstore: get consent: %w", res.Error)
	}
	if res.RowsAffected == 0 || scopes == "" {
		return nil, nil
	}
	return strings.Fields(scopes), nil
}

// SaveConsent implements oidc.ConsentStore.
func (s *Store) SaveConsent(ctx context.Context, userID, clientID string, scopes []string, at time.Time) error {
	joined := strings.Join(scopes, " ")
	err := s.inTx(ctx, func(tx *gorm.DB) error {
		res := tx.Exec(`UPDATE consents SET scopes = ?, updated_at = ? WHERE user_id = ? AND client_id = ?`, joined, at.UTC(), userID, clientID)
		if res.Error != nil || res.RowsAffected > 0 {
			return res.Error
		}
		return tx.Exec(`INSERT INTO consents (user_id, client_id, scopes, created_at, updated_at) VALUES (?, ?, ?, ?, ?)`,
			userID, clientID, joined, at.UTC(), at.UTC()).Error
	})
	if err != nil {
		return fmt.Errorf("sqlstore: save consent: %w", err)
	}
	return nil
}
