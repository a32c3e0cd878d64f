// Package identitytest holds the conformance suites for identity's store
// interfaces. Every implementation runs the same cases, against each
// database it supports:
//
//	dbtest.Each(t, func(t *testing.T, db *gorm.DB) {
//		identitytest.RunUserStoreTests(t, func(t *testing.T) identity.UserStore {
//			return sqlstore.NewUserStore(db)
//		})
//		identitytest.RunTokenStoreTests(t, func(t *testing.T) (identity.UserStore, identity.TokenStore) {
//			return sqlstore.NewUserStore(db), sqlstore.NewTokenStore(db)
//		})
//	})
package identitytest
