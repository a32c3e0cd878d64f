package mfa_test

import (
	"errors"
	"testing"
	"time"

	"github.com/descope/virtualwebauthn"
	"gorm.io/gorm"

	"gatehouse/identity/mfa"
	"gatehouse/identity/sqlstore"
	"gatehouse/migrations/dbtest"
)

// theRP is the relying party the tests' Passkeys serve.
var theRP = virtualwebauthn.RelyingParty{ID: "id.example.test", Name: "Gatehouse", Origin: "https://id.example.test"}

// passkeyFixture is a Passkeys on a real database, one user and their
// software authenticator.
type passkeyFixture struct {
	*fixture
	pk   *mfa.Passkeys
	user mfa.PasskeyUser
	auth virtualwebauthn.Authenticator
}

func newPasskeyFixture(t *testing.T, db *gorm.DB) *passkeyFixture {
	t.Helper()
	f := newFixture(t, db)
	pk, err := mfa.NewPasskeys("https://id.example.test/", "Gatehouse", f.store, f.store, sqlstore.NewCeremonyStore(db))
	if err != nil {
		t.Fatal(err)
	}
	pk.Now = f.clock.Now
	return &passkeyFixture{fixture: f, pk: pk, user: mfa.PasskeyUser{ID: f.userID, Name: "ada", DisplayName: "Ada"},
		auth: virtualwebauthn.NewAuthenticatorWithOptions(virtualwebauthn.AuthenticatorOptions{UserHandle: []byte(f.userID)})}
}

// register adds a passkey through rp (the browser's view of the site) and
// returns the credential and the error of FinishRegistration.
func (p *passkeyFixture) register(t *testing.T, rp virtualwebauthn.RelyingParty) (virtualwebauthn.Credential, *mfa.Factor, error) {
	t.Helper()
	begun, err := p.pk.BeginRegistration(t.Context(), p.user, "browser-1")
	if err != nil {
		t.Fatal(err)
	}
	opts, err := virtualwebauthn.ParseAttestationOptions(string(begun.Options))
	if err != nil {
		t.Fatal(err)
	}
	cred := virtualwebauthn.NewCredential(virtualwebauthn.KeyTypeEC2)
	resp := virtualwebauthn.CreateAttestationResponse(rp, p.auth, cred, *opts)
	f, err := p.pk.FinishRegistration(t.Context(), p.user, begun.CeremonyID, "browser-1", " My  key ", []byte(resp))
	return cred, f, err
}

func (p *passkeyFixture) mustRegister(t *testing.T) virtualwebauthn.Credential {
	t.Helper()
	cred, _, err := p.register(t, theRP)
	if err != nil {
		t.Fatalf("FinishRegistration: %v", err)
	}
	return cred
}

// assertion begins an assertion for userID ("": passwordless) and returns
// its ceremony and the response cred gives through rp.
func (p *passkeyFixture) assertion(t *testing.T, userID string, rp virtualwebauthn.RelyingParty, auth virtualwebauthn.Authenticator, cred virtualwebauthn.Credential) (string, []byte) {
	t.Helper()
	begun, err := p.pk.BeginAssertion(t.Context(), userID, "browser-1")
	if err != nil {
		t.Fatal(err)
	}
	opts, err := virtualwebauthn.ParseAssertionOptions(string(begun.Options))
	if err != nil {
		t.Fatal(err)
	}
	return begun.CeremonyID, []byte(virtualwebauthn.CreateAssertionResponse(rp, auth, cred, *opts))
}

// TestPasskeyRegisterAndAssert: a passkey registered through the issuer's
// origin signs in as a second factor and without a username, and each
// use advances its counter and last use.
func TestPasskeyRegisterAndAssert(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, db *gorm.DB) {
		p := newPasskeyFixture(t, db)
		ctx := t.Context()
		cred, f, err := p.register(t, theRP)
		if err != nil {
			t.Fatalf("FinishRegistration: %v", err)
		}
		if f.Name != "My key" || !f.Confirmed() || f.WebAuthn.HardwareBound {
			t.Errorf("factor = name %q confirmed %v hardware-bound %v; want \"My key\", true, false", f.Name, f.Confirmed(), f.WebAuthn.HardwareBound)
		}
		cred.Counter = 1
		id, resp := p.assertion(t, p.userID, theRP, p.auth, cred)
		got, err := p.pk.FinishAssertion(ctx, p.userID, id, "browser-1", resp)
		if err != nil {
			t.Fatalf("second-factor FinishAssertion: %v", err)
		}
		if want := (mfa.Method{Kind: mfa.MethodPasskey, UserVerified: true}); got.Method() != want || got.UserID != p.userID {
			t.Errorf("assertion = %+v of %s; want %+v of %s", got.Method(), got.UserID, want, p.userID)
		}
		p.clock.Add(time.Minute)
		cred.Counter = 2
		id, resp = p.assertion(t, "", theRP, p.auth, cred)
		got, err = p.pk.FinishAssertion(ctx, "", id, "browser-1", resp)
		if err != nil {
			t.Fatalf("passwordless FinishAssertion: %v", err)
		}
		if got.UserID != p.userID || !got.UserVerified {
			t.Errorf("passwordless assertion user %q verified %v; want %q, true", got.UserID, got.UserVerified, p.userID)
		}
		stored, err := p.store.GetFactor(ctx, p.userID, f.ID)
		if err != nil {
			t.Fatal(err)
		}
		if stored.WebAuthn.SignCount != 2 || stored.LastUsedAt == nil || !stored.LastUsedAt.Equal(p.clock.Now()) {
			t.Errorf("stored sign count %d, last used %v; want 2, %v", stored.WebAuthn.SignCount, stored.LastUsedAt, p.clock.Now())
		}
	})
}

// TestPasskeyWrongSite: a response made for another origin (a phishing
// page relaying the challenge) or another RP ID is refused, at
// registration and at sign-in.
func TestPasskeyWrongSite(t *testing.T) {
	wrong := map[string]virtualwebauthn.RelyingParty{
		"origin": {ID: theRP.ID, Name: theRP.Name, Origin: "https://id.example.test.evil.example"},
		"rp id":  {ID: "evil.example", Name: theRP.Name, Origin: theRP.Origin},
	}
	dbtest.Each(t, func(t *testing.T, db *gorm.DB) {
		p := newPasskeyFixture(t, db)
		cred := p.mustRegister(t)
		for name, rp := range wrong {
			if _, _, err := p.register(t, rp); !errors.Is(err, mfa.ErrPasskeyRefused) {
				t.Errorf("registration with the wrong %s: error %v, want ErrPasskeyRefused", name, err)
			}
			for _, userID := range []string{p.userID, ""} {
				id, resp := p.assertion(t, userID, rp, p.auth, cred)
				if _, err := p.pk.FinishAssertion(t.Context(), userID, id, "browser-1", resp); !errors.Is(err, mfa.ErrPasskeyRefused) {
					t.Errorf("assertion (user %q) with the wrong %s: error %v, want ErrPasskeyRefused", userID, name, err)
				}
			}
		}
	})
}

// TestPasskeyCounterRegression: an assertion whose counter does not go
// above the stored one is refused and flags the passkey.
func TestPasskeyCounterRegression(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, db *gorm.DB) {
		p := newPasskeyFixture(t, db)
		ctx := t.Context()
		cred := p.mustRegister(t)
		cred.Counter = 5
		id, resp := p.assertion(t, p.userID, theRP, p.auth, cred)
		a, err := p.pk.FinishAssertion(ctx, p.userID, id, "browser-1", resp)
		if err != nil {
			t.Fatal(err)
		}
		if a.Factor.CounterWarningAt != nil {
			t.Fatal("a passkey was flagged before any regression")
		}
		for _, count := range []uint32{5, 3} {
			cred.Counter = count // a clone that lags behind the original
			id, resp = p.assertion(t, p.userID, theRP, p.auth, cred)
			if _, err := p.pk.FinishAssertion(ctx, p.userID, id, "browser-1", resp); !errors.Is(err, mfa.ErrCounterRegression) {
				t.Errorf("counter %d after 5: error %v, want ErrCounterRegression", count, err)
			}
		}
		stored, err := p.store.GetFactor(ctx, p.userID, a.Factor.ID)
		if err != nil {
			t.Fatal(err)
		}
		if stored.CounterWarningAt == nil || stored.WebAuthn.SignCount != 5 {
			t.Errorf("after the regression: warning %v, sign count %d; want a warning and 5", stored.CounterWarningAt, stored.WebAuthn.SignCount)
		}
	})
}

// TestPasskeyChallengeOnce: a challenge is used once, in the browser that
// began it, within five minutes.
func TestPasskeyChallengeOnce(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, db *gorm.DB) {
		p := newPasskeyFixture(t, db)
		ctx := t.Context()
		cred := p.mustRegister(t)
		cred.Counter = 1
		id, resp := p.assertion(t, p.userID, theRP, p.auth, cred)
		if _, err := p.pk.FinishAssertion(ctx, p.userID, id, "browser-1", resp); err != nil {
			t.Fatal(err)
		}
		if _, err := p.pk.FinishAssertion(ctx, p.userID, id, "browser-1", resp); !errors.Is(err, mfa.ErrPasskeyRefused) {
			t.Errorf("replayed assertion: error %v, want ErrPasskeyRefused", err)
		}
		cred.Counter = 2
		id, resp = p.assertion(t, p.userID, theRP, p.auth, cred)
		if _, err := p.pk.FinishAssertion(ctx, p.userID, id, "browser-2", resp); !errors.Is(err, mfa.ErrPasskeyRefused) {
			t.Errorf("assertion finished in another browser: error %v, want ErrPasskeyRefused", err)
		}
		cred.Counter = 3
		id, resp = p.assertion(t, p.userID, theRP, p.auth, cred)
		p.clock.Add(mfa.CeremonyLifetime)
		if _, err := p.pk.FinishAssertion(ctx, p.userID, id, "browser-1", resp); !errors.Is(err, mfa.ErrPasskeyRefused) {
			t.Errorf("assertion after five minutes: error %v, want ErrPasskeyRefused", err)
		}
		// A ceremony begun as a second factor does not finish as a
		// passwordless sign-in, nor for another user.
		other := mustCreateUser(t, db, "bob")
		for _, userID := range []string{"", other} {
			cred.Counter++
			id, resp = p.assertion(t, p.userID, theRP, p.auth, cred)
			if _, err := p.pk.FinishAssertion(ctx, userID, id, "browser-1", resp); !errors.Is(err, mfa.ErrPasskeyRefused) {
				t.Errorf("second-factor ceremony finished for user %q: error %v, want ErrPasskeyRefused", userID, err)
			}
		}
	})
}

// TestPasskeyPasswordlessRules: a passwordless sign-in needs user
// verification, and a user handle naming someone else than the passkey's
// owner is refused.
func TestPasskeyPasswordlessRules(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, db *gorm.DB) {
		p := newPasskeyFixture(t, db)
		ctx := t.Context()
		cred := p.mustRegister(t)
		noUV := p.auth
		noUV.Options.UserNotVerified = true
		cred.Counter = 1
		id, resp := p.assertion(t, "", theRP, noUV, cred)
		if _, err := p.pk.FinishAssertion(ctx, "", id, "browser-1", resp); !errors.Is(err, mfa.ErrPasskeyRefused) {
			t.Errorf("passwordless without user verification: error %v, want ErrPasskeyRefused", err)
		}
		other := mustCreateUser(t, db, "bob")
		forged := p.auth
		forged.Options.UserHandle = []byte(other)
		cred.Counter = 2
		id, resp = p.assertion(t, "", theRP, forged, cred)
		if _, err := p.pk.FinishAssertion(ctx, "", id, "browser-1", resp); !errors.Is(err, mfa.ErrPasskeyRefused) {
			t.Errorf("user handle of another user: error %v, want ErrPasskeyRefused", err)
		}
		if _, err := p.pk.BeginAssertion(ctx, other, "browser-1"); !errors.Is(err, mfa.ErrNotFound) {
			t.Errorf("second factor for a user without a passkey: error %v, want ErrNotFound", err)
		}
	})
}

// TestPasskeysAvailable: an IP address is no RP ID.
func TestPasskeysAvailable(t *testing.T) {
	for issuer, want := range map[string]bool{
		"https://id.example.test": true, "http://localhost:8080": true,
		"http://127.0.0.1:8080": false, "https://[::1]:8443/": false,
	} {
		pk, err := mfa.NewPasskeys(issuer, "Gatehouse", nil, nil, nil)
		if err != nil {
			t.Fatal(err)
		}
		if got := pk.Available(); got != want {
			t.Errorf("Available() for %s = %v, want %v", issuer, got, want)
		}
	}
}
