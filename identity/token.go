package identity

import (
	"context"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"math/big"
	"time"
)

// Errors of one-time codes and links. ErrCodeInvalid stands for a wrong,
// expired, used or replaced code or link alike, so an answer never tells
// which of them it was.
var (
	ErrCodeInvalid     = errors.New("identity: code or link is not valid")
	ErrTooManyAttempts = errors.New("identity: too many wrong codes")
)

// CooldownError refuses to send another code or link soon after the last
// one, so that nobody can flood a mailbox or phone.
type CooldownError struct {
	// RetryAfter is how long until a new code may be sent.
	RetryAfter time.Duration
}

func (e *CooldownError) Error() string {
	return fmt.Sprintf("identity: code sent moments ago; retry in %s", e.RetryAfter.Round(time.Second))
}

// Purpose says what a one-time token proves. A user holds at most one
// token per purpose: a new one replaces the last.
type Purpose string

// The purposes.
const (
	// PurposeVerifyEmail proves the user's current address (Target).
	PurposeVerifyEmail Purpose = "verify_email"
	// PurposeChangeEmail proves a new address (Target) before it replaces
	// the current one.
	PurposeChangeEmail Purpose = "change_email"
	// PurposeVerifyPhone proves a phone number (Target, E.164).
	PurposeVerifyPhone Purpose = "verify_phone"
	// PurposePasswordReset lets the holder of the link set a new
	// password; Target is the address it was sent to.
	PurposePasswordReset Purpose = "password_reset"
	// PurposeUnlock ends a brute-force lockout; Target is the address the
	// link was sent to.
	PurposeUnlock Purpose = "unlock"
	// PurposeInvite lets a person an administrator invited choose the
	// first password of the account; Target is the address it was sent
	// to, which following the link verifies.
	PurposeInvite Purpose = "invite"
)

// MaxCodeAttempts is how many codes may be tried against one token: the
// attempt that reaches it voids the token, its link included. With 10^6
// codes that leaves a guesser a 1 in 200,000 chance per token.
const MaxCodeAttempts = 5

// OneTimeToken is a stored code and/or link. Only keyed hashes of the
// secrets are kept (see Core.TokenKey), so the table is of no use
// to someone who reads it.
type OneTimeToken struct {
	ID        string // UUID
	UserID    string
	Purpose   Purpose
	Target    string // what the token confirms (address, number); may be empty
	CodeHash  string // hex HMAC of the 6-digit code; empty when there is none
	TokenHash string // hex HMAC of the link token; empty when there is none
	Attempts  int    // codes tried so far
	ExpiresAt time.Time
	UsedAt    *time.Time
	CreatedAt time.Time
}

// live reports whether t can still be used at now.
func (t *OneTimeToken) live(now time.Time) bool {
	return t.UsedAt == nil && now.Before(t.ExpiresAt) && t.Attempts < MaxCodeAttempts
}

// TokenStore persists one-time tokens. Every write that decides whether a
// token may be used is a single conditional statement, so concurrent
// requests cannot both use one token or exceed the attempt limit.
type TokenStore interface {
	// PutToken stores t as the user's one token for t.Purpose, replacing
	// the previous one, unless that one is unused and was created after
	// notBefore (the cooldown): then nothing is written and PutToken
	// returns false. The check and the write are one statement.
	PutToken(ctx context.Context, t *OneTimeToken, notBefore time.Time) (bool, error)
	// GetToken returns the user's token for purpose, used or not, or
	// ErrNotFound.
	GetToken(ctx context.Context, userID string, purpose Purpose) (*OneTimeToken, error)
	// FindToken returns the token whose TokenHash is tokenHash, or
	// ErrNotFound.
	FindToken(ctx context.Context, tokenHash string) (*OneTimeToken, error)
	// CountAttempt adds one to the attempts of the token with id if it is
	// unused, not expired at now and has fewer than max attempts, and
	// returns the new count; otherwise it returns ErrNotFound.
	CountAttempt(ctx context.Context, id string, now time.Time, max int) (int, error)
	// UseToken marks the token with id used at now if it is unused and not
	// expired at now; otherwise it returns ErrNotFound. Of several
	// concurrent calls for one token exactly one succeeds.
	UseToken(ctx context.Context, id string, now time.Time) error
	// DeleteToken removes the token with id; a missing one is no error.
	DeleteToken(ctx context.Context, id string) error
	// DeleteExpiredTokens removes the tokens that expired before t and
	// returns how many.
	DeleteExpiredTokens(ctx context.Context, before time.Time) (int64, error)
}

// minTokenKeyLength is the shortest TokenKey accepted: the key is all that
// stands between a copy of the table and 10^6 guesses per code.
const minTokenKeyLength = 32

// newCode returns a uniformly random 6-digit code.
func newCode() (string, error) {
	n, err := rand.Int(rand.Reader, big.NewInt(1_000_000))
	if err != nil {
		return "", fmt.Errorf("identity: new code: %w", err)
	}
	return fmt.Sprintf("%06d", n.Int64()), nil
}

// newLinkToken returns 256 random bits, base64url-encoded without padding.
func newLinkToken() string {
	b := make([]byte, 32)
	rand.Read(b) // never fails (crypto/rand documents it)
	return base64.RawURLEncoding.EncodeToString(b)
}

// tokenHasher computes the keyed hashes stored for codes and link tokens.
type tokenHasher []byte

func (s *Core) tokenHasher() (tokenHasher, error) {
	if len(s.TokenKey) < minTokenKeyLength {
		return nil, fmt.Errorf("identity: Core.TokenKey must hold at least %d bytes", minTokenKeyLength)
	}
	return tokenHasher(s.TokenKey), nil
}

// code hashes a code bound to its user and purpose, so the same 6 digits
// never hash alike for two tokens that could be confused.
func (k tokenHasher) code(userID string, p Purpose, code string) string {
	return k.sum("code", userID, string(p), code)
}

// boundCode hashes a code bound, besides its user and purpose, to bind
// (a sign-in code's flow and address).
func (k tokenHasher) boundCode(userID string, p Purpose, bind, code string) string {
	return k.sum("bound code", userID, string(p), bind, code)
}

// link hashes a link token. Links are found by their hash, so the hash
// cannot depend on the user.
func (k tokenHasher) link(token string) string { return k.sum("link", token) }

func (k tokenHasher) sum(parts ...string) string {
	m := hmac.New(sha256.New, k)
	for _, p := range parts {
		m.Write([]byte(p))
		m.Write([]byte{0})
	}
	return hex.EncodeToString(m.Sum(nil))
}

// equalHash compares two hex hashes in constant time.
func equalHash(a, b string) bool {
	return a != "" && hmac.Equal([]byte(a), []byte(b))
}
