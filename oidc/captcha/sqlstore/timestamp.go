package sqlstore

import (
	"time"

	"gatehouse/migrations/dbtime"
)

// timestamp is the shared time column type (see migrations/dbtime).
type timestamp = dbtime.Time

func newTimestamp(t time.Time) timestamp { return dbtime.New(t) }
