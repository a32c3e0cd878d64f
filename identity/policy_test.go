package identity_test

import (
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"gatehouse/identity"
)

func TestPasswordPolicyCheck(t *testing.T) {
	const (
		tooShort = "Choose a longer password: at least 8 characters."
		sameAs   = "Choose a password that is not your username or e-mail address."
	)
	common := "This password is one of the most common ones, which attackers try first. Choose a different one, for example a few unrelated words."
	tests := []struct {
		name     string
		policy   identity.PasswordPolicy
		password string
		inputs   []string
		want     string // message for "password"; empty: accepted
	}{
		{name: "good passphrase", password: "correct horse battery staple"},
		{name: "empty", password: "", want: "Enter a password."},
		{name: "too short", password: "x7#kQ!2", want: tooShort},
		{name: "exactly min length", password: "x7#kQ!2v"},
		{name: "four emoji are four characters", password: "😀🦊🌲🐻", want: tooShort},
		{name: "eight emoji are enough", password: "😀🦊🌲🐻🦉🐺🦌🦔"},
		{name: "spaces allowed, no composition rules", password: "all lower case words"},
		{
			name:     "combining marks counted after NFC",
			policy:   identity.PasswordPolicy{MinLength: 9},
			password: "cafe\u0301cafe\u0301", // 10 code points, 8 after NFC
			want:     "Choose a longer password: at least 9 characters.",
		},
		{
			name:     "too long",
			policy:   identity.PasswordPolicy{MaxLength: 64},
			password: strings.Repeat("horse ", 11),
			want:     "Choose a shorter password: at most 64 characters.",
		},
		{name: "max length allowed", policy: identity.PasswordPolicy{MaxLength: 64}, password: strings.Repeat("battery ", 8)},
		{name: "common password1", password: "password1", want: common},
		{name: "common Qwerty123 ignoring case", password: "Qwerty123", want: common},
		{name: "common PASSWORD", password: "PASSWORD", want: common},
		{name: "equal to username", password: "Alice.Liddell", inputs: []string{"alice.liddell", "al@example.com"}, want: sameAs},
		{name: "equal to e-mail", password: "ALICE@example.com", inputs: []string{"al", "alice@Example.com"}, want: sameAs},
		{name: "equal to e-mail local part", password: "alice.liddell", inputs: []string{"al", "Alice.Liddell@example.com"}, want: sameAs},
		{name: "containing username is fine", password: "alice.liddell in wonderland", inputs: []string{"alice.liddell"}},
		{name: "empty inputs ignored", password: "correct horse battery staple", inputs: []string{"", " "}},
		{name: "invalid UTF-8", password: "abcdefgh\xff", want: "The password contains characters that could not be read. Type it again."},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			err := tc.policy.Check(tc.password, tc.inputs...)
			var got string
			if err != nil {
				ve, ok := err.(*identity.ValidationError)
				if !ok {
					t.Fatalf("Check: err = %T %v, want *ValidationError", err, err)
				}
				if diff := cmp.Diff([]string{"password"}, fieldNames(ve)); diff != "" {
					t.Errorf("Check: fields mismatch (-want +got):\n%s", diff)
				}
				got = ve.Fields["password"]
			}
			if got != tc.want {
				t.Errorf("Check(%q) = %q, want %q", tc.password, got, tc.want)
			}
		})
	}
}
