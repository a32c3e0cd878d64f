package sqlstore

import "gatehouse/migrations/dbtime"

// timestamp is the shared time column type (see migrations/dbtime); its
// layout is the one audit hashes (audit.TimeLayout), so stored and hashed
// times agree to the microsecond.
type timestamp = dbtime.Time
