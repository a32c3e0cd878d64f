package identity_test

import (
	"testing"

	"gatehouse/identity"
)

func TestMask(t *testing.T) {
	for _, tc := range []struct{ got, want string }{
		{identity.MaskEmail("ada@example.com"), "a•••@example.com"},
		{identity.MaskEmail("ébé@example.com"), "é•••@example.com"},
		{identity.MaskEmail("broken"), "•••"},
		{identity.MaskPhone("+447911123456"), "+•••••••••456"},
		{identity.MaskPhone("+12"), "•••"},
	} {
		if tc.got != tc.want {
			t.Errorf("masked = %q, want %q", tc.got, tc.want)
		}
	}
}
