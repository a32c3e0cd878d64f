package mfa

import (
	"encoding/base32"
	"testing"
	"time"

	"github.com/pquerna/otp"
	"github.com/pquerna/otp/totp"
)

// rfc6238Secret is the SHA-1 key of RFC 6238 Appendix B, base32-encoded.
var rfc6238Secret = base32.StdEncoding.WithPadding(base32.NoPadding).EncodeToString([]byte("12345678901234567890"))

// rfc6238Vectors are the SHA-1 rows of RFC 6238 Appendix B.
var rfc6238Vectors = []struct {
	unix int64
	code string
}{
	{59, "94287082"},
	{1111111109, "07081804"},
	{1111111111, "14050471"},
	{1234567890, "89005924"},
	{2000000000, "69279037"},
	{20000000000, "65353130"},
}

// TestRFC6238Vectors: the library computes the published 8-digit codes,
// and matchStep, which works with 6 digits (the last six of the same
// truncated value, RFC 4226 §5.3), finds each at its own time step.
func TestRFC6238Vectors(t *testing.T) {
	opts8 := totp.ValidateOpts{Period: 30, Digits: otp.DigitsEight, Algorithm: otp.AlgorithmSHA1}
	for _, v := range rfc6238Vectors {
		at := time.Unix(v.unix, 0).UTC()
		got, err := totp.GenerateCodeCustom(rfc6238Secret, at, opts8)
		if err != nil {
			t.Fatalf("GenerateCodeCustom(%d): %v", v.unix, err)
		}
		if got != v.code {
			t.Errorf("GenerateCodeCustom(%d) = %s, want %s", v.unix, got, v.code)
		}
		if ok, err := totp.ValidateCustom(v.code, rfc6238Secret, at, opts8); !ok || err != nil {
			t.Errorf("ValidateCustom(%s, %d) = %v, %v; want true", v.code, v.unix, ok, err)
		}
		step, ok := matchStep(rfc6238Secret, v.code[2:], at)
		if !ok || step != v.unix/30 {
			t.Errorf("matchStep(%s, %d) = %d, %v; want %d, true", v.code[2:], v.unix, step, ok, v.unix/30)
		}
	}
}

// TestSkewWindow: a code is accepted one step before and after its own
// and at no other distance.
func TestSkewWindow(t *testing.T) {
	const at = 1111111111 // mid-step: 1111111111 % 30 = 1
	code := "050471"      // the 6-digit code of step 37037037
	own := int64(at / 30)
	for _, tc := range []struct {
		name   string
		offset int64 // steps between the code's step and the clock's
		ok     bool
	}{
		{"t-2", -2, false},
		{"t-1", -1, true},
		{"t", 0, true},
		{"t+1", 1, true},
		{"t+2", 2, false},
		{"t+3", 3, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			// The clock is offset steps away from the code's step.
			now := time.Unix(at+tc.offset*30, 0)
			step, ok := matchStep(rfc6238Secret, code, now)
			if ok != tc.ok {
				t.Fatalf("matchStep at %+d steps = %v, want %v", tc.offset, ok, tc.ok)
			}
			if ok && step != own {
				t.Errorf("matchStep step = %d, want %d", step, own)
			}
		})
	}
}
