package mfa

import (
	"context"
	"crypto/rand"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"net/url"
	"strings"
	"time"

	"github.com/go-webauthn/webauthn/protocol"
	"github.com/go-webauthn/webauthn/webauthn"
	"github.com/google/uuid"
)

// CeremonyLifetime is how long a begun registration or assertion may be
// finished: its challenge is refused after that.
const CeremonyLifetime = 5 * time.Minute

// MaxPasskeyNameLength bounds the name a user gives a passkey.
const MaxPasskeyNameLength = 64

// Passkeys registers WebAuthn credentials (passkeys) and verifies their
// assertions, as a second factor and as a passwordless first factor.
//
// The relying party is the issuer: its host is the RP ID and its origin
// the only origin accepted, so an assertion made for another site (a
// phishing page) never verifies. Attestation is "none": nothing proves a
// key hardware-bound, so HardwareBound is never set. Registration prefers
// a resident (discoverable) key so the same passkey signs in without a
// username.
//
// Each ceremony's challenge is held server-side (Ceremonies) for
// CeremonyLifetime and taken, that is deleted, by the request that
// finishes it: a replayed response or a second use of a challenge finds
// nothing. A ceremony is bound to what began it (Binding): the browser
// session in the account area, the flow and its browser in a sign-in.
type Passkeys struct {
	Factors     Factors
	Credentials Credentials
	Ceremonies  Ceremonies
	// RPID is the issuer's host; Origin its origin ("https://id.example").
	RPID   string
	Origin string
	// RPName names the service in the browser's passkey dialogs.
	RPName string
	// Now is the clock; nil means time.Now.
	Now func() time.Time
}

// NewPasskeys returns the Passkeys of the issuer URL: RP ID its host,
// origin its scheme and host.
func NewPasskeys(issuer, rpName string, factors Factors, creds Credentials, ceremonies Ceremonies) (*Passkeys, error) {
	u, err := url.Parse(issuer)
	if err != nil || u.Host == "" || (u.Scheme != "https" && u.Scheme != "http") {
		return nil, fmt.Errorf("mfa: passkeys: issuer %q is not an http(s) URL", issuer)
	}
	return &Passkeys{
		Factors: factors, Credentials: creds, Ceremonies: ceremonies,
		RPID: u.Hostname(), Origin: u.Scheme + "://" + u.Host, RPName: rpName,
	}, nil
}

// Available reports whether browsers allow passkeys here: the RP ID must
// be a domain, never an IP address (WebAuthn §5.1.3 refuses those).
func (p *Passkeys) Available() bool {
	return p != nil && p.RPID != "" && net.ParseIP(p.RPID) == nil
}

func (p *Passkeys) now() time.Time {
	if p.Now != nil {
		return p.Now().UTC()
	}
	return time.Now().UTC()
}

// relyingParty is the WebAuthn library's view of the issuer, with uv as
// the user verification asked for.
func (p *Passkeys) relyingParty(uv protocol.UserVerificationRequirement) (*webauthn.WebAuthn, error) {
	if !p.Available() {
		return nil, errors.New("mfa: passkeys are not available for this issuer")
	}
	timeout := webauthn.TimeoutConfig{Timeout: CeremonyLifetime, TimeoutUVD: CeremonyLifetime}
	return webauthn.New(&webauthn.Config{
		RPID: p.RPID, RPDisplayName: p.RPName, RPOrigins: []string{p.Origin},
		AttestationPreference: protocol.PreferNoAttestation,
		AuthenticatorSelection: protocol.AuthenticatorSelection{
			ResidentKey: protocol.ResidentKeyRequirementPreferred, UserVerification: uv,
		},
		Timeouts: webauthn.TimeoutsConfig{Login: timeout, Registration: timeout},
	})
}

// PasskeyUser is who a passkey is registered for.
type PasskeyUser struct {
	ID          string
	Name        string // the username, shown by the authenticator
	DisplayName string
}

// passkeyUser is a user as the WebAuthn library sees it. The user handle
// is the user ID: random (a UUID), and no personal data.
type passkeyUser struct {
	PasskeyUser
	creds []webauthn.Credential
}

func (u *passkeyUser) WebAuthnID() []byte                         { return []byte(u.ID) }
func (u *passkeyUser) WebAuthnName() string                       { return u.Name }
func (u *passkeyUser) WebAuthnDisplayName() string                { return u.DisplayName }
func (u *passkeyUser) WebAuthnCredentials() []webauthn.Credential { return u.creds }

// Begun is a ceremony begun: the options for the browser (the
// PublicKeyCredentialCreationOptionsJSON or ...RequestOptionsJSON of
// WebAuthn §5.1.8) and the ceremony that finishes it.
type Begun struct {
	CeremonyID string
	Options    json.RawMessage
}

// credentialOf is a stored passkey as the WebAuthn library sees it.
func credentialOf(f *Factor) webauthn.Credential {
	c := f.WebAuthn
	transports := make([]protocol.AuthenticatorTransport, len(c.Transports))
	for i, t := range c.Transports {
		transports[i] = protocol.AuthenticatorTransport(t)
	}
	return webauthn.Credential{
		ID: c.ID, PublicKey: c.PublicKey, Transport: transports,
		Flags:         webauthn.CredentialFlags{BackupEligible: c.BackupEligible, BackupState: c.BackedUp},
		Authenticator: webauthn.Authenticator{AAGUID: c.AAGUID, SignCount: c.SignCount},
	}
}

// passkeysOf returns the user's confirmed passkeys.
func (p *Passkeys) passkeysOf(ctx context.Context, userID string) ([]Factor, error) {
	all, err := p.Factors.ListFactors(ctx, userID)
	if err != nil {
		return nil, fmt.Errorf("mfa: list passkeys: %w", err)
	}
	var out []Factor
	for _, f := range all {
		if f.Kind == KindWebAuthn && f.Confirmed() && f.WebAuthn != nil {
			out = append(out, f)
		}
	}
	return out, nil
}

// HasPasskey reports whether the user has a confirmed passkey.
func (p *Passkeys) HasPasskey(ctx context.Context, userID string) (bool, error) {
	keys, err := p.passkeysOf(ctx, userID)
	return len(keys) > 0, err
}

// BeginRegistration starts adding a passkey for u, bound to binding. The
// user's passkeys are excluded, so one authenticator is not added twice.
func (p *Passkeys) BeginRegistration(ctx context.Context, u PasskeyUser, binding string) (*Begun, error) {
	rp, err := p.relyingParty(protocol.VerificationPreferred)
	if err != nil {
		return nil, err
	}
	keys, err := p.passkeysOf(ctx, u.ID)
	if err != nil {
		return nil, err
	}
	user := &passkeyUser{PasskeyUser: u}
	exclude := make([]protocol.CredentialDescriptor, 0, len(keys))
	for i := range keys {
		c := credentialOf(&keys[i])
		exclude = append(exclude, c.Descriptor())
	}
	creation, session, err := rp.BeginRegistration(user,
		webauthn.WithExclusions(exclude),
		webauthn.WithResidentKeyRequirement(protocol.ResidentKeyRequirementPreferred),
		webauthn.WithConveyancePreference(protocol.PreferNoAttestation))
	if err != nil {
		return nil, fmt.Errorf("mfa: begin passkey registration: %w", err)
	}
	return p.begin(ctx, PurposeRegister, u.ID, binding, session, creation.Response)
}

// begin stores a ceremony's session and returns the browser's options.
func (p *Passkeys) begin(ctx context.Context, purpose Purpose, userID, binding string, session *webauthn.SessionData, options any) (*Begun, error) {
	if binding == "" {
		return nil, errors.New("mfa: a ceremony needs a binding")
	}
	doc, err := json.Marshal(session)
	if err != nil {
		return nil, fmt.Errorf("mfa: ceremony session: %w", err)
	}
	opts, err := json.Marshal(options)
	if err != nil {
		return nil, fmt.Errorf("mfa: ceremony options: %w", err)
	}
	c := &Ceremony{
		ID: newCeremonyID(), Binding: binding, Purpose: purpose, UserID: userID,
		Session: doc, ExpiresAt: p.now().Add(CeremonyLifetime),
	}
	if err := p.Ceremonies.CreateCeremony(ctx, c); err != nil {
		return nil, fmt.Errorf("mfa: store ceremony: %w", err)
	}
	return &Begun{CeremonyID: c.ID, Options: opts}, nil
}

// newCeremonyID is 256 random bits: a ceremony ID is also a capability.
func newCeremonyID() string {
	b := make([]byte, 32)
	rand.Read(b) // never fails (crypto/rand documents it)
	return base64.RawURLEncoding.EncodeToString(b)
}

// take finishes the ceremony id: it must exist, be bound to binding, be
// unexpired and be of purpose for userID. It is gone afterwards either way.
func (p *Passkeys) take(ctx context.Context, id, binding string, purpose Purpose, userID string) (*webauthn.SessionData, error) {
	c, err := p.Ceremonies.TakeCeremony(ctx, id, binding, p.now())
	if errors.Is(err, ErrNotFound) {
		return nil, fmt.Errorf("%w: no such ceremony, or it expired or was used", ErrPasskeyRefused)
	}
	if err != nil {
		return nil, fmt.Errorf("mfa: take ceremony: %w", err)
	}
	if c.Purpose != purpose || c.UserID != userID {
		return nil, fmt.Errorf("%w: the ceremony was begun for something else", ErrPasskeyRefused)
	}
	var session webauthn.SessionData
	if err := json.Unmarshal(c.Session, &session); err != nil {
		return nil, fmt.Errorf("mfa: ceremony session: %w", err)
	}
	// Expiry is the ceremony's (our clock), not the library's.
	session.Expires = time.Time{}
	return &session, nil
}

// FinishRegistration verifies the browser's response to the registration
// ceremony and stores the passkey, confirmed, under name.
func (p *Passkeys) FinishRegistration(ctx context.Context, u PasskeyUser, ceremonyID, binding, name string, response []byte) (*Factor, error) {
	rp, err := p.relyingParty(protocol.VerificationPreferred)
	if err != nil {
		return nil, err
	}
	session, err := p.take(ctx, ceremonyID, binding, PurposeRegister, u.ID)
	if err != nil {
		return nil, err
	}
	parsed, err := protocol.ParseCredentialCreationResponseBytes(response)
	if err != nil {
		return nil, fmt.Errorf("%w: %v", ErrPasskeyRefused, err)
	}
	cred, err := rp.CreateCredential(&passkeyUser{PasskeyUser: u}, *session, parsed)
	if err != nil {
		return nil, fmt.Errorf("%w: %v", ErrPasskeyRefused, err)
	}
	id, err := uuid.NewV7()
	if err != nil {
		return nil, fmt.Errorf("mfa: new factor id: %w", err)
	}
	now := p.now()
	transports := make([]string, len(cred.Transport))
	for i, t := range cred.Transport {
		transports[i] = string(t)
	}
	f := &Factor{
		ID: id.String(), UserID: u.ID, Kind: KindWebAuthn, Name: CleanPasskeyName(name),
		CreatedAt: now, ConfirmedAt: &now,
		WebAuthn: &WebAuthnCredential{
			ID: cred.ID, SignCount: cred.Authenticator.SignCount, PublicKey: cred.PublicKey,
			AAGUID: cred.Authenticator.AAGUID, Transports: transports,
			BackupEligible: cred.Flags.BackupEligible, BackedUp: cred.Flags.BackupState,
		},
	}
	if err := p.Factors.CreateFactor(ctx, f); err != nil {
		return nil, fmt.Errorf("mfa: store passkey: %w", err)
	}
	return f, nil
}

// CleanPasskeyName trims a passkey's name and bounds its length; an
// empty name becomes "Passkey".
func CleanPasskeyName(name string) string {
	name = strings.Join(strings.Fields(name), " ")
	if r := []rune(name); len(r) > MaxPasskeyNameLength {
		name = string(r[:MaxPasskeyNameLength])
	}
	if name == "" {
		name = "Passkey"
	}
	return name
}

// Rename renames one of the user's passkeys.
func (p *Passkeys) Rename(ctx context.Context, userID, factorID, name string) error {
	f, err := p.Factors.GetFactor(ctx, userID, factorID)
	if err != nil {
		return fmt.Errorf("mfa: rename: %w", err)
	}
	if f.Kind != KindWebAuthn || !f.Confirmed() {
		return fmt.Errorf("mfa: rename: %w", ErrNotFound)
	}
	if err := p.Credentials.RenameFactor(ctx, userID, factorID, CleanPasskeyName(name)); err != nil {
		return fmt.Errorf("mfa: rename: %w", err)
	}
	return nil
}
