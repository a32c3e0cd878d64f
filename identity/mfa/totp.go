package mfa

import (
	"context"
	"crypto/rand"
	"crypto/subtle"
	"encoding/base32"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/google/uuid"
	"github.com/pquerna/otp"
	"github.com/pquerna/otp/totp"
)

// TOTP parameters (RFC 6238 with the defaults every authenticator app
// supports): a 160-bit secret (RFC 4226 §4 recommends it), HMAC-SHA-1,
// 6 digits, 30-second steps.
const (
	totpSecretBytes = 20
	totpDigits      = otp.DigitsSix
	totpPeriod      = 30
	// totpSkew is how many steps before and after now are accepted
	// (RFC 6238 §5.2: at most one step of network delay and drift).
	totpSkew = 1
)

var totpOpts = totp.ValidateOpts{Period: totpPeriod, Digits: totpDigits, Algorithm: otp.AlgorithmSHA1}

// Enrolment is what a user needs to add an authenticator app. The secret
// is shown only now: it is stored sealed and never shown again.
type Enrolment struct {
	// FactorID names the pending factor for ConfirmTOTP.
	FactorID string
	// Secret is the base32 secret in groups of four ("ABCD EFGH ...")
	// for typing it in.
	Secret string
	// URI is the otpauth:// key URI (for a link and the QR code).
	URI string
	// QRCode is URI as an SVG QR code.
	QRCode string
}

// BeginTOTP creates a pending authenticator-app factor for the user and
// returns its enrolment. It replaces the user's earlier pending ones.
func (s *Service) BeginTOTP(ctx context.Context, userID, username, name string) (*Enrolment, error) {
	if err := s.check(); err != nil {
		return nil, err
	}
	if s.Issuer == "" {
		return nil, errors.New("mfa: Service.Issuer is not set")
	}
	secret := make([]byte, totpSecretBytes)
	rand.Read(secret) // never fails (crypto/rand documents it)
	id, err := uuid.NewV7()
	if err != nil {
		return nil, fmt.Errorf("mfa: new factor id: %w", err)
	}
	f := &Factor{
		ID: id.String(), UserID: userID, Kind: KindTOTP, Name: name, CreatedAt: s.now(),
	}
	f.SecretSealed = s.Sealer.Seal(secret, sealBinding(f))
	if err := s.Factors.DeletePendingFactors(ctx, userID, KindTOTP); err != nil {
		return nil, fmt.Errorf("mfa: drop pending factors: %w", err)
	}
	if err := s.Factors.CreateFactor(ctx, f); err != nil {
		return nil, fmt.Errorf("mfa: create factor: %w", err)
	}
	return s.enrolment(f.ID, username, secret)
}

// PendingTOTP returns the enrolment of the user's pending factor again,
// so a page can show it once more after a mistyped first code. A
// confirmed factor's secret is never shown again: it is ErrNotFound.
func (s *Service) PendingTOTP(ctx context.Context, userID, username, factorID string) (*Enrolment, error) {
	if err := s.check(); err != nil {
		return nil, err
	}
	f, err := s.Factors.GetFactor(ctx, userID, factorID)
	if err != nil {
		return nil, fmt.Errorf("mfa: pending factor: %w", err)
	}
	if f.Kind != KindTOTP || f.Confirmed() {
		return nil, fmt.Errorf("mfa: pending factor: %w", ErrNotFound)
	}
	secret, err := s.Sealer.Open(f.SecretSealed, sealBinding(f))
	if err != nil {
		return nil, fmt.Errorf("mfa: open secret of factor %s: %w", f.ID, err)
	}
	return s.enrolment(f.ID, username, secret)
}

// enrolment builds what the user needs to add secret to an app.
func (s *Service) enrolment(factorID, username string, secret []byte) (*Enrolment, error) {
	key, err := totp.Generate(totp.GenerateOpts{
		Issuer: s.Issuer, AccountName: username, Secret: secret,
		Period: totpPeriod, Digits: totpDigits, Algorithm: otp.AlgorithmSHA1,
	})
	if err != nil {
		return nil, fmt.Errorf("mfa: totp key: %w", err)
	}
	svg, err := QRCodeSVG(key.URL())
	if err != nil {
		return nil, err
	}
	return &Enrolment{FactorID: factorID, Secret: groupSecret(key.Secret()), URI: key.URL(), QRCode: svg}, nil
}

// ConfirmTOTP activates a pending factor when code is valid for it now.
func (s *Service) ConfirmTOTP(ctx context.Context, userID, factorID, code string) error {
	if err := s.check(); err != nil {
		return err
	}
	f, err := s.Factors.GetFactor(ctx, userID, factorID)
	if err != nil {
		return fmt.Errorf("mfa: confirm: %w", err)
	}
	if f.Kind != KindTOTP || f.Confirmed() {
		return fmt.Errorf("mfa: confirm: %w", ErrNotFound)
	}
	return s.acceptCode(ctx, f, code, true)
}

// VerifyTOTP checks code against the user's confirmed authenticator apps
// and returns the factor that accepted it. A code already accepted is
// refused with ErrInvalidCode, also when two requests race.
func (s *Service) VerifyTOTP(ctx context.Context, userID, code string) (*Factor, error) {
	if err := s.check(); err != nil {
		return nil, err
	}
	all, err := s.Factors.ListFactors(ctx, userID)
	if err != nil {
		return nil, fmt.Errorf("mfa: verify: %w", err)
	}
	for i := range all {
		f := &all[i]
		if f.Kind != KindTOTP || !f.Confirmed() {
			continue
		}
		switch err := s.acceptCode(ctx, f, code, false); {
		case err == nil:
			return f, nil
		case !errors.Is(err, ErrInvalidCode):
			return nil, err
		}
	}
	return nil, ErrInvalidCode
}

// acceptCode finds the step code is valid at and records it as the
// factor's last, which fails unless it is newer than the last accepted.
func (s *Service) acceptCode(ctx context.Context, f *Factor, code string, confirm bool) error {
	code, ok := normalizeDigits(code)
	if !ok {
		return ErrInvalidCode
	}
	secret, err := s.Sealer.Open(f.SecretSealed, sealBinding(f))
	if err != nil {
		return fmt.Errorf("mfa: open secret of factor %s: %w", f.ID, err)
	}
	now := s.now()
	step, ok := matchStep(base32.StdEncoding.WithPadding(base32.NoPadding).EncodeToString(secret), code, now)
	if !ok || step <= f.LastStep {
		return ErrInvalidCode
	}
	changed, err := s.Factors.AcceptStep(ctx, f.UserID, f.ID, step, now, confirm)
	if err != nil {
		return fmt.Errorf("mfa: record step: %w", err)
	}
	if !changed {
		return ErrInvalidCode
	}
	f.LastStep, f.LastUsedAt = step, &now
	if confirm {
		f.ConfirmedAt = &now
	}
	return nil
}

// matchStep returns the time step within the skew window at which code is
// valid. Every candidate is computed and compared in constant time, so
// the time taken does not tell which step matched.
func matchStep(secret, code string, now time.Time) (int64, bool) {
	current := now.Unix() / totpPeriod
	found, ok := int64(0), false
	for step := current - totpSkew; step <= current+totpSkew; step++ {
		want, err := totp.GenerateCodeCustom(secret, time.Unix(step*totpPeriod, 0), totpOpts)
		if err != nil {
			return 0, false
		}
		if subtle.ConstantTimeCompare([]byte(want), []byte(code)) == 1 {
			// The newest matching step wins, so a code valid at two
			// steps cannot be accepted twice.
			found, ok = step, true
		}
	}
	return found, ok
}

// sealBinding is the additional data a TOTP secret is sealed with: a
// sealed secret copied to another row or user does not open.
func sealBinding(f *Factor) []byte { return []byte("mfa totp\x00" + f.UserID + "\x00" + f.ID) }

// groupSecret spaces a base32 secret in groups of four for reading.
func groupSecret(s string) string {
	var b strings.Builder
	for i, r := range s {
		if i > 0 && i%4 == 0 {
			b.WriteByte(' ')
		}
		b.WriteRune(r)
	}
	return b.String()
}

// normalizeDigits strips what people type around a code ("123 456",
// "123-456") and reports whether six digits remain.
func normalizeDigits(code string) (string, bool) {
	code = strings.Map(func(r rune) rune {
		if r == ' ' || r == '-' || r == '\t' {
			return -1
		}
		return r
	}, code)
	if len(code) != int(totpDigits) {
		return "", false
	}
	for _, c := range []byte(code) {
		if c < '0' || c > '9' {
			return "", false
		}
	}
	return code, true
}
