package mfa

import (
	"context"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"strings"
)

// Recovery code shape: RecoveryCodeCount codes of 10 symbols from a
// 32-symbol alphabet, 50 bits each, shown as xxxxx-xxxxx.
const (
	RecoveryCodeCount = 10
	recoveryCodeLen   = 10
	// recoveryAlphabet is A-Z and 2-9 without the look-alikes I, O, 0
	// and 1: 32 symbols, so one random byte's low 5 bits pick one
	// uniformly.
	recoveryAlphabet = "ABCDEFGHJKLMNPQRSTUVWXYZ23456789"
)

// RegenerateRecoveryCodes makes a new set of codes for the user, voiding
// the old set, and returns them grouped for display. They are stored only
// as keyed hashes: this is the only time they are seen.
func (s *Service) RegenerateRecoveryCodes(ctx context.Context, userID string) ([]string, error) {
	if err := s.checkCodes(); err != nil {
		return nil, err
	}
	codes := make([]string, RecoveryCodeCount)
	hashes := make([]string, RecoveryCodeCount)
	for i := range codes {
		c := newRecoveryCode()
		codes[i] = c[:recoveryCodeLen/2] + "-" + c[recoveryCodeLen/2:]
		hashes[i] = s.recoveryHash(userID, c)
	}
	if err := s.Codes.ReplaceRecoveryCodes(ctx, userID, hashes, s.now()); err != nil {
		return nil, fmt.Errorf("mfa: store recovery codes: %w", err)
	}
	return codes, nil
}

// UseRecoveryCode spends one of the user's codes. It returns
// ErrInvalidCode for a wrong code or one already used; of two requests
// racing with one code, exactly one succeeds.
func (s *Service) UseRecoveryCode(ctx context.Context, userID, code string) error {
	if err := s.checkCodes(); err != nil {
		return err
	}
	c, ok := normalizeRecoveryCode(code)
	if !ok {
		return ErrInvalidCode
	}
	// The lookup by keyed hash is the comparison: an attacker timing it
	// learns about hashes, which tell nothing without the key.
	used, err := s.Codes.UseRecoveryCode(ctx, userID, s.recoveryHash(userID, c), s.now())
	if err != nil {
		return fmt.Errorf("mfa: use recovery code: %w", err)
	}
	if !used {
		return ErrInvalidCode
	}
	return nil
}

// RemainingRecoveryCodes returns how many of the user's codes are unused.
func (s *Service) RemainingRecoveryCodes(ctx context.Context, userID string) (int, error) {
	if s.Codes == nil {
		return 0, errors.New("mfa: Service.Codes is not set")
	}
	n, err := s.Codes.CountRecoveryCodes(ctx, userID)
	if err != nil {
		return 0, fmt.Errorf("mfa: count recovery codes: %w", err)
	}
	return n, nil
}

func (s *Service) checkCodes() error {
	switch {
	case s.Codes == nil:
		return errors.New("mfa: Service.Codes is not set")
	case len(s.CodeKey) < MinCodeKeyLength:
		return fmt.Errorf("mfa: Service.CodeKey must hold at least %d bytes", MinCodeKeyLength)
	}
	return nil
}

// recoveryHash is the stored form of a normalised code, bound to its user
// so equal codes of two users hash apart.
func (s *Service) recoveryHash(userID, code string) string {
	m := hmac.New(sha256.New, s.CodeKey)
	for _, p := range []string{"recovery", userID, code} {
		m.Write([]byte(p))
		m.Write([]byte{0})
	}
	return hex.EncodeToString(m.Sum(nil))
}

func newRecoveryCode() string {
	b := make([]byte, recoveryCodeLen)
	rand.Read(b) // never fails (crypto/rand documents it)
	for i := range b {
		b[i] = recoveryAlphabet[b[i]&31]
	}
	return string(b)
}

// normalizeRecoveryCode accepts a code as shown or typed loosely (lower
// case, spaces, without or with the dash) and reports whether it has the
// shape of a code.
func normalizeRecoveryCode(code string) (string, bool) {
	code = strings.Map(func(r rune) rune {
		if r == ' ' || r == '-' || r == '\t' {
			return -1
		}
		return r
	}, strings.ToUpper(code))
	if len(code) != recoveryCodeLen {
		return "", false
	}
	for _, c := range []byte(code) {
		if !strings.ContainsRune(recoveryAlphabet, rune(c)) {
			return "", false
		}
	}
	return code, true
}
