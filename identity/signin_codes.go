package identity

import (
	"context"
	"errors"
	"fmt"
	"time"
)

// CodeChannel is where a sign-in code goes: the user's verified e-mail
// address or phone number. The values are those of identity/mfa's code
// kinds.
type CodeChannel string

// The channels.
const (
	ChannelEmail CodeChannel = "email"
	ChannelSMS   CodeChannel = "sms"
)

// The purposes of sign-in codes, one per channel, so that a code sent by
// e-mail and one sent by SMS live side by side.
const (
	PurposeSignInEmail Purpose = "signin_email"
	PurposeSignInSMS   Purpose = "signin_sms"
)

// ErrNoChannel: the user has no verified address or number for the
// channel (any more), so no code is sent and none is accepted.
var ErrNoChannel = errors.New("identity: no verified address for sign-in codes")

// SignInCodes sends and checks the 6-digit codes that prove a second
// factor by e-mail or SMS. They follow the rules of the verification
// codes (CodeTTL, single use, MaxCodeAttempts, ResendCooldown, keyed
// hashes, queued through the Notifier) and are bound to one sign-in:
// the hash covers the flow's ID and the address, so a code sent for one
// sign-in, or to an address the user no longer has, is a wrong code.
type SignInCodes struct {
	*Core
	Users UserFinder
	// ProductName names the service in text messages; empty leaves it out.
	ProductName string
}

// SendSignInCode queues a new code for the sign-in flowID of the user to
// their verified address or number of channel, replacing the last one.
// It returns ErrNoChannel, or a *CooldownError when the last code went
// out less than ResendCooldown ago.
func (s *SignInCodes) SendSignInCode(ctx context.Context, userID string, ch CodeChannel, flowID string) error {
	if s.Notifier == nil {
		return errors.New(msgNotifierMissing)
	}
	u, p, target, err := s.destination(ctx, userID, ch)
	if err != nil {
		return err
	}
	ttl := s.codeTTL()
	tok, err := s.issueToken(ctx, tokenRequest{userID: u.ID, purpose: p, target: target, code: true, ttl: ttl,
		bind: signInBinding(flowID, target)})
	if err != nil {
		return err
	}
	switch ch {
	case ChannelEmail:
		err = s.Notifier.SendMail(ctx, Mail{Kind: MailSignInCode, To: target, Name: greeting(u), Code: tok.code,
			ExpiresIn: humanDuration(ttl), ExpiresAt: tok.token.ExpiresAt})
	default:
		err = s.Notifier.SendSMS(ctx, SMS{To: target, Text: s.smsText(tok.code, ttl), ExpiresAt: tok.token.ExpiresAt})
	}
	if err != nil {
		return s.dropToken(ctx, tok.token, fmt.Errorf("identity: queue sign-in code: %w", err))
	}
	return nil
}

// CheckSignInCode accepts the code last sent by channel for the sign-in
// flowID, once. It returns ErrCodeInvalid (wrong, expired, used, sent
// for another sign-in or to another address), ErrTooManyAttempts, or
// ErrNoChannel.
func (s *SignInCodes) CheckSignInCode(ctx context.Context, userID string, ch CodeChannel, flowID, code string) error {
	if s.Tokens == nil {
		return errors.New("identity: Core.Tokens is not set")
	}
	k, err := s.tokenHasher()
	if err != nil {
		return err
	}
	u, p, target, err := s.destination(ctx, userID, ch)
	if err != nil {
		return err
	}
	find := func() (*OneTimeToken, error) { return s.Tokens.GetToken(ctx, u.ID, p) }
	t, err := s.tryCode(ctx, find, code, func(t *OneTimeToken, code string) bool {
		return equalHash(k.boundCode(u.ID, p, signInBinding(flowID, target), code), t.CodeHash)
	})
	if err != nil {
		return err
	}
	return s.useToken(ctx, t)
}

// destination is the user's verified address or number for ch.
func (s *SignInCodes) destination(ctx context.Context, userID string, ch CodeChannel) (*User, Purpose, string, error) {
	u, err := s.Users.GetUser(ctx, userID)
	if err != nil {
		return nil, "", "", fmt.Errorf("identity: sign-in code: %w", err)
	}
	switch {
	case ch == ChannelEmail && u.EmailVerified && u.Email != "":
		return u, PurposeSignInEmail, u.Email, nil
	case ch == ChannelSMS && u.PhoneVerified && u.Phone != "":
		return u, PurposeSignInSMS, u.Phone, nil
	}
	return nil, "", "", ErrNoChannel
}

// smsText is the sign-in message: one GSM-7 segment, the code the only
// number in the first sentence.
func (s *SignInCodes) smsText(code string, ttl time.Duration) string {
	name := ""
	if s.ProductName != "" {
		name = s.ProductName + " "
	}
	return fmt.Sprintf("Your %ssign-in code is %s. It expires in %s. Never share it.", name, code, humanDuration(ttl))
}

// signInBinding is what a sign-in code is bound to: the flow it was sent
// for and the address it was sent to.
func signInBinding(flowID, target string) string { return "flow:" + flowID + "\x00to:" + target }
