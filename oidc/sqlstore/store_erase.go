package sqlstore

import (
	"context"
	"fmt"

	"gorm.io/gorm"

	"gatehouse/identity"
)

// UserData removes what the OpenID Connect tables keep about a user being
// deleted. These tables name users without a foreign key (the protocol
// tables also hold clients acting alone), so no cascade reaches them.
type UserData struct {
	db *gorm.DB
}

var _ identity.UserEraser = (*UserData)(nil)

// NewUserData returns the eraser over db.
func NewUserData(db *gorm.DB) *UserData { return &UserData{db: mustPool(db)} }

// EraseUser implements identity.UserEraser: the user's browser sessions,
// consents and every token row issued to them (codes, access and
// refresh tokens, the ended ones too) go, in one transaction (the
// caller's when the context carries one). Login flows in progress expire
// within minutes and are left to the purge.
func (s *UserData) EraseUser(ctx context.Context, userID string) error {
	err := inTx(ctx, s.db, func(tx *gorm.DB) error {
		for _, q := range []string{
			`DELETE FROM browser_sessions WHERE user_id = ?`,
			`DELETE FROM consents WHERE user_id = ?`,
			`DELETE FROM oauth_requests WHERE subject = ?`,
		} {
			if err := tx.Exec(q, userID).Error; err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		return fmt.Errorf("sqlstore: erase user: %w", err)
	}
	return nil
}
