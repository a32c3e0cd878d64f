package mfa

import (
	"context"
	"errors"
	"fmt"
	"time"
)

// MinCodeKeyLength is the shortest CodeKey the Service accepts.
const MinCodeKeyLength = 32

// Service enrols, verifies, lists and removes second factors.
type Service struct {
	Factors Factors
	Codes   RecoveryCodes
	// Browsers keeps the remembered browsers; nil remembers none.
	Browsers Browsers
	// Graces keeps when the policy's grace period started per user.
	Graces Graces
	// Sealer seals TOTP secrets (the master key's seal.Box).
	Sealer Sealer
	// CodeKey keys the HMAC of recovery codes (at least
	// MinCodeKeyLength bytes), so a stolen table cannot be searched
	// offline without it.
	CodeKey []byte
	// Issuer names the product in authenticator apps.
	Issuer string
	// Now is the clock; nil means time.Now.
	Now func() time.Time
	// Tx makes a change of several rows (removing the last factor and
	// the recovery codes, a reset) one transaction; nil runs them as
	// they come.
	Tx Transactor
}

// inTx runs fn in one transaction through s.Tx, or as it comes without.
func (s *Service) inTx(ctx context.Context, fn func(ctx context.Context) error) error {
	if s.Tx == nil {
		return fn(ctx)
	}
	return s.Tx.Run(ctx, fn)
}

func (s *Service) now() time.Time {
	if s.Now != nil {
		return s.Now().UTC()
	}
	return time.Now().UTC()
}

// ListFactors returns the user's confirmed factors, oldest first.
func (s *Service) ListFactors(ctx context.Context, userID string) ([]Factor, error) {
	all, err := s.Factors.ListFactors(ctx, userID)
	if err != nil {
		return nil, fmt.Errorf("mfa: list factors: %w", err)
	}
	out := all[:0]
	for _, f := range all {
		if f.Confirmed() {
			out = append(out, f)
		}
	}
	return out, nil
}

// RemoveFactor removes one of the user's factors and forgets the user's
// remembered browsers. Deciding whether the user may (a recent
// second-factor sign-in) is the caller's business.
// Removing the last factor turns two-step verification off, and the
// recovery codes go with it: they would be a second factor for nothing,
// and would quietly come back to life with the next factor.
func (s *Service) RemoveFactor(ctx context.Context, userID, factorID string) error {
	return s.inTx(ctx, func(ctx context.Context) error {
		if err := s.Factors.DeleteFactor(ctx, userID, factorID); err != nil {
			return fmt.Errorf("mfa: remove factor: %w", err)
		}
		// A browser remembered on the strength of the factors the user
		// had is not remembered on fewer.
		if _, err := s.ForgetBrowsers(ctx, userID); err != nil {
			return err
		}
		left, err := s.ListFactors(ctx, userID)
		if err != nil || len(left) > 0 || s.Codes == nil {
			return err
		}
		if err := s.Codes.ReplaceRecoveryCodes(ctx, userID, nil, s.now()); err != nil {
			return fmt.Errorf("mfa: remove recovery codes with the last factor: %w", err)
		}
		return nil
	})
}

// Reset removes every factor of the user, pending ones included, and
// their recovery codes: an administrator's answer to a user who lost
// their second factor. It returns how many confirmed factors there were.
// With Tx it is one transaction, which the caller's context may already
// carry (the audit entry and the notice joining it).
func (s *Service) Reset(ctx context.Context, userID string) (int, error) {
	if err := errors.Join(s.check(), s.checkCodes()); err != nil {
		return 0, err
	}
	confirmed := 0
	err := s.inTx(ctx, func(ctx context.Context) error {
		all, err := s.Factors.ListFactors(ctx, userID)
		if err != nil {
			return fmt.Errorf("mfa: reset: %w", err)
		}
		for _, f := range all {
			if err := s.Factors.DeleteFactor(ctx, userID, f.ID); err != nil && !errors.Is(err, ErrNotFound) {
				return fmt.Errorf("mfa: reset: %w", err)
			}
			if f.Confirmed() {
				confirmed++
			}
		}
		if err := s.Codes.ReplaceRecoveryCodes(ctx, userID, nil, s.now()); err != nil {
			return fmt.Errorf("mfa: reset recovery codes: %w", err)
		}
		_, err = s.ForgetBrowsers(ctx, userID)
		return err
	})
	if err != nil {
		return 0, err
	}
	return confirmed, nil
}

func (s *Service) check() error {
	switch {
	case s.Factors == nil:
		return errors.New("mfa: Service.Factors is not set")
	case s.Sealer == nil:
		return errors.New("mfa: Service.Sealer is not set")
	}
	return nil
}
