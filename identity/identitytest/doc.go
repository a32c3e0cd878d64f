// Package identitytest holds the conformance suite for identity's store
// interfaces. Every implementation runs the same cases, against each
// database it supports:
//
//	dbtest.Each(t, func(t *testing.T, db *gorm.DB) {
//		identitytest.RunUserStoreTests(t, func(t *testing.T) identity.UserStore {
//			return sqlstore.NewUserStore(db)
//		})
//	})
package identitytest
