package sqlstore

import (
	"time"

	"gorm.io/gorm"

	"gatehouse/migrations/dbtime"
)

// timestamp is the shared time column type (see migrations/dbtime).
type timestamp = dbtime.Time

func newTimestamp(t time.Time) timestamp { return dbtime.New(t) }

// clock is now, or db's clock when now is nil.
func clock(now func() time.Time, db *gorm.DB) func() time.Time {
	if now != nil {
		return now
	}
	return db.NowFunc
}
