package dbtime

import (
	"testing"
	"time"
)

func TestRoundTripAndOrder(t *testing.T) {
	base := time.Date(2026, 1, 2, 3, 4, 5, 0, time.FixedZone("x", 3600))
	times := []time.Time{base, base.Add(500 * time.Millisecond), base.Add(550 * time.Millisecond), base.Add(time.Second)}
	var prev string
	for _, tm := range times {
		v, err := New(tm).Value()
		if err != nil {
			t.Fatal(err)
		}
		s := v.(string)
		if prev != "" && s <= prev {
			t.Errorf("text order broken: %q after %q", s, prev)
		}
		prev = s
		var back Time
		if err := back.Scan(s); err != nil || !back.Time().Equal(tm) || back.Time().Location() != time.UTC {
			t.Errorf("Scan(%q) = %v, %v; want %v in UTC", s, back.Time(), err, tm)
		}
	}
}

func TestNull(t *testing.T) {
	if v, _ := New(time.Time{}).Value(); v != nil {
		t.Errorf("zero time wrote %v, want NULL", v)
	}
	var tm Time
	if err := tm.Scan(nil); err != nil || tm.Ptr() != nil {
		t.Errorf("NULL read as %v, %v", tm.Ptr(), err)
	}
	if err := tm.Scan(42); err == nil {
		t.Error("scanning an int succeeded")
	}
}
