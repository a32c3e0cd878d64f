package oidc

import (
	"strings"
	"testing"
)

func TestPKCEFormats(t *testing.T) {
	const v43 = "dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk"
	for _, tc := range []struct {
		verifier string
		want     bool
	}{
		{v43, true},
		{strings.Repeat("a", 128), true},
		{"a.b_c~d-" + v43[8:], true},
		{v43[:42], false},
		{strings.Repeat("a", 129), false},
		{v43[:42] + "+", false},
		{v43[:42] + "/", false},
		{v43[:42] + "=", false},
		{v43[:42] + " ", false},
		{v43[:41] + "é", false},
		{"", false},
	} {
		if got := validVerifier(tc.verifier); got != tc.want {
			t.Errorf("validVerifier(%q) = %t, want %t", tc.verifier, got, tc.want)
		}
	}
	const c43 = "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM"
	for _, tc := range []struct {
		challenge string
		want      bool
	}{
		{c43, true},
		{c43[:42], false},
		{c43 + "A", false},
		{c43[:42] + "=", false},
		{c43[:42] + ".", false},
		{c43[:42] + "~", false},
		{"+" + c43[1:], false},
		{strings.Repeat("a", 128), false},
	} {
		if got := validS256Challenge(tc.challenge); got != tc.want {
			t.Errorf("validS256Challenge(%q) = %t, want %t", tc.challenge, got, tc.want)
		}
	}
}
