package sqlstore_test

import (
	"testing"

	"gorm.io/gorm"

	"gatehouse/identity"
	"gatehouse/identity/identitytest"
	"gatehouse/identity/sqlstore"
	"gatehouse/migrations/dbtest"
)

func TestUserStore(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, db *gorm.DB) {
		identitytest.RunUserStoreTests(t, func(t *testing.T) identity.UserStore {
			return sqlstore.NewUserStore(db)
		})
	})
}
