package identity

import (
	"context"
	"errors"
	"fmt"
	"net/url"
	"slices"
	"strings"
	"time"

	"github.com/google/uuid"
)

// Defaults for the one-time token settings (Core, Recovery).
const (
	DefaultCodeTTL        = 10 * time.Minute
	DefaultResetTokenTTL  = 30 * time.Minute
	DefaultResendCooldown = time.Minute
	// DefaultInviteTTL is how long an invitation's link stays valid: a
	// new colleague may not read their mail the day it is sent.
	DefaultInviteTTL = 72 * time.Hour
)

// Paths under BaseURL that the links in e-mails point to. The hosted pages
// serve them; one verification page takes the links of both
// PurposeVerifyEmail and PurposeChangeEmail (see VerifyEmailToken).
const (
	linkPathVerifyEmail   = "/verify-email"
	linkPathResetPassword = "/reset-password"
	// linkPathSetPassword is the reset page in the words of an
	// invitation ("Set your password").
	linkPathSetPassword = "/set-password"
)

func (s *Core) codeTTL() time.Duration      { return orDefault(s.CodeTTL, DefaultCodeTTL) }
func (s *Recovery) resetTTL() time.Duration { return orDefault(s.ResetTokenTTL, DefaultResetTokenTTL) }
func (s *Core) cooldown() time.Duration     { return orDefault(s.ResendCooldown, DefaultResendCooldown) }
func orDefault(d, def time.Duration) time.Duration {
	if d > 0 {
		return d
	}
	return def
}

// tokenRequest describes a token to issue.
type tokenRequest struct {
	userID  string
	purpose Purpose
	target  string
	code    bool // with a 6-digit code
	link    bool // with a link token
	ttl     time.Duration
	// replace replaces the last token even within the cooldown (for
	// messages whose rate something else already limits).
	replace bool
	// bind, when set, is hashed with the code (tokenHasher.boundCode):
	// the code is right only where the same bind is given back.
	bind string
}

// issued is a stored token with its secrets, which exist only here and in
// the message that carries them.
type issued struct {
	token *OneTimeToken
	code  string
	link  string
}

// issueToken creates and stores a token, replacing the user's previous one
// for the purpose, or returns a *CooldownError when that one is unused and
// younger than the cooldown.
func (s *Core) issueToken(ctx context.Context, r tokenRequest) (*issued, error) {
	if s.Tokens == nil {
		return nil, errors.New("identity: Core.Tokens is not set")
	}
	k, err := s.tokenHasher()
	if err != nil {
		return nil, err
	}
	id, err := uuid.NewV7()
	if err != nil {
		return nil, fmt.Errorf("identity: new token id: %w", err)
	}
	now := s.now()
	out := &issued{token: &OneTimeToken{
		ID: id.String(), UserID: r.userID, Purpose: r.purpose, Target: r.target,
		ExpiresAt: now.Add(r.ttl), CreatedAt: now,
	}}
	if r.code {
		if out.code, err = newCode(); err != nil {
			return nil, err
		}
		out.token.CodeHash = k.code(r.userID, r.purpose, out.code)
		if r.bind != "" {
			out.token.CodeHash = k.boundCode(r.userID, r.purpose, r.bind, out.code)
		}
	}
	if r.link {
		out.link = newLinkToken()
		out.token.TokenHash = k.link(out.link)
	}
	cooldown := s.cooldown()
	notBefore := now.Add(-cooldown)
	if r.replace {
		notBefore = now
	}
	ok, err := s.Tokens.PutToken(ctx, out.token, notBefore)
	if err != nil {
		return nil, fmt.Errorf("identity: store %s token: %w", r.purpose, err)
	}
	if !ok {
		return nil, s.cooldownError(ctx, r.userID, r.purpose, now, cooldown)
	}
	return out, nil
}

// cooldownError says how long until the user's token for purpose may be
// replaced.
func (s *Core) cooldownError(ctx context.Context, userID string, p Purpose, now time.Time, cooldown time.Duration) error {
	retry := time.Second
	prev, err := s.Tokens.GetToken(ctx, userID, p)
	switch {
	case err == nil:
		retry = max(prev.CreatedAt.Add(cooldown).Sub(now), time.Second)
	case !errors.Is(err, ErrNotFound):
		return fmt.Errorf("identity: read %s token: %w", p, err)
	}
	return &CooldownError{RetryAfter: retry}
}

// dropToken removes a token whose message could not be queued, so the
// cooldown does not stop the user from asking again at once.
func (s *Core) dropToken(ctx context.Context, t *OneTimeToken, cause error) error {
	if err := s.Tokens.DeleteToken(ctx, t.ID); err != nil {
		return errors.Join(cause, fmt.Errorf("identity: drop unsent token: %w", err))
	}
	return cause
}

// normalizeCode strips what people type around a code ("123 456",
// "123-456") and reports whether six digits remain.
func normalizeCode(code string) (string, bool) {
	code = strings.Map(func(r rune) rune {
		if r == ' ' || r == '-' || r == '\t' {
			return -1
		}
		return r
	}, code)
	if len(code) != 6 {
		return "", false
	}
	for _, c := range []byte(code) {
		if c < '0' || c > '9' {
			return "", false
		}
	}
	return code, true
}

// checkCode checks a code against the user's token for purpose and returns
// the token, not yet used: the caller checks what else it must and then
// calls useToken. See tryCode for the attempt rules.
func (s *Core) checkCode(ctx context.Context, userID string, p Purpose, code string) (*OneTimeToken, error) {
	if s.Tokens == nil {
		return nil, errors.New("identity: Core.Tokens is not set")
	}
	k, err := s.tokenHasher()
	if err != nil {
		return nil, err
	}
	find := func() (*OneTimeToken, error) { return s.Tokens.GetToken(ctx, userID, p) }
	return s.tryCode(ctx, find, code, func(t *OneTimeToken, code string) bool {
		return equalHash(k.code(userID, p, code), t.CodeHash)
	})
}

// tryCode checks code against the token find returns, with match. Every
// well-formed code counts as an attempt before it is compared, so
// concurrent guesses cannot exceed MaxCodeAttempts; the wrong code that
// reaches the limit, and every code after it, gets ErrTooManyAttempts.
// All other failures are ErrCodeInvalid.
func (s *Core) tryCode(ctx context.Context, find func() (*OneTimeToken, error), code string, match func(*OneTimeToken, string) bool) (*OneTimeToken, error) {
	now := s.now()
	t, err := find()
	switch {
	case errors.Is(err, ErrNotFound):
		return nil, ErrCodeInvalid
	case err != nil:
		return nil, fmt.Errorf("identity: read token: %w", err)
	case t.CodeHash == "" || t.UsedAt != nil || !now.Before(t.ExpiresAt):
		return nil, ErrCodeInvalid
	case t.Attempts >= MaxCodeAttempts:
		return nil, ErrTooManyAttempts
	}
	code, ok := normalizeCode(code)
	if !ok {
		return nil, ErrCodeInvalid
	}
	n, err := s.Tokens.CountAttempt(ctx, t.ID, now, MaxCodeAttempts)
	switch {
	case errors.Is(err, ErrNotFound):
		// Used, replaced or exhausted since it was read.
		if again, err := find(); err == nil && again.ID == t.ID &&
			again.UsedAt == nil && again.Attempts >= MaxCodeAttempts {
			return nil, ErrTooManyAttempts
		}
		return nil, ErrCodeInvalid
	case err != nil:
		return nil, fmt.Errorf("identity: count code attempt: %w", err)
	}
	if !match(t, code) {
		if n >= MaxCodeAttempts {
			return nil, ErrTooManyAttempts
		}
		return nil, ErrCodeInvalid
	}
	return t, nil
}

// findLink returns the live token behind a link token if its purpose is
// one of purposes, not yet used; otherwise ErrCodeInvalid.
func (s *Core) findLink(ctx context.Context, token string, purposes ...Purpose) (*OneTimeToken, error) {
	if s.Tokens == nil {
		return nil, errors.New("identity: Core.Tokens is not set")
	}
	k, err := s.tokenHasher()
	if err != nil {
		return nil, err
	}
	// A real token is 43 characters; anything far off is not worth a query.
	if token == "" || len(token) > 128 {
		return nil, ErrCodeInvalid
	}
	hash := k.link(token)
	t, err := s.Tokens.FindToken(ctx, hash)
	switch {
	case errors.Is(err, ErrNotFound):
		return nil, ErrCodeInvalid
	case err != nil:
		return nil, fmt.Errorf("identity: find link token: %w", err)
	}
	if !equalHash(hash, t.TokenHash) || !slices.Contains(purposes, t.Purpose) || !t.live(s.now()) {
		return nil, ErrCodeInvalid
	}
	return t, nil
}

// useToken marks t used; of concurrent uses exactly one gets nil, the
// others ErrCodeInvalid.
func (s *Core) useToken(ctx context.Context, t *OneTimeToken) error {
	err := s.Tokens.UseToken(ctx, t.ID, s.now())
	switch {
	case errors.Is(err, ErrNotFound):
		return ErrCodeInvalid
	case err != nil:
		return fmt.Errorf("identity: use %s token: %w", t.Purpose, err)
	}
	return nil
}

// linkURL is the absolute URL of a page under BaseURL carrying token.
func (s *Core) linkURL(path, token string) string {
	return strings.TrimRight(s.BaseURL, "/") + path + "?" + url.Values{"token": {token}}.Encode()
}

// humanDuration renders d for a message: "10 minutes", "1 hour".
func humanDuration(d time.Duration) string {
	unit, n := "minute", int((d+time.Minute-1)/time.Minute)
	if d >= time.Hour && d%time.Hour == 0 {
		unit, n = "hour", int(d/time.Hour)
	}
	if n == 1 {
		return "1 " + unit
	}
	return fmt.Sprintf("%d %ss", n, unit)
}
