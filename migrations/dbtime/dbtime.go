// Package dbtime is the time column type every gorm store shares, so that
// PostgreSQL and SQLite store, compare and return times alike.
//
// SQLite keeps times as text and compares them as text, and its driver's
// own format (RFC 3339 with trailing zeros trimmed) sorts "…05.5Z" after
// "…05.55Z". Time writes fixed-width UTC with microseconds (PostgreSQL's
// precision), which makes text order time order, so ORDER BY and range
// conditions work the same in both databases.
package dbtime

import (
	"database/sql/driver"
	"fmt"
	"time"
)

// Layout is how a Time is written.
const Layout = "2006-01-02T15:04:05.000000Z"

// Time is a time column, read back in UTC. The zero time is NULL.
type Time time.Time

// New returns t in UTC, truncated to what the databases keep.
func New(t time.Time) Time {
	if t.IsZero() {
		return Time{}
	}
	return Time(t.UTC().Truncate(time.Microsecond))
}

// Time returns the value (the zero time for NULL).
func (t Time) Time() time.Time { return time.Time(t) }

// Ptr returns the value, or nil for NULL.
func (t Time) Ptr() *time.Time {
	if time.Time(t).IsZero() {
		return nil
	}
	v := time.Time(t)
	return &v
}

// Value implements driver.Valuer.
func (t Time) Value() (driver.Value, error) {
	if time.Time(t).IsZero() {
		return nil, nil
	}
	return time.Time(t).UTC().Truncate(time.Microsecond).Format(Layout), nil
}

// Scan implements sql.Scanner. PostgreSQL and the SQLite driver (for
// columns declared datetime) hand over a time.Time; text is parsed too.
func (t *Time) Scan(src any) error {
	switch v := src.(type) {
	case nil:
		*t = Time{}
	case time.Time:
		*t = Time(v.UTC())
	case string:
		return t.parse(v)
	case []byte:
		return t.parse(string(v))
	default:
		return fmt.Errorf("dbtime: cannot scan %T into a time", src)
	}
	return nil
}

func (t *Time) parse(s string) error {
	v, err := time.Parse(time.RFC3339Nano, s)
	if err != nil {
		return fmt.Errorf("dbtime: parse %q: %w", s, err)
	}
	*t = Time(v.UTC())
	return nil
}
