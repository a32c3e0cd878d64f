package oidc

// RFC 7636 §4.1: code_verifier = 43*128unreserved, where
// unreserved = ALPHA / DIGIT / "-" / "." / "_" / "~".
const (
	minVerifierLength = 43
	maxVerifierLength = 128
	// s256ChallengeLength is the base64url encoding, without padding, of a
	// SHA-256 digest (RFC 7636 §4.2).
	s256ChallengeLength = 43
)

// validVerifier reports whether v is a code_verifier as RFC 7636 §4.1
// defines it.
func validVerifier(v string) bool {
	if len(v) < minVerifierLength || len(v) > maxVerifierLength {
		return false
	}
	for i := 0; i < len(v); i++ {
		if !unreserved(v[i]) {
			return false
		}
	}
	return true
}

// validS256Challenge reports whether c can be BASE64URL(SHA256(verifier))
// (RFC 7636 §4.2): exactly 43 base64url characters, without padding.
func validS256Challenge(c string) bool {
	if len(c) != s256ChallengeLength {
		return false
	}
	for i := 0; i < len(c); i++ {
		if b := c[i]; !(isAlnum(b) || b == '-' || b == '_') {
			return false
		}
	}
	return true
}

func unreserved(b byte) bool {
	return isAlnum(b) || b == '-' || b == '.' || b == '_' || b == '~'
}

func isAlnum(b byte) bool {
	return 'A' <= b && b <= 'Z' || 'a' <= b && b <= 'z' || '0' <= b && b <= '9'
}
