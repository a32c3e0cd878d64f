package sqlstore_test

import (
	"sync"
	"testing"

	"gorm.io/gorm"

	"gatehouse/migrations/dbtest"
)

func TestProbeConsentRace(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, db *gorm.DB) {
		s := newStore(t, db)
		for round := range 20 {
			user := "u" + string(rune('a'+round))
			start := make(chan struct{})
			errs := make([]error, 8)
			var wg sync.WaitGroup
			for i := range 8 {
				wg.Go(func() { <-start; errs[i] = s.SaveConsent(t.Context(), user, "app", []string{"openid"}, base) })
			}
			close(start)
			wg.Wait()
			for i, err := range errs {
				if err != nil {
					t.Errorf("round %d worker %d: %v", round, i, err)
				}
			}
		}
	})
}
