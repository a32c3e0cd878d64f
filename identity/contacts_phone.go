package identity

import (
	"context"
	"errors"
	"fmt"
	"time"
)

const msgPhoneVerified = "This number is already verified on your account."

// StartPhoneVerification reads rawPhone (with DefaultRegion when it has no
// country code) and texts a 6-digit code to it, valid for CodeTTL. The
// number becomes the user's only when VerifyPhoneCode confirms it. It
// returns a *ValidationError for FieldPhone when the number is invalid,
// cannot receive text messages or is already the user's verified number,
// and a *CooldownError when the last code went out less than
// ResendCooldown ago.
func (s *Contacts) StartPhoneVerification(ctx context.Context, userID, rawPhone string) error {
	if s.Notifier == nil {
		return errors.New(msgNotifierMissing)
	}
	u, err := s.Users.GetUser(ctx, userID)
	if err != nil {
		return fmt.Errorf("identity: start phone verification: %w", err)
	}
	phone, err := normalizeMobile(rawPhone, s.DefaultRegion)
	if err != nil {
		return err
	}
	if phone == u.Phone && u.PhoneVerified {
		return fieldError(FieldPhone, msgPhoneVerified)
	}
	ttl := s.codeTTL()
	tok, err := s.issueToken(ctx, tokenRequest{userID: u.ID, purpose: PurposeVerifyPhone, target: phone, code: true, ttl: ttl})
	if err != nil {
		return err
	}
	if err := s.Notifier.SendSMS(ctx, SMS{To: phone, Text: s.smsText(tok.code, ttl), ExpiresAt: tok.token.ExpiresAt}); err != nil {
		return s.dropToken(ctx, tok.token, fmt.Errorf("identity: queue verification sms: %w", err))
	}
	return nil
}

// smsText is the verification message: short enough for one GSM-7 segment
// and with the code as the only number in the first sentence.
func (s *Contacts) smsText(code string, ttl time.Duration) string {
	name := ""
	if s.ProductName != "" {
		name = s.ProductName + " "
	}
	return fmt.Sprintf("Your %sverification code is %s. It expires in %s.", name, code, humanDuration(ttl))
}

// VerifyPhoneCode confirms the number given to StartPhoneVerification with
// the code texted to it: it becomes the user's phone number, verified. It
// returns ErrCodeInvalid or ErrTooManyAttempts.
func (s *Contacts) VerifyPhoneCode(ctx context.Context, userID, code string) error {
	t, err := s.checkCode(ctx, userID, PurposeVerifyPhone, code)
	if err != nil {
		return err
	}
	if err := s.useToken(ctx, t); err != nil {
		return err
	}
	if err := s.Users.SetPhone(ctx, t.UserID, t.Target, true, s.now()); err != nil {
		return fmt.Errorf("identity: verify phone: %w", err)
	}
	return nil
}
