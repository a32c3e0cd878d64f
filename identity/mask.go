package identity

import "strings"

// MaskEmail shows enough of an address for its owner to recognise it
// and little to anyone looking over their shoulder: "a•••@example.com".
func MaskEmail(email string) string {
	at := strings.LastIndexByte(email, '@')
	if at <= 0 {
		return "•••"
	}
	first := []rune(email[:at])[0]
	return string(first) + "•••" + email[at:]
}

// MaskPhone shows the last three digits of an E.164 number:
// "+•••••••••456".
func MaskPhone(phone string) string {
	digits := strings.TrimPrefix(phone, "+")
	if len(digits) <= 3 {
		return "•••"
	}
	return "+" + strings.Repeat("•", len(digits)-3) + digits[len(digits)-3:]
}
