package sqlstore

import (
	"context"
	"fmt"
	"strings"
	"time"

	"gatehouse/migrations/dbtime"
)

// GetConsent implements authflow.ConsentStore.
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

// SaveConsent implements authflow.ConsentStore. One upsert statement, so two
// concurrent first-time consents (two tabs, a double submit) both succeed.
func (s *Store) SaveConsent(ctx context.Context, userID, clientID string, scopes []string, at time.Time) error {
	err := s.conn(ctx).Exec(`INSERT INTO consents (user_id, client_id, scopes, created_at, updated_at) VALUES (?, ?, ?, ?, ?)
		ON CONFLICT (user_id, client_id) DO UPDATE SET scopes = excluded.scopes, updated_at = excluded.updated_at`,
		userID, clientID, strings.Join(scopes, " "), dbtime.New(at), dbtime.New(at)).Error
	if err != nil {
		return fmt.Errorf("sqlstore: save consent: %w", err)
	}
	return nil
}
