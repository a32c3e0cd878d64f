package ratelimit

import (
	"fmt"
	"strconv"
	"strings"
	"time"
)

// Rule allows Limit requests per Window.
type Rule struct {
	Limit  int
	Window time.Duration
}

// String formats r as ParseRule reads it: "20/1m0s".
func (r Rule) String() string {
	return strconv.Itoa(r.Limit) + "/" + r.Window.String()
}

// interval is the emission interval of GCRA: one request per interval
// once the burst is used up.
func (r Rule) interval() time.Duration {
	return r.Window / time.Duration(r.Limit)
}

func (r Rule) validate() error {
	if r.Limit < 1 || r.Window <= 0 || r.interval() <= 0 {
		return fmt.Errorf("ratelimit: invalid rule %v: want a positive limit and a window of at least a nanosecond per request", r)
	}
	return nil
}

// ParseRule reads "N/duration": a positive request count, a slash and a Go
// duration ("20/1m", "3/15m", "1200/1m"). A bare unit means one of it:
// "10/s", "100/h".
func ParseRule(s string) (Rule, error) {
	n, w, ok := strings.Cut(strings.TrimSpace(s), "/")
	if !ok {
		return Rule{}, fmt.Errorf("ratelimit: rule %q: want N/duration, such as 20/1m", s)
	}
	limit, err := strconv.Atoi(strings.TrimSpace(n))
	if err != nil || limit < 1 {
		return Rule{}, fmt.Errorf("ratelimit: rule %q: the count must be a positive integer", s)
	}
	w = strings.TrimSpace(w)
	if w != "" && (w[0] < '0' || w[0] > '9') && w[0] != '.' {
		w = "1" + w
	}
	window, err := time.ParseDuration(w)
	if err != nil || window <= 0 {
		return Rule{}, fmt.Errorf("ratelimit: rule %q: the window must be a positive duration, such as 1m", s)
	}
	r := Rule{Limit: limit, Window: window}
	if err := r.validate(); err != nil {
		return Rule{}, err
	}
	return r, nil
}
