// Package captchatest holds the conformance suite every captcha.SpentStore
// runs, driven through captcha.PoW, and a brute-force solver for tests.
package captchatest

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"gatehouse/oidc/captcha"
)

// MustSolve finds the number of ch by brute force, as the browser does.
func MustSolve(t testing.TB, ch captcha.Challenge) captcha.Payload {
	t.Helper()
	for n := int64(0); n <= ch.MaxNumber; n++ {
		sum := sha256.Sum256([]byte(ch.Salt + strconv.FormatInt(n, 10)))
		if hex.EncodeToString(sum[:]) == ch.Challenge {
			return captcha.Payload{Algorithm: ch.Algorithm, Challenge: ch.Challenge, Number: n, Salt: ch.Salt, Signature: ch.Signature}
		}
	}
	t.Fatalf("captchatest: no number in [0, %d] solves %+v", ch.MaxNumber, ch)
	return captcha.Payload{}
}

// FormRequest returns a POST request whose parsed form has field=value.
func FormRequest(field, value string) *http.Request {
	r := httptest.NewRequest(http.MethodPost, "/login", strings.NewReader(url.Values{field: {value}}.Encode()))
	r.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	return r
}

// Clock is a settable clock for PoW.Now.
type Clock struct {
	mu sync.Mutex
	t  time.Time
}

// Now returns the clock's time.
func (c *Clock) Now() time.Time { c.mu.Lock(); defer c.mu.Unlock(); return c.t }

// Add moves the clock forward by d.
func (c *Clock) Add(d time.Duration) { c.mu.Lock(); defer c.mu.Unlock(); c.t = c.t.Add(d) }

// RunSpentStoreTests runs the PoW flow against the stores newStore makes,
// each test with an empty one.
func RunSpentStoreTests(t *testing.T, newStore func(t *testing.T) captcha.SpentStore) {
	newPoW := func(t *testing.T) (*captcha.PoW, *Clock) {
		clock := &Clock{t: time.Date(2030, 1, 2, 3, 4, 5, 0, time.UTC)}
		return &captcha.PoW{
			Key:       []byte("0123456789abcdef0123456789abcdef"),
			MaxNumber: 500,
			TTL:       5 * time.Minute,
			Spent:     newStore(t),
			Now:       clock.Now,
		}, clock
	}
	solve := func(t *testing.T, p *captcha.PoW) captcha.Payload {
		t.Helper()
		ch, err := p.NewChallenge()
		if err != nil {
			t.Fatalf("NewChallenge: %v", err)
		}
		return MustSolve(t, ch)
	}

	tests := []struct {
		name    string
		prepare func(p captcha.Payload, clock *Clock) string // returns the field value
		wantErr error
	}{
		{name: "round trip", prepare: func(p captcha.Payload, _ *Clock) string { return p.Encode() }},
		{name: "just before expiry", prepare: func(p captcha.Payload, c *Clock) string {
			c.Add(5*time.Minute - time.Second)
			return p.Encode()
		}},
		{name: "missing", prepare: func(captcha.Payload, *Clock) string { return "" }, wantErr: captcha.ErrFailed},
		{name: "not base64", prepare: func(captcha.Payload, *Clock) string { return "%%%" }, wantErr: captcha.ErrFailed},
		{name: "wrong number", prepare: func(p captcha.Payload, _ *Clock) string {
			p.Number = (p.Number + 1) % 501
			return p.Encode()
		}, wantErr: captcha.ErrFailed},
		{name: "tampered signature", prepare: func(p captcha.Payload, _ *Clock) string {
			b := []byte(p.Signature)
			b[0] = "01"[b[0]&1^1]
			p.Signature = string(b)
			return p.Encode()
		}, wantErr: captcha.ErrFailed},
		{name: "tampered salt", prepare: func(p captcha.Payload, _ *Clock) string {
			p.Salt = strings.Replace(p.Salt, "?expires=", "?expires=9", 1)
			return p.Encode()
		}, wantErr: captcha.ErrFailed},
		{name: "spliced salt", prepare: func(p captcha.Payload, _ *Clock) string {
			// Moving digits of the number into the salt keeps the hash.
			n := strconv.FormatInt(p.Number+1000, 10) // at least 4 digits
			p.Salt += n[:1]
			p.Number, _ = strconv.ParseInt(n[1:], 10, 64)
			return p.Encode()
		}, wantErr: captcha.ErrFailed},
		{name: "wrong algorithm", prepare: func(p captcha.Payload, _ *Clock) string {
			p.Algorithm = "SHA-1"
			return p.Encode()
		}, wantErr: captcha.ErrFailed},
		{name: "expired", prepare: func(p captcha.Payload, c *Clock) string {
			c.Add(5 * time.Minute)
			return p.Encode()
		}, wantErr: captcha.ErrFailed},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			p, clock := newPoW(t)
			v := tc.prepare(solve(t, p), clock)
			err := p.Verify(t.Context(), FormRequest(captcha.PoWField, v))
			if !errors.Is(err, tc.wantErr) || (tc.wantErr == nil) != (err == nil) {
				t.Errorf("Verify() = %v, want %v", err, tc.wantErr)
			}
		})
	}

	t.Run("replay", func(t *testing.T) {
		p, _ := newPoW(t)
		v := solve(t, p).Encode()
		if err := p.Verify(t.Context(), FormRequest(captcha.PoWField, v)); err != nil {
			t.Fatalf("first Verify() = %v, want nil", err)
		}
		if err := p.Verify(t.Context(), FormRequest(captcha.PoWField, v)); !errors.Is(err, captcha.ErrFailed) {
			t.Errorf("second Verify() = %v, want ErrFailed", err)
		}
		// A different, fresh solution still passes.
		if err := p.Verify(t.Context(), FormRequest(captcha.PoWField, solve(t, p).Encode())); err != nil {
			t.Errorf("Verify(new solution) = %v, want nil", err)
		}
	})

	t.Run("concurrent double submit", func(t *testing.T) {
		p, _ := newPoW(t)
		v := solve(t, p).Encode()
		const n = 8
		errs := make([]error, n)
		var wg sync.WaitGroup
		for i := range n {
			wg.Go(func() { errs[i] = p.Verify(context.Background(), FormRequest(captcha.PoWField, v)) })
		}
		wg.Wait()
		ok := 0
		for i, err := range errs {
			switch {
			case err == nil:
				ok++
			case !errors.Is(err, captcha.ErrFailed):
				t.Errorf("Verify #%d = %v, want nil or ErrFailed", i, err)
			}
		}
		if ok != 1 {
			t.Errorf("%d of %d concurrent Verify calls succeeded, want 1", ok, n)
		}
	})
}
