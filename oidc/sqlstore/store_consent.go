package sqlstore

import (
	"context"
	"fmt"
	"strings"
	"time"

	"gorm.io/gorm"

	"gatehouse/migrations/dbtime"
	"gatehouse/migrations/dbtx"
	"gatehouse/oidc/authflow"
)

// Consents keeps the scopes each user granted each client (consents).
type Consents struct {
	db *gorm.DB
}

var _ authflow.ConsentStore = (*Consents)(nil)

// NewConsents returns the consent storage over db.
func NewConsents(db *gorm.DB) *Consents { return &Consents{db: mustPool(db)} }

// GetConsent implements authflow.ConsentStore.
func (s *Consents) GetConsent(ctx context.Context, userID, clientID string) ([]string, error) {
	var scopes string
	res := dbtx.DB(ctx, s.db).Raw(`SELECT scopes FROM consents WHERE user_id = ? AND client_id = ?`, userID, clientID).Scan(&scopes)
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
func (s *Consents) SaveConsent(ctx context.Context, userID, clientID string, scopes []string, at time.Time) error {
	err := dbtx.DB(ctx, s.db).Exec(`INSERT INTO consents (user_id, client_id, scopes, created_at, updated_at) VALUES (?, ?, ?, ?, ?)
		ON CONFLICT (user_id, client_id) DO UPDATE SET scopes = excluded.scopes, updated_at = excluded.updated_at`,
		userID, clientID, strings.Join(scopes, " "), dbtime.New(at), dbtime.New(at)).Error
	if err != nil {
		return fmt.Errorf("sqlstore: save consent: %w", err)
	}
	return nil
}
