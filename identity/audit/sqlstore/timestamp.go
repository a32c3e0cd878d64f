package sqlstore

import (
	"database/sql/driver"
	"fmt"
	"time"

	"gatehouse/identity/audit"
)

// timestamp is a time column written as fixed-width UTC text with
// microseconds (audit.TimeLayout): SQLite compares times as text, and a
// fixed width makes text order time order. It reads back in UTC.
type timestamp time.Time

func (t timestamp) Time() time.Time { return time.Time(t) }

// Value implements driver.Valuer.
func (t timestamp) Value() (driver.Value, error) {
	return audit.NormalTime(time.Time(t)).Format(audit.TimeLayout), nil
}

// Scan implements sql.Scanner. PostgreSQL and the SQLite driver (for
// columns declared datetime) hand over a time.Time; text is parsed too.
func (t *timestamp) Scan(src any) error {
	switch v := src.(type) {
	case time.Time:
		*t = timestamp(v.UTC())
	case string:
		return t.parse(v)
	case []byte:
		return t.parse(string(v))
	default:
		return fmt.Errorf("audit sqlstore: cannot scan %T into a timestamp", src)
	}
	return nil
}

func (t *timestamp) parse(s string) error {
	v, err := time.Parse(time.RFC3339Nano, s)
	if err != nil {
		return fmt.Errorf("audit sqlstore: parse timestamp %q: %w", s, err)
	}
	*t = timestamp(v.UTC())
	return nil
}
