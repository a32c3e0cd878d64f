package usage

import (
	"fmt"

	"github.com/axiomhq/hyperloglog"
)

// Weekly, monthly and period active users are distinct counts, which no
// sum of daily counts gives: the worker keeps a HyperLogLog sketch
// (precision 14: about 0.8% standard error, at most 8 KiB) of the users
// active in each day, ISO week and calendar month, and a report merges
// the few it needs: a week's or a month's as it is, a period's from its
// whole weeks and the days at its edges. Report's ActiveUsersExact is
// therefore false. Daily active users are exact (see Activity).

// Span is the length of what a sketch covers.
type Span string

// Spans of sketches.
const (
	SpanDay   Span = "day"
	SpanWeek  Span = "week"
	SpanMonth Span = "month"
)

// AddToSketch returns the sketch enc (nil for an empty one) with users
// added.
func AddToSketch(enc []byte, users []string) ([]byte, error) {
	sk := hyperloglog.New14()
	if len(enc) > 0 {
		if err := sk.UnmarshalBinary(enc); err != nil {
			return nil, fmt.Errorf("usage: decode sketch: %w", err)
		}
	}
	for _, u := range users {
		sk.Insert([]byte(u))
	}
	return sk.MarshalBinary()
}

// DaySketch is the encoded sketch of the span starting on Day.
type DaySketch struct {
	Day    string // DayKey of the span's first day
	Sketch []byte
}

// sketches are decoded sketches by their first day.
type sketches map[string]*hyperloglog.Sketch

func decode(in []DaySketch) (sketches, error) {
	out := make(sketches, len(in))
	for _, s := range in {
		sk := hyperloglog.New14()
		if err := sk.UnmarshalBinary(s.Sketch); err != nil {
			return nil, fmt.Errorf("usage: decode sketch of %s: %w", s.Day, err)
		}
		out[s.Day] = sk
	}
	return out, nil
}

// distinct estimates the users of the union of the sketches given.
func distinct(parts ...*hyperloglog.Sketch) (int64, error) {
	merged := hyperloglog.New14()
	any := false
	for _, sk := range parts {
		if sk == nil {
			continue
		}
		if err := merged.Merge(sk); err != nil {
			return 0, fmt.Errorf("usage: merge sketches: %w", err)
		}
		any = true
	}
	if !any {
		return 0, nil
	}
	return int64(merged.Estimate()), nil
}
