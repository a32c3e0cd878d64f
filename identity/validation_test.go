package identity_test

import (
	"errors"
	"maps"
	"slices"
	"strings"
	"testing"

	"gatehouse/identity"
)

// fieldNames returns the sorted field names of ve.
func fieldNames(ve *identity.ValidationError) []string {
	return slices.Sorted(maps.Keys(ve.Fields))
}

// asValidation returns err as a *ValidationError, failing the test if it is
// not one.
func asValidation(t testing.TB, err error) *identity.ValidationError {
	t.Helper()
	var ve *identity.ValidationError
	if !errors.As(err, &ve) {
		t.Fatalf("err = %T %v, want *identity.ValidationError", err, err)
	}
	return ve
}

func TestNormalizeEmail(t *testing.T) {
	tests := []struct {
		name, in, want string // want empty: rejected
	}{
		{"plain", "alice@example.com", "alice@example.com"},
		{"trimmed, domain lowered, local part kept", "  Alice.Liddell@Example.COM\t", "Alice.Liddell@example.com"},
		{"plus tag and subdomain", "user+tag@Mail.Example.org", "user+tag@mail.example.org"},
		{"unicode", "Ünïcode@Exämple.ORG", "Ünïcode@exämple.org"},
		{"localhost domain", "root@localhost", "root@localhost"},
		{"empty", "", ""},
		{"spaces only", "   ", ""},
		{"no at", "alice.example.com", ""},
		{"no domain", "alice@", ""},
		{"no local part", "@example.com", ""},
		{"two ats", "alice@@example.com", ""},
		{"display name", "Alice <alice@example.com>", ""},
		{"angle brackets", "<alice@example.com>", ""},
		{"comment", "alice@example.com (Alice)", ""},
		{"quoted local part", `"alice liddell"@example.com`, ""},
		{"space inside", "alice liddell@example.com", ""},
		{"domain literal", "alice@[192.0.2.1]", ""},
		{"two addresses", "a@example.com, b@example.com", ""},
		{"local part too long", strings.Repeat("a", 65) + "@example.com", ""},
		{"address too long", "a@" + strings.Repeat("b", 250) + ".com", ""},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got, err := identity.NormalizeEmail(tc.in)
			if tc.want == "" {
				if err == nil {
					t.Fatalf("NormalizeEmail(%q) = %q, want an error", tc.in, got)
				}
				if ve := asValidation(t, err); ve.Fields["email"] == "" {
					t.Errorf("NormalizeEmail(%q): no message for email in %v", tc.in, ve.Fields)
				}
				return
			}
			if err != nil || got != tc.want {
				t.Errorf("NormalizeEmail(%q) = %q, %v; want %q, nil", tc.in, got, err, tc.want)
			}
		})
	}
}

func TestValidateUsername(t *testing.T) {
	tests := []struct {
		name, in string
		ok       bool
	}{
		{"simple", "alice", true},
		{"mixed case and symbols", "Alice.Liddell_2-x", true},
		{"digit first", "7of9", true},
		{"min length", "abc", true},
		{"max length", strings.Repeat("a", 64), true},
		{"empty", "", false},
		{"too short", "ab", false},
		{"too long", strings.Repeat("a", 65), false},
		{"starts with dot", ".alice", false},
		{"starts with hyphen", "-alice", false},
		{"contains at", "alice@example", false},
		{"contains space", "alice liddell", false},
		{"non-ASCII letter", "alïce", false},
		{"Cyrillic look-alike", "аlice", false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			err := identity.ValidateUsername(tc.in)
			if tc.ok {
				if err != nil {
					t.Errorf("ValidateUsername(%q) = %v, want nil", tc.in, err)
				}
				return
			}
			if err == nil {
				t.Fatalf("ValidateUsername(%q) = nil, want an error", tc.in)
			}
			if ve := asValidation(t, err); ve.Fields["username"] == "" {
				t.Errorf("ValidateUsername(%q): no message for username in %v", tc.in, ve.Fields)
			}
		})
	}
}

func TestValidationErrorError(t *testing.T) {
	ve := &identity.ValidationError{}
	ve.Add("password", "Enter a password.")
	ve.Add("email", "Enter your e-mail address.")
	ve.Add("email", "a second message is ignored")
	want := "identity: invalid input: email: Enter your e-mail address.; password: Enter a password."
	if got := ve.Error(); got != want {
		t.Errorf("Error() = %q, want %q", got, want)
	}
}
