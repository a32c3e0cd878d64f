package sqlstore

import (
	"database/sql/driver"
	"fmt"
	"time"
)

// timestampLayout is fixed-width UTC with microseconds, PostgreSQL's
// precision. SQLite keeps times as text and compares them as text, and the
// driver's own format (RFC 3339 with trailing zeros trimmed) sorts
// "…05.5Z" after "…05.55Z"; a fixed width makes text order time order, so
// ORDER BY and range conditions work the same in both databases.
const timestampLayout = "2006-01-02T15:04:05.000000Z"

// timestamp is a time column (as in identity/sqlstore): written in
// timestampLayout, read back in UTC.
// The zero time is NULL.
type timestamp time.Time

func newTimestamp(t time.Time) timestamp {
	if t.IsZero() {
		return timestamp{}
	}
	return timestamp(t.UTC().Truncate(time.Microsecond))
}

// Time returns t in UTC (the zero time for NULL).
func (t timestamp) Time() time.Time { return time.Time(t) }

// Value implements driver.Valuer.
func (t timestamp) Value() (driver.Value, error) {
	if time.Time(t).IsZero() {
		return nil, nil
	}
	return time.Time(t).UTC().Format(timestampLayout), nil
}

// Scan implements sql.Scanner. PostgreSQL and the SQLite driver (for
// columns declared datetime) hand over a time.Time; text is parsed too.
func (t *timestamp) Scan(src any) error {
	switch v := src.(type) {
	case nil:
		*t = timestamp{}
	case time.Time:
		*t = timestamp(v.UTC())
	case string:
		return t.parse(v)
	case []byte:
		return t.parse(string(v))
	default:
		return fmt.Errorf("sqlstore: cannot scan %T into a timestamp", src)
	}
	return nil
}

func (t *timestamp) parse(s string) error {
	v, err := time.Parse(time.RFC3339Nano, s)
	if err != nil {
		return fmt.Errorf("sqlstore: parse timestamp %q: %w", s, err)
	}
	*t = timestamp(v.UTC())
	return nil
}
