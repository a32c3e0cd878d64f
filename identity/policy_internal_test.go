package identity

import "testing"

func TestCommonPasswordsLoaded(t *testing.T) {
	if n := len(commonPasswords()); n < 10000 {
		t.Errorf("common password list has %d entries, want at least 10,000", n)
	}
}
