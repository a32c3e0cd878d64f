package identity

import (
	"fmt"
	"strings"
	"sync"
	"unicode/utf8"

	"github.com/trustelem/zxcvbn/frequency"
	"golang.org/x/text/unicode/norm"
)

// PasswordPolicy is the password rule set of NIST SP 800-63B §5.1.1.2
// (memorized secret verifiers): a length range counted in Unicode code
// points after NFC normalisation, every character allowed (spaces and
// emoji included), no composition rules ("one digit, one symbol"), and a
// check against commonly used passwords and the account's own username and
// e-mail address. Zero fields take the value from DefaultPasswordPolicy.
type PasswordPolicy struct {
	MinLength int // code points
	MaxLength int // code points
}

// DefaultPasswordPolicy requires 8 code points, the SP 800-63B minimum for
// a password that is not the only factor, and allows up to 128, twice what
// the guideline asks verifiers to permit, so passphrases fit.
var DefaultPasswordPolicy = PasswordPolicy{MinLength: 8, MaxLength: 128}

func (p PasswordPolicy) withDefaults() PasswordPolicy {
	if p.MinLength <= 0 {
		p.MinLength = DefaultPasswordPolicy.MinLength
	}
	if p.MaxLength <= 0 {
		p.MaxLength = DefaultPasswordPolicy.MaxLength
	}
	return p
}

// maxBytes is the longest input, in bytes, that can still be within
// MaxLength code points (UTF-8 needs at most 4 bytes per code point).
// Longer input is rejected before any hashing.
func (p PasswordPolicy) maxBytes() int { return p.withDefaults().MaxLength * utf8.UTFMax }

// Check returns nil when password may be chosen, or a *ValidationError for
// FieldPassword saying what to change. userInputs are the account's own
// values (username, e-mail address, ...): the password may not equal any of
// them, nor the local part of an e-mail address, ignoring case.
func (p PasswordPolicy) Check(password string, userInputs ...string) error {
	p = p.withDefaults()
	if !utf8.ValidString(password) {
		return fieldError(FieldPassword, "The password contains characters that could not be read. Type it again.")
	}
	pw := norm.NFC.String(password)
	switch n := utf8.RuneCountInString(pw); {
	case n == 0:
		return fieldError(FieldPassword, "Enter a password.")
	case n < p.MinLength:
		return fieldError(FieldPassword, fmt.Sprintf("Choose a longer password: at least %d characters.", p.MinLength))
	case n > p.MaxLength:
		return fieldError(FieldPassword, fmt.Sprintf("Choose a shorter password: at most %d characters.", p.MaxLength))
	}
	for _, in := range userInputs {
		if matchesUserInput(pw, in) {
			return fieldError(FieldPassword, "Choose a password that is not your username or e-mail address.")
		}
	}
	if _, ok := commonPasswords()[strings.ToLower(pw)]; ok {
		return fieldError(FieldPassword, "This password is one of the most common ones, which attackers try first. Choose a different one, for example a few unrelated words.")
	}
	return nil
}

func matchesUserInput(pw, in string) bool {
	in = strings.TrimSpace(norm.NFC.String(in))
	if in == "" {
		return false
	}
	if strings.EqualFold(pw, in) {
		return true
	}
	if at := strings.LastIndexByte(in, '@'); at > 0 {
		return strings.EqualFold(pw, in[:at])
	}
	return false
}

// commonPasswords is the set of the 30,000 most common passwords bundled
// with zxcvbn, lower-cased, built on first use.
var commonPasswords = sync.OnceValue(func() map[string]struct{} {
	list := frequency.FrequencyLists["passwords"]
	m := make(map[string]struct{}, len(list))
	for _, pw := range list {
		m[strings.ToLower(pw)] = struct{}{}
	}
	return m
})
