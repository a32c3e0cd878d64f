package oidc

import (
	"context"
	"crypto"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha256"
	"crypto/x509"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"sort"
	"sync"
	"time"

	josev4 "github.com/go-jose/go-jose/v4"

	"gatehouse/identity/seal"
)

// Signing key states. A key is published in JWKS as "next" before it ever
// signs, signs as "current", and stays published as "retired" until every
// token it signed has expired.
const (
	KeyNext    = "next"
	KeyCurrent = "current"
	KeyRetired = "retired"
)

// SigningKeyRecord is a signing key as stored: the private key sealed under
// the master key with the key ID as additional data.
type SigningKeyRecord struct {
	ID            string
	Algorithm     string
	State         string
	PrivateSealed string
	CreatedAt     time.Time
	ActivatedAt   *time.Time // when it became current
	RetiredAt     *time.Time
	ExpiresAt     *time.Time // unpublished after this instant (retired keys)
}

// KeyStore persists signing keys.
type KeyStore interface {
	// ListSigningKeys returns every stored key.
	ListSigningKeys(ctx context.Context) ([]*SigningKeyRecord, error)
	// SaveSigningKeys inserts or updates the given keys in one transaction.
	SaveSigningKeys(ctx context.Context, keys []*SigningKeyRecord) error
}

// ErrRotateTooSoon is returned when the next key has not been published
// long enough for relying parties' JWKS caches to have seen it.
var ErrRotateTooSoon = errors.New("oidc: the next key was published too recently; relying parties may not have fetched it yet")

// Keys holds the provider's signing keys in memory, with the JWKS
// document pre-serialised so that serving it costs nothing.
type Keys struct {
	Store     KeyStore
	Box       *seal.Box
	Algorithm string // RS256 or ES256
	// MaxTokenLifetime is how long a retired key stays published.
	MaxTokenLifetime time.Duration
	// JWKSMaxAge is how long relying parties may cache JWKS; a rotation
	// waits at least this long after publishing the next key.
	JWKSMaxAge time.Duration
	Now        func() time.Time
	// NewKey makes a new private key for algorithm (RS256 or ES256); nil
	// generates one from crypto/rand. Tests hand out pre-generated keys,
	// as generating RSA keys is most of the cost of starting a server.
	NewKey func(algorithm string) (crypto.Signer, error)

	mu      sync.RWMutex
	signing *signingKey
	public  map[string]crypto.PublicKey
	private map[string]crypto.Signer // fosite's verifier API takes the private key
	jwks    []byte
	version string
}

type signingKey struct {
	id   string
	alg  string
	priv crypto.Signer
}

// Load reads the keys from the store, creating the first current and next
// keys when there are none, and rebuilds the published JWKS.
func (k *Keys) Load(ctx context.Context) error {
	recs, err := k.Store.ListSigningKeys(ctx)
	if err != nil {
		return fmt.Errorf("keys: load: %w", err)
	}
	if len(recs) == 0 {
		cur, err := k.generate(KeyCurrent)
		if err != nil {
			return err
		}
		now := k.Now().UTC()
		cur.ActivatedAt = &now
		next, err := k.generate(KeyNext)
		if err != nil {
			return err
		}
		if err := k.Store.SaveSigningKeys(ctx, []*SigningKeyRecord{cur, next}); err != nil {
			return fmt.Errorf("keys: save first keys: %w", err)
		}
		// Another instance may have raced us; read back what won.
		if recs, err = k.Store.ListSigningKeys(ctx); err != nil {
			return fmt.Errorf("keys: load: %w", err)
		}
	}
	return k.install(recs)
}

// Run reloads keys every interval until ctx ends, so that a rotation done
// by `gatehouse keys rotate` or another instance is picked up.
func (k *Keys) Run(ctx context.Context, interval time.Duration, onError func(error)) {
	t := time.NewTicker(interval)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
			if err := k.Load(ctx); err != nil && ctx.Err() == nil {
				onError(err)
			}
		}
	}
}

// Rotate promotes the next key to current, retires the current key (kept
// published for MaxTokenLifetime) and publishes a new next key. Unless
// force is set it refuses while the next key is younger than JWKSMaxAge.
func (k *Keys) Rotate(ctx context.Context, force bool) (current, next string, err error) {
	recs, err := k.Store.ListSigningKeys(ctx)
	if err != nil {
		return "", "", fmt.Errorf("keys: rotate: %w", err)
	}
	// Refuse before writing anything if the stored keys cannot be opened
	// (another master key): a key sealed now would lock out the others.
	for _, r := range recs {
		if _, err := k.open(r); err != nil {
			return "", "", err
		}
	}
	now := k.Now().UTC()
	var changed []*SigningKeyRecord
	var promoted *SigningKeyRecord
	for _, r := range recs {
		if r.State == KeyNext && (promoted == nil || r.CreatedAt.After(promoted.CreatedAt)) {
			promoted = r
		}
	}
	if promoted == nil {
		if promoted, err = k.generate(KeyNext); err != nil {
			return "", "", err
		}
	} else if !force && now.Sub(promoted.CreatedAt) < k.JWKSMaxAge {
		return "", "", ErrRotateTooSoon
	}
	for _, r := range recs {
		// Every current key retires; so does any other next key (instances
		// racing at first start may each have published one).
		if r.State == KeyCurrent || (r.State == KeyNext && r != promoted) {
			r.State = KeyRetired
			r.RetiredAt = &now
			exp := now.Add(k.MaxTokenLifetime + 5*time.Minute) // clock skew margin
			r.ExpiresAt = &exp
			changed = append(changed, r)
		}
	}
	promoted.State = KeyCurrent
	promoted.ActivatedAt = &now
	fresh, err := k.generate(KeyNext)
	if err != nil {
		return "", "", err
	}
	changed = append(changed, promoted, fresh)
	if err := k.Store.SaveSigningKeys(ctx, changed); err != nil {
		return "", "", fmt.Errorf("keys: rotate: %w", err)
	}
	return promoted.ID, fresh.ID, k.Load(ctx)
}

// JWKS returns the serialised public key set (RFC 7517) and a version tag
// that changes whenever the set does.
func (k *Keys) JWKS() ([]byte, string) {
	k.mu.RLock()
	defer k.mu.RUnlock()
	return k.jwks, k.version
}

// PublicKey returns the published key with the given ID.
func (k *Keys) PublicKey(kid string) (crypto.PublicKey, bool) {
	k.mu.RLock()
	defer k.mu.RUnlock()
	pub, ok := k.public[kid]
	return pub, ok
}

func (k *Keys) current() (*signingKey, error) {
	k.mu.RLock()
	defer k.mu.RUnlock()
	if k.signing == nil {
		return nil, errors.New("keys: no current signing key")
	}
	return k.signing, nil
}

// GenerateKey makes a new private key for algorithm from crypto/rand:
// ES256 a P-256 key, anything else a 2048-bit RSA key.
func GenerateKey(algorithm string) (crypto.Signer, error) {
	if algorithm == "ES256" {
		return ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	}
	return rsa.GenerateKey(rand.Reader, 2048)
}

func (k *Keys) generate(state string) (*SigningKeyRecord, error) {
	newKey := k.NewKey
	if newKey == nil {
		newKey = GenerateKey
	}
	priv, err := newKey(k.Algorithm)
	if err != nil {
		return nil, fmt.Errorf("keys: generate: %w", err)
	}
	der, err := x509.MarshalPKCS8PrivateKey(priv)
	if err != nil {
		return nil, fmt.Errorf("keys: encode: %w", err)
	}
	kid := thumbprint(priv.Public())
	return &SigningKeyRecord{
		ID:            kid,
		Algorithm:     algorithmOf(priv),
		State:         state,
		PrivateSealed: k.Box.Seal(der, []byte(kid)),
		CreatedAt:     k.Now().UTC(),
	}, nil
}

// install decrypts the records and swaps in the new key set atomically.
func (k *Keys) install(recs []*SigningKeyRecord) error {
	now := k.Now()
	var signing *signingKey
	var signingAt time.Time
	public := map[string]crypto.PublicKey{}
	private := map[string]crypto.Signer{}
	var set josev4.JSONWebKeySet
	sort.Slice(recs, func(i, j int) bool { return recs[i].ID < recs[j].ID })
	for _, r := range recs {
		if r.State == KeyRetired && r.ExpiresAt != nil && now.After(*r.ExpiresAt) {
			continue
		}
		priv, err := k.open(r)
		if err != nil {
			return err
		}
		public[r.ID] = priv.Public()
		private[r.ID] = priv
		set.Keys = append(set.Keys, josev4.JSONWebKey{Key: priv.Public(), KeyID: r.ID, Algorithm: r.Algorithm, Use: "sig"})
		// Several instances racing at first start can each create a current
		// key; all are published, and every instance signs with the same
		// one: the most recently activated, ties broken by ID.
		if r.State == KeyCurrent && r.ActivatedAt != nil && (signing == nil || !r.ActivatedAt.Before(signingAt)) {
			signing, signingAt = &signingKey{id: r.ID, alg: r.Algorithm, priv: priv}, *r.ActivatedAt
		}
	}
	if signing == nil {
		return errors.New("keys: no current signing key in store (run `gatehouse keys rotate`)")
	}
	body, err := json.Marshal(set)
	if err != nil {
		return fmt.Errorf("keys: encode JWKS: %w", err)
	}
	sum := sha256.Sum256(body)
	k.mu.Lock()
	k.signing, k.public, k.private, k.jwks = signing, public, private, body
	k.version = `"` + base64.RawURLEncoding.EncodeToString(sum[:12]) + `"`
	k.mu.Unlock()
	return nil
}

// open decrypts a stored private key.
func (k *Keys) open(r *SigningKeyRecord) (crypto.Signer, error) {
	der, err := k.Box.Open(r.PrivateSealed, []byte(r.ID))
	if err != nil {
		return nil, fmt.Errorf("keys: key %s: %w", r.ID, err)
	}
	parsed, err := x509.ParsePKCS8PrivateKey(der)
	if err != nil {
		return nil, fmt.Errorf("keys: key %s: %w", r.ID, err)
	}
	priv, ok := parsed.(crypto.Signer)
	if !ok {
		return nil, fmt.Errorf("keys: key %s: unsupported type %T", r.ID, parsed)
	}
	return priv, nil
}

// thumbprint makes a stable key ID: the RFC 7638 JWK thumbprint.
func thumbprint(pub crypto.PublicKey) string {
	jwk := josev4.JSONWebKey{Key: pub}
	tp, err := jwk.Thumbprint(crypto.SHA256)
	if err != nil {
		panic("keys: thumbprint of a freshly generated key: " + err.Error())
	}
	return base64.RawURLEncoding.EncodeToString(tp)
}

func algorithmOf(priv crypto.Signer) string {
	if _, ok := priv.(*ecdsa.PrivateKey); ok {
		return "ES256"
	}
	return "RS256"
}
