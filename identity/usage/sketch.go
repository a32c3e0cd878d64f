package usage

import (
	"fmt"

	"github.com/axiomhq/hyperloglog"
)

// Weekly, monthly and period active users are distinct counts over
// days, which no sum of daily counts gives: each day keeps a HyperLogLog
// sketch (precision 14, about 0.8% standard error, at most 8 KiB) of its
// active users, and a report merges the days it needs. Report's
// ActiveUsersExact is therefore false. Daily active users are exact (see
// Activity).

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

// DaySketch is the encoded sketch of a day's active users.
type DaySketch struct {
	Day    string // DayKey
	Sketch []byte
}

// distinct estimates the users of the sketches of the days in [from, to).
func distinct(sketches []DaySketch, from, to string) (int64, error) {
	merged := hyperloglog.New14()
	any := false
	for _, s := range sketches {
		if s.Day < from || s.Day >= to {
			continue
		}
		sk := hyperloglog.New14()
		if err := sk.UnmarshalBinary(s.Sketch); err != nil {
			return 0, fmt.Errorf("usage: decode sketch of %s: %w", s.Day, err)
		}
		if err := merged.Merge(sk); err != nil {
			return 0, fmt.Errorf("usage: merge sketch of %s: %w", s.Day, err)
		}
		any = true
	}
	if !any {
		return 0, nil
	}
	return int64(merged.Estimate()), nil
}
