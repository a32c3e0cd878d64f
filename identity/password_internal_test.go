package identity

import (
	"testing"
	"time"
)

func TestMovingAverage(t *testing.T) {
	var a movingAverage
	if got := a.get(InitialVerifyTime); got != InitialVerifyTime {
		t.Fatalf("before any sample: %v, want %v", got, InitialVerifyTime)
	}
	// Each sample moves the average an eighth of the way.
	a.add(10*time.Millisecond, InitialVerifyTime)
	if got, want := a.get(InitialVerifyTime), 45*time.Millisecond; got != want {
		t.Errorf("after 10ms: %v, want %v", got, want)
	}
	for range 200 {
		a.add(200*time.Millisecond, InitialVerifyTime)
	}
	if got := a.get(InitialVerifyTime); got < 199*time.Millisecond || got > 200*time.Millisecond {
		t.Errorf("after many 200ms samples: %v, want about 200ms", got)
	}
}
