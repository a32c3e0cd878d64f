package usage

import (
	"fmt"
	"strings"
	"time"
)

// MaxDays is the longest period a report covers: a year and a bit, so
// that a year compares with the same weeks a year before.
const MaxDays = 400

// FieldError names a query field and what is wrong with it.
type FieldError struct {
	Field   string // "from", "to" or "client_id"
	Message string
}

// ValidationError lists what is wrong with a Query, field by field.
type ValidationError struct {
	Fields []FieldError
}

func (e *ValidationError) Error() string {
	parts := make([]string, len(e.Fields))
	for i, f := range e.Fields {
		parts[i] = f.Field + ": " + f.Message
	}
	return "usage: invalid query: " + strings.Join(parts, "; ")
}

// MaxClientIDLength bounds Query.ClientID.
const MaxClientIDLength = 255

// Validate checks q: From and To at midnight UTC, From before To, at
// most MaxDays days, a client ID of sane length.
func (q Query) Validate() error {
	var fs []FieldError
	add := func(field, format string, args ...any) {
		fs = append(fs, FieldError{Field: field, Message: fmt.Sprintf(format, args...)})
	}
	fromOK, toOK := true, true
	if q.From.IsZero() {
		add("from", "required")
		fromOK = false
	} else if !IsDay(q.From) {
		add("from", "must be a day at midnight UTC")
		fromOK = false
	}
	if q.To.IsZero() {
		add("to", "required")
		toOK = false
	} else if !IsDay(q.To) {
		add("to", "must be a day at midnight UTC")
		toOK = false
	}
	if fromOK && toOK {
		switch days := q.Days(); {
		case days < 1:
			add("to", "must be after from")
		case days > MaxDays:
			add("to", "the period must not exceed %d days, got %d", MaxDays, days)
		}
	}
	if len(q.ClientID) > MaxClientIDLength {
		add("client_id", "must be at most %d characters", MaxClientIDLength)
	} else if strings.ContainsFunc(q.ClientID, func(r rune) bool { return r < 0x20 || r == 0x7f }) {
		add("client_id", "must not contain control characters")
	}
	if len(fs) > 0 {
		return &ValidationError{Fields: fs}
	}
	return nil
}

// Days is the number of days in [From, To).
func (q Query) Days() int { return int(q.To.Sub(q.From) / (24 * time.Hour)) }

// IsDay reports whether t is midnight UTC.
func IsDay(t time.Time) bool { return t.Location() == time.UTC && t.Equal(Day(t)) }

// Day returns the UTC midnight that begins t's day.
func Day(t time.Time) time.Time {
	t = t.UTC()
	return time.Date(t.Year(), t.Month(), t.Day(), 0, 0, 0, 0, time.UTC)
}

// DayKey is a day as the aggregates store it: "2006-01-02", UTC.
func DayKey(t time.Time) string { return t.UTC().Format(time.DateOnly) }

// LastDays is the query for the n days up to and including today's.
func LastDays(now time.Time, n int, clientID string) Query {
	to := Day(now).AddDate(0, 0, 1)
	return Query{From: to.AddDate(0, 0, -n), To: to, ClientID: clientID}
}

// WeekStart is the Monday that begins t's ISO week.
func WeekStart(t time.Time) time.Time {
	d := Day(t)
	return d.AddDate(0, 0, -((int(d.Weekday()) + 6) % 7))
}

// MonthStart is the first day of t's month.
func MonthStart(t time.Time) time.Time {
	t = t.UTC()
	return time.Date(t.Year(), t.Month(), 1, 0, 0, 0, 0, time.UTC)
}
