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
// added, and its estimate, which is kept beside it: estimating takes a
// few hundred microseconds, too long to do for every week of a year at
// every report.
func AddToSketch(enc []byte, users []string) ([]byte, int64, error) {
	sk := hyperloglog.New14()
	if len(enc) > 0 {
		if err := sk.UnmarshalBinary(enc); err != nil {
			return nil, 0, fmt.Errorf("usage: decode sketch: %w", err)
		}
	}
	for _, u := range users {
		sk.Insert([]byte(u))
	}
	out, err := sk.MarshalBinary()
	return out, int64(sk.Estimate()), err
}

// DaySketch is the encoded sketch of the span starting on Day, with its
// estimate.
type DaySketch struct {
	Day      string // DayKey of the span's first day
	Sketch   []byte // nil when only the estimate was asked for
	Estimate int64
}

func decode(in []DaySketch) ([]*hyperloglog.Sketch, error) {
	out := make([]*hyperloglog.Sketch, len(in))
	for i, s := range in {
		sk := hyperloglog.New14()
		if err := sk.UnmarshalBinary(s.Sketch); err != nil {
			return nil, fmt.Errorf("usage: decode sketch of %s: %w", s.Day, err)
		}
		out[i] = sk
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
