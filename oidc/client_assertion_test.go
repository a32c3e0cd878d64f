package oidc

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"testing"
	"time"

	josev4 "github.com/go-jose/go-jose/v4"
	josejwt "github.com/go-jose/go-jose/v4/jwt"
	"github.com/ory/fosite"
)

func TestCheckAssertion(t *testing.T) {
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	now := time.Date(2030, 1, 2, 3, 4, 5, 0, time.UTC)
	at := func(d time.Duration) *josejwt.NumericDate { return josejwt.NewNumericDate(now.Add(d)) }
	sign := func(typ string, c josejwt.Claims) string {
		opts := &josev4.SignerOptions{}
		if typ != "" {
			opts = opts.WithType(josev4.ContentType(typ))
		}
		s, err := josev4.NewSigner(josev4.SigningKey{Algorithm: josev4.ES256, Key: key}, opts)
		if err != nil {
			t.Fatal(err)
		}
		raw, err := josejwt.Signed(s).Claims(c).Serialize()
		if err != nil {
			t.Fatal(err)
		}
		return raw
	}
	for _, tc := range []struct {
		name   string
		raw    string
		wantOK bool
	}{
		{"valid", sign("", josejwt.Claims{IssuedAt: at(0), Expiry: at(time.Minute)}), true},
		{"typ JWT", sign("JWT", josejwt.Claims{IssuedAt: at(0), Expiry: at(time.Minute)}), true},
		{"typ client-authentication+jwt", sign("client-authentication+jwt", josejwt.Claims{Expiry: at(time.Minute)}), true},
		{"exactly the longest lifetime", sign("", josejwt.Claims{IssuedAt: at(-time.Minute), Expiry: at(MaxAssertionLifetime - time.Minute)}), true},
		{"typ logout+jwt", sign("logout+jwt", josejwt.Claims{Expiry: at(time.Minute)}), false},
		{"typ at+jwt", sign("at+jwt", josejwt.Claims{Expiry: at(time.Minute)}), false},
		{"no exp", sign("", josejwt.Claims{IssuedAt: at(0)}), false},
		{"expires now", sign("", josejwt.Claims{Expiry: at(0)}), false},
		{"expired", sign("", josejwt.Claims{Expiry: at(-time.Second)}), false},
		{"nbf in the future", sign("", josejwt.Claims{NotBefore: at(time.Second), Expiry: at(time.Minute)}), false},
		{"iat in the future", sign("", josejwt.Claims{IssuedAt: at(time.Second), Expiry: at(time.Minute)}), false},
		{"lifetime too long", sign("", josejwt.Claims{IssuedAt: at(0), Expiry: at(MaxAssertionLifetime + time.Second)}), false},
		{"lifetime too long without iat", sign("", josejwt.Claims{Expiry: at(MaxAssertionLifetime + time.Second)}), false},
		{"not a JWT", "not.a.jwt", false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			err := checkAssertion(tc.raw, now)
			if tc.wantOK {
				if err != nil {
					t.Errorf("checkAssertion = %v, want nil", err)
				}
				return
			}
			if rfc := fosite.ErrorToRFC6749Error(err); err == nil || rfc.ErrorField != "invalid_client" {
				t.Errorf("checkAssertion = %v, want invalid_client", err)
			}
		})
	}
}
