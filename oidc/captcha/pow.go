package captcha

import (
	"context"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"math/big"
	"net/http"
	"strconv"
	"strings"
	"time"
)

// Defaults for the zero values of PoW's fields.
const (
	// DefaultMaxNumber takes a browser well under a second on average.
	DefaultMaxNumber = 100_000
	// DefaultTTL is how long a challenge may be solved and submitted.
	DefaultTTL = 10 * time.Minute

	// PoWField is the form field that carries the solution.
	PoWField = "altcha"
	// Algorithm is the only hash ALTCHA challenges use here.
	Algorithm = "SHA-256"

	saltRandomBytes = 12
)

// SpentStore records challenges that have been used, so that each solution
// is accepted once.
type SpentStore interface {
	// Spend records challenge as used until expiresAt. It returns true the
	// first time it sees challenge and false every time after, also when
	// called concurrently.
	Spend(ctx context.Context, challenge string, expiresAt time.Time) (bool, error)
}

// PoW is the built-in proof-of-work Verifier (ALTCHA protocol).
type PoW struct {
	// Key signs challenges (HMAC-SHA256); at least 32 random bytes, shared
	// by all instances behind one site.
	Key []byte
	// MaxNumber is the largest secret number; the browser does on average
	// MaxNumber/2 hashes. Zero means DefaultMaxNumber.
	MaxNumber int64
	// TTL is how long a challenge stays valid. Zero means DefaultTTL.
	TTL time.Duration
	// Spent makes solutions single-use.
	Spent SpentStore
	// Now is the clock; nil means time.Now.
	Now func() time.Time
}

var _ Verifier = (*PoW)(nil)

// Challenge is what the widget fetches and solves.
type Challenge struct {
	Algorithm string `json:"algorithm"`
	Challenge string `json:"challenge"`
	MaxNumber int64  `json:"maxnumber"`
	Salt      string `json:"salt"`
	Signature string `json:"signature"`
}

// Payload is the decoded content of the "altcha" form field.
type Payload struct {
	Algorithm string `json:"algorithm"`
	Challenge string `json:"challenge"`
	Number    int64  `json:"number"`
	Salt      string `json:"salt"`
	Signature string `json:"signature"`
}

// Encode returns p as the widget submits it: base64 of its JSON.
func (p Payload) Encode() string {
	b, _ := json.Marshal(p) // a struct of strings and an int cannot fail
	return base64.StdEncoding.EncodeToString(b)
}

func (p *PoW) now() time.Time {
	if p.Now != nil {
		return p.Now()
	}
	return time.Now()
}

func (p *PoW) maxNumber() int64 {
	if p.MaxNumber > 0 {
		return p.MaxNumber
	}
	return DefaultMaxNumber
}

func (p *PoW) ttl() time.Duration {
	if p.TTL > 0 {
		return p.TTL
	}
	return DefaultTTL
}

// NewChallenge returns a fresh signed challenge.
func (p *PoW) NewChallenge() (Challenge, error) {
	if len(p.Key) == 0 {
		return Challenge{}, errors.New("captcha: PoW has no key")
	}
	rnd := make([]byte, saltRandomBytes)
	if _, err := rand.Read(rnd); err != nil {
		return Challenge{}, fmt.Errorf("captcha: salt: %w", err)
	}
	max := p.maxNumber()
	n, err := rand.Int(rand.Reader, big.NewInt(max+1))
	if err != nil {
		return Challenge{}, fmt.Errorf("captcha: number: %w", err)
	}
	expires := p.now().Add(p.ttl()).Unix()
	// ALTCHA puts parameters in the salt as a query string. The final "&"
	// stops "salt splicing": moving leading digits of the number into the
	// salt would otherwise lengthen expires while the hash stays the same.
	salt := hex.EncodeToString(rnd) + "?expires=" + strconv.FormatInt(expires, 10) + "&"
	ch := hashHex(salt, n.Int64())
	return Challenge{
		Algorithm: Algorithm,
		Challenge: ch,
		MaxNumber: max,
		Salt:      salt,
		Signature: p.sign(ch),
	}, nil
}

// Verify checks the "altcha" field of r.Form and spends its challenge.
func (p *PoW) Verify(ctx context.Context, r *http.Request) error {
	v, err := formValue(r, PoWField)
	if err != nil {
		return err
	}
	return p.VerifyPayload(ctx, v)
}

// VerifyPayload checks one encoded solution and spends its challenge.
func (p *PoW) VerifyPayload(ctx context.Context, encoded string) error {
	if len(p.Key) == 0 || p.Spent == nil {
		return errors.New("captcha: PoW needs a key and a spent store")
	}
	if encoded == "" {
		return fmt.Errorf("captcha: no solution: %w", ErrFailed)
	}
	if len(encoded) > 4096 {
		return fmt.Errorf("captcha: solution too long: %w", ErrFailed)
	}
	raw, err := base64.StdEncoding.DecodeString(encoded)
	if err != nil {
		return fmt.Errorf("captcha: solution not base64: %w", ErrFailed)
	}
	var pl Payload
	if err := json.Unmarshal(raw, &pl); err != nil {
		return fmt.Errorf("captcha: solution not JSON: %w", ErrFailed)
	}
	if pl.Algorithm != Algorithm {
		return fmt.Errorf("captcha: algorithm %q: %w", pl.Algorithm, ErrFailed)
	}
	want := p.sign(pl.Challenge)
	if !hmac.Equal([]byte(want), []byte(strings.ToLower(pl.Signature))) {
		return fmt.Errorf("captcha: bad signature: %w", ErrFailed)
	}
	expires, ok := parseSalt(pl.Salt)
	if !ok {
		return fmt.Errorf("captcha: malformed salt: %w", ErrFailed)
	}
	if !p.now().Before(expires) {
		return fmt.Errorf("captcha: challenge expired: %w", ErrFailed)
	}
	if pl.Number < 0 || pl.Number > p.maxNumber() {
		return fmt.Errorf("captcha: number out of range: %w", ErrFailed)
	}
	if !hmac.Equal([]byte(hashHex(pl.Salt, pl.Number)), []byte(pl.Challenge)) {
		return fmt.Errorf("captcha: wrong number: %w", ErrFailed)
	}
	// The signature covers the challenge, and the challenge the salt, so
	// the challenge names this solution; spend it last, once it is valid.
	first, err := p.Spent.Spend(ctx, pl.Challenge, expires)
	if err != nil {
		return fmt.Errorf("captcha: spend challenge: %w", err)
	}
	if !first {
		return fmt.Errorf("captcha: challenge already used: %w", ErrFailed)
	}
	return nil
}

func (p *PoW) sign(challenge string) string {
	m := hmac.New(sha256.New, p.Key)
	m.Write([]byte(challenge))
	return hex.EncodeToString(m.Sum(nil))
}

func hashHex(salt string, number int64) string {
	sum := sha256.Sum256([]byte(salt + strconv.FormatInt(number, 10)))
	return hex.EncodeToString(sum[:])
}

// parseSalt accepts exactly the salts NewChallenge makes,
// "<hex>?expires=<unix>&", and returns the expiry.
func parseSalt(salt string) (time.Time, bool) {
	rnd, rest, ok := strings.Cut(salt, "?expires=")
	if !ok || len(rnd) != 2*saltRandomBytes {
		return time.Time{}, false
	}
	if _, err := hex.DecodeString(rnd); err != nil {
		return time.Time{}, false
	}
	digits, ok := strings.CutSuffix(rest, "&")
	if !ok || digits == "" || len(digits) > 12 {
		return time.Time{}, false
	}
	for _, c := range digits {
		if c < '0' || c > '9' {
			return time.Time{}, false
		}
	}
	unix, err := strconv.ParseInt(digits, 10, 64)
	if err != nil {
		return time.Time{}, false
	}
	return time.Unix(unix, 0).UTC(), true
}
