package mfa

import (
	"context"
	"errors"
	"fmt"

	"github.com/google/uuid"
)

// codeFactorNames label the code factors in the factor list.
var codeFactorNames = map[Kind]string{KindEmail: "Sign-in codes by e-mail", KindSMS: "Sign-in codes by SMS"}

// EnableCodes turns on sign-in codes of kind (KindEmail or KindSMS) for
// the user: a factor confirmed at once, because proving the address or
// number when it was verified is all it takes. That the user has a
// verified address or number is the caller's to check. It returns
// ErrExists when the kind is on already.
func (s *Service) EnableCodes(ctx context.Context, userID string, kind Kind) (*Factor, error) {
	if !kind.CodeKind() {
		return nil, fmt.Errorf("mfa: %q is not a kind of sign-in code", kind)
	}
	if s.Factors == nil {
		return nil, errors.New("mfa: Service.Factors is not set")
	}
	id, err := uuid.NewV7()
	if err != nil {
		return nil, fmt.Errorf("mfa: new factor id: %w", err)
	}
	now := s.now()
	f := &Factor{ID: id.String(), UserID: userID, Kind: kind, Name: codeFactorNames[kind], CreatedAt: now, ConfirmedAt: &now}
	if err := s.Factors.CreateFactor(ctx, f); err != nil {
		return nil, fmt.Errorf("mfa: enable %s codes: %w", kind, err)
	}
	return f, nil
}

// SetDefault makes one of the user's confirmed factors the default: the
// sign-in's challenge shows its kind first. It returns ErrNotFound for a
// factor that is not the user's or not confirmed.
func (s *Service) SetDefault(ctx context.Context, userID, factorID string) error {
	if err := s.Factors.SetDefaultFactor(ctx, userID, factorID); err != nil {
		return fmt.Errorf("mfa: set default: %w", err)
	}
	return nil
}
