package sqlstore

import (
	"testing"

	"gatehouse/identity/audit"
	"gatehouse/migrations/dbtime"
)

// The stored time must be the hashed time, or Verify would fail on read.
func TestStoredLayoutIsHashedLayout(t *testing.T) {
	if audit.TimeLayout != dbtime.Layout {
		t.Fatalf("audit hashes times as %q but stores them as %q", audit.TimeLayout, dbtime.Layout)
	}
}
