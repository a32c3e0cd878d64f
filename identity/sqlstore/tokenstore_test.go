package sqlstore_test

import (
	"testing"

	"gorm.io/gorm"

	"gatehouse/identity"
	"gatehouse/identity/identitytest"
	"gatehouse/identity/sqlstore"
	"gatehouse/migrations/dbtest"
)

func TestTokenStore(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, db *gorm.DB) {
		identitytest.RunTokenStoreTests(t, func(t *testing.T) (identity.UserStore, identity.TokenStore) {
			return sqlstore.NewUserStore(db), sqlstore.NewTokenStore(db)
		})
	})
}
