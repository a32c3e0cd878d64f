package mfa

import (
	"bytes"
	"context"
	"errors"
	"fmt"

	"github.com/go-webauthn/webauthn/protocol"
	"github.com/go-webauthn/webauthn/webauthn"
)

// Assertion is a verified passkey assertion.
type Assertion struct {
	UserID string
	Factor *Factor
	// UserVerified: the authenticator verified the user (the UV flag).
	UserVerified bool
}

// Method is the sign-in method the assertion proves.
func (a *Assertion) Method() Method {
	return Method{Kind: MethodPasskey, UserVerified: a.UserVerified,
		HardwareBound: a.Factor.WebAuthn != nil && a.Factor.WebAuthn.HardwareBound}
}

// BeginAssertion starts a passkey sign-in bound to binding. With a userID
// it is a second factor: only that user's passkeys are allowed and user
// verification is preferred. Without, it is a passwordless first factor:
// any discoverable passkey of this site may answer, and it must verify
// the user (PIN or biometric), which makes it two factors in one. A user
// without a passkey gets ErrNotFound.
func (p *Passkeys) BeginAssertion(ctx context.Context, userID, binding string) (*Begun, error) {
	if userID == "" {
		rp, err := p.relyingParty(protocol.VerificationRequired)
		if err != nil {
			return nil, err
		}
		assertion, session, err := rp.BeginDiscoverableLogin(webauthn.WithUserVerification(protocol.VerificationRequired))
		if err != nil {
			return nil, fmt.Errorf("mfa: begin passkey sign-in: %w", err)
		}
		return p.begin(ctx, PurposePasswordless, "", binding, session, assertion.Response)
	}
	rp, err := p.relyingParty(protocol.VerificationPreferred)
	if err != nil {
		return nil, err
	}
	user, err := p.userWithPasskeys(ctx, userID)
	if err != nil {
		return nil, err
	}
	if len(user.creds) == 0 {
		return nil, fmt.Errorf("mfa: begin passkey sign-in: %w", ErrNotFound)
	}
	assertion, session, err := rp.BeginLogin(user, webauthn.WithUserVerification(protocol.VerificationPreferred))
	if err != nil {
		return nil, fmt.Errorf("mfa: begin passkey sign-in: %w", err)
	}
	return p.begin(ctx, PurposeSecondFactor, userID, binding, session, assertion.Response)
}

// userWithPasskeys is the user as the library sees them for an assertion.
func (p *Passkeys) userWithPasskeys(ctx context.Context, userID string) (*passkeyUser, error) {
	keys, err := p.passkeysOf(ctx, userID)
	if err != nil {
		return nil, err
	}
	u := &passkeyUser{PasskeyUser: PasskeyUser{ID: userID}}
	for i := range keys {
		u.creds = append(u.creds, credentialOf(&keys[i]))
	}
	return u, nil
}

// FinishAssertion verifies the browser's response to the assertion
// ceremony begun by BeginAssertion with the same userID ("" for a
// passwordless sign-in) and records the passkey's use. It returns
// ErrPasskeyRefused for anything that does not verify, and
// ErrCounterRegression, after flagging the factor, when the signature
// counter did not advance.
func (p *Passkeys) FinishAssertion(ctx context.Context, userID, ceremonyID, binding string, response []byte) (*Assertion, error) {
	purpose, uv := PurposeSecondFactor, protocol.VerificationPreferred
	if userID == "" {
		purpose, uv = PurposePasswordless, protocol.VerificationRequired
	}
	rp, err := p.relyingParty(uv)
	if err != nil {
		return nil, err
	}
	session, err := p.take(ctx, ceremonyID, binding, purpose, userID)
	if err != nil {
		return nil, err
	}
	parsed, err := protocol.ParseCredentialRequestResponseBytes(response)
	if err != nil {
		return nil, fmt.Errorf("%w: %v", ErrPasskeyRefused, err)
	}
	var cred *webauthn.Credential
	if userID == "" {
		var owner webauthn.User
		owner, cred, err = rp.ValidatePasskeyLogin(p.discover(ctx), *session, parsed)
		if err == nil {
			userID = owner.(*passkeyUser).ID
		}
	} else {
		var user *passkeyUser
		if user, err = p.userWithPasskeys(ctx, userID); err != nil {
			return nil, err
		}
		cred, err = rp.ValidateLogin(user, *session, parsed)
	}
	if err != nil {
		return nil, fmt.Errorf("%w: %v", ErrPasskeyRefused, err)
	}
	return p.accept(ctx, userID, cred, parsed.Response.AuthenticatorData.Flags.HasUserVerified())
}

// discover finds the owner of a discoverable credential: the user whose
// passkey has the credential ID, when the user handle names that very
// user. A handle of another user is refused, not looked up.
func (p *Passkeys) discover(ctx context.Context) webauthn.DiscoverableUserHandler {
	return func(rawID, userHandle []byte) (webauthn.User, error) {
		f, err := p.Credentials.FactorByCredentialID(ctx, rawID)
		if err != nil {
			return nil, err
		}
		if !f.Confirmed() || !bytes.Equal(userHandle, []byte(f.UserID)) {
			return nil, ErrNotFound
		}
		return p.userWithPasskeys(ctx, f.UserID)
	}
}

// accept records the verified assertion of cred: the counter must go up
// (or stay 0 for an authenticator without one), decided by the store's
// conditional UPDATE so that two racing assertions with one count do not
// both pass.
func (p *Passkeys) accept(ctx context.Context, userID string, cred *webauthn.Credential, uv bool) (*Assertion, error) {
	keys, err := p.passkeysOf(ctx, userID)
	if err != nil {
		return nil, err
	}
	var f *Factor
	for i := range keys {
		if bytes.Equal(keys[i].WebAuthn.ID, cred.ID) {
			f = &keys[i]
		}
	}
	if f == nil {
		return nil, fmt.Errorf("%w: the passkey was removed", ErrPasskeyRefused)
	}
	now := p.now()
	advanced := false
	if !cred.Authenticator.CloneWarning {
		if advanced, err = p.Credentials.AcceptAssertion(ctx, userID, f.ID, cred.Authenticator.SignCount, now); err != nil {
			return nil, fmt.Errorf("mfa: record passkey use: %w", err)
		}
	}
	if !advanced {
		if err := p.Credentials.FlagCounterRegression(ctx, userID, f.ID, now); err != nil && !errors.Is(err, ErrNotFound) {
			return nil, fmt.Errorf("mfa: flag passkey: %w", err)
		}
		f.CounterWarningAt = &now
		return &Assertion{UserID: userID, Factor: f}, ErrCounterRegression
	}
	f.WebAuthn.SignCount, f.LastUsedAt = cred.Authenticator.SignCount, &now
	return &Assertion{UserID: userID, Factor: f, UserVerified: uv}, nil
}
