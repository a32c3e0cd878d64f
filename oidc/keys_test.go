package oidc

import (
	"bytes"
	"context"
	"crypto"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"encoding/base64"
	"encoding/json"
	"errors"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	josev4 "github.com/go-jose/go-jose/v4"
	"github.com/google/go-cmp/cmp"
	"github.com/ory/fosite/token/jwt"

	"gatehouse/identity/seal"
)

const (
	testJWKSMaxAge       = time.Hour
	testMaxTokenLifetime = 24 * time.Hour
)

// stepClock is an injected clock that moves only when a test advances it.
type stepClock struct {
	mu  sync.Mutex
	now time.Time
}

func newStepClock() *stepClock {
	return &stepClock{now: time.Date(2030, 1, 2, 3, 4, 5, 0, time.UTC)}
}

func (c *stepClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

func (c *stepClock) Advance(d time.Duration) {
	c.mu.Lock()
	c.now = c.now.Add(d)
	c.mu.Unlock()
}

// memKeyStore is a KeyStore in a map keyed by key ID. Like a database it
// hands out and keeps copies, so a caller's changes to a record reach it
// only through SaveSigningKeys.
type memKeyStore struct {
	mu    sync.Mutex
	keys  map[string]*SigningKeyRecord
	saves int
}

var _ KeyStore = (*memKeyStore)(nil)

func newMemKeyStore() *memKeyStore {
	return &memKeyStore{keys: map[string]*SigningKeyRecord{}}
}

func (s *memKeyStore) ListSigningKeys(context.Context) ([]*SigningKeyRecord, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := make([]*SigningKeyRecord, 0, len(s.keys))
	for _, r := range s.keys {
		out = append(out, cloneKeyRecord(r))
	}
	return out, nil
}

func (s *memKeyStore) SaveSigningKeys(_ context.Context, keys []*SigningKeyRecord) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.saves++
	for _, r := range keys {
		s.keys[r.ID] = cloneKeyRecord(r)
	}
	return nil
}

// get returns a copy of the stored record with id, failing the test if
// there is none.
func (s *memKeyStore) get(t testing.TB, id string) *SigningKeyRecord {
	t.Helper()
	s.mu.Lock()
	defer s.mu.Unlock()
	r, ok := s.keys[id]
	if !ok {
		t.Fatalf("key %q not in store", id)
	}
	return cloneKeyRecord(r)
}

// states returns every stored key ID with its state.
func (s *memKeyStore) states() map[string]string {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := map[string]string{}
	for id, r := range s.keys {
		out[id] = r.State
	}
	return out
}

// withState returns the IDs of the stored keys in state, sorted.
func (s *memKeyStore) withState(state string) []string {
	var ids []string
	for id, st := range s.states() {
		if st == state {
			ids = append(ids, id)
		}
	}
	sort.Strings(ids)
	return ids
}

func cloneKeyRecord(r *SigningKeyRecord) *SigningKeyRecord {
	c := *r
	for _, p := range []**time.Time{&c.ActivatedAt, &c.RetiredAt, &c.ExpiresAt} {
		if *p != nil {
			t := **p
			*p = &t
		}
	}
	return &c
}

func mustSealBox(t testing.TB, fill byte) *seal.Box {
	t.Helper()
	b, err := seal.New(bytes.Repeat([]byte{fill}, 32))
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// newTestKeys returns unloaded Keys over store, sealed under the master
// key made of fill bytes.
func newTestKeys(t testing.TB, store KeyStore, clock *stepClock, alg string, fill byte) *Keys {
	t.Helper()
	return &Keys{
		Store:            store,
		Box:              mustSealBox(t, fill),
		Algorithm:        alg,
		MaxTokenLifetime: testMaxTokenLifetime,
		JWKSMaxAge:       testJWKSMaxAge,
		Now:              clock.Now,
	}
}

// mustLoadedKeys returns Keys loaded from a new empty store.
func mustLoadedKeys(t testing.TB, alg string) (*Keys, *memKeyStore, *stepClock) {
	t.Helper()
	store, clock := newMemKeyStore(), newStepClock()
	k := newTestKeys(t, store, clock, alg, 1)
	if err := k.Load(t.Context()); err != nil {
		t.Fatalf("Load: %v", err)
	}
	return k, store, clock
}

func mustParseJWKS(t testing.TB, k *Keys) josev4.JSONWebKeySet {
	t.Helper()
	body, _ := k.JWKS()
	var set josev4.JSONWebKeySet
	if err := json.Unmarshal(body, &set); err != nil {
		t.Fatalf("JWKS is not a JWK set: %v\n%s", err, body)
	}
	return set
}

func jwksKIDs(set josev4.JSONWebKeySet) []string {
	var ids []string
	for _, k := range set.Keys {
		ids = append(ids, k.KeyID)
	}
	sort.Strings(ids)
	return ids
}

func mustCurrentKID(t testing.TB, k *Keys) string {
	t.Helper()
	cur, err := k.current()
	if err != nil {
		t.Fatalf("current: %v", err)
	}
	return cur.id
}

func sortedStrings(s ...string) []string {
	out := append([]string(nil), s...)
	sort.Strings(out)
	return out
}

// checkPublishedKey checks one JWKS entry: a public signing key whose kid
// is its RFC 7638 thumbprint.
func checkPublishedKey(t testing.TB, key josev4.JSONWebKey, alg string) {
	t.Helper()
	if !key.IsPublic() {
		t.Errorf("key %s: not a public key", key.KeyID)
	}
	if key.Algorithm != alg || key.Use != "sig" {
		t.Errorf("key %s: alg %q use %q, want %q %q", key.KeyID, key.Algorithm, key.Use, alg, "sig")
	}
	tp, err := key.Thumbprint(crypto.SHA256)
	if err != nil {
		t.Fatalf("key %s: thumbprint: %v", key.KeyID, err)
	}
	if want := base64.RawURLEncoding.EncodeToString(tp); key.KeyID != want {
		t.Errorf("kid = %q, want the RFC 7638 thumbprint %q", key.KeyID, want)
	}
	switch pub := key.Key.(type) {
	case *rsa.PublicKey:
		if alg != "RS256" {
			t.Errorf("key %s: RSA key for %s", key.KeyID, alg)
		}
	case *ecdsa.PublicKey:
		if alg != "ES256" || pub.Curve != elliptic.P256() {
			t.Errorf("key %s: EC key on %s for %s, want P-256 for ES256", key.KeyID, pub.Curve.Params().Name, alg)
		}
	default:
		t.Errorf("key %s: unexpected key type %T", key.KeyID, key.Key)
	}
}

func TestKeysLoadCreatesFirstKeys(t *testing.T) {
	for _, alg := range []string{"RS256", "ES256"} {
		t.Run(alg, func(t *testing.T) {
			k, store, clock := mustLoadedKeys(t, alg)

			cur, next := store.withState(KeyCurrent), store.withState(KeyNext)
			if len(cur) != 1 || len(next) != 1 || len(store.states()) != 2 {
				t.Fatalf("store after first Load = %v, want one current and one next key", store.states())
			}
			for _, id := range []string{cur[0], next[0]} {
				if r := store.get(t, id); r.Algorithm != alg || !r.CreatedAt.Equal(clock.Now()) {
					t.Errorf("key %s: Algorithm %q CreatedAt %v, want %q %v", id, r.Algorithm, r.CreatedAt, alg, clock.Now())
				}
			}
			if r := store.get(t, cur[0]); r.ActivatedAt == nil || !r.ActivatedAt.Equal(clock.Now()) {
				t.Errorf("current key ActivatedAt = %v, want %v", r.ActivatedAt, clock.Now())
			}
			if got := mustCurrentKID(t, k); got != cur[0] {
				t.Errorf("signing key = %s, want the current key %s", got, cur[0])
			}

			set := mustParseJWKS(t, k)
			if diff := cmp.Diff(sortedStrings(cur[0], next[0]), jwksKIDs(set)); diff != "" {
				t.Errorf("JWKS kids mismatch (-want +got):\n%s", diff)
			}
			for _, key := range set.Keys {
				checkPublishedKey(t, key, alg)
				if pub, ok := k.PublicKey(key.KeyID); !ok || !pub.(interface{ Equal(crypto.PublicKey) bool }).Equal(key.Key) {
					t.Errorf("PublicKey(%s) = %v, %v; want the published key", key.KeyID, pub, ok)
				}
			}
			if _, ok := k.PublicKey("no-such-key"); ok {
				t.Error("PublicKey(unknown) found a key")
			}

			body, version := k.JWKS()
			if version == "" {
				t.Fatal("JWKS version is empty")
			}
			if err := k.Load(t.Context()); err != nil {
				t.Fatalf("reload: %v", err)
			}
			body2, version2 := k.JWKS()
			if version2 != version || !bytes.Equal(body2, body) {
				t.Errorf("reload without change: version %s → %s, body changed %v", version, version2, !bytes.Equal(body2, body))
			}
			if n := len(store.states()); n != 2 {
				t.Errorf("reload created keys: store has %d, want 2", n)
			}

			// Another instance on the same store publishes the same set.
			other := newTestKeys(t, store, clock, alg, 1)
			if err := other.Load(t.Context()); err != nil {
				t.Fatalf("other instance Load: %v", err)
			}
			if _, v := other.JWKS(); v != version {
				t.Errorf("other instance JWKS version = %s, want %s", v, version)
			}
			if got := mustCurrentKID(t, other); got != cur[0] {
				t.Errorf("other instance signs with %s, want %s", got, cur[0])
			}
		})
	}
}

func TestKeysJWKSHasNoPrivateMembers(t *testing.T) {
	for _, alg := range []string{"RS256", "ES256"} {
		t.Run(alg, func(t *testing.T) {
			k, _, clock := mustLoadedKeys(t, alg)
			clock.Advance(testJWKSMaxAge + time.Second)
			if _, _, err := k.Rotate(t.Context(), false); err != nil { // three keys: retired, current, next
				t.Fatalf("Rotate: %v", err)
			}
			body, _ := k.JWKS()
			var doc struct {
				Keys []map[string]interface{} `json:"keys"`
			}
			if err := json.Unmarshal(body, &doc); err != nil {
				t.Fatal(err)
			}
			if len(doc.Keys) != 3 {
				t.Fatalf("JWKS has %d keys, want 3", len(doc.Keys))
			}
			// RFC 7518 §6.2.2 and §6.3.2 private members, and "k" (§6.4.1).
			for _, key := range doc.Keys {
				for _, m := range []string{"d", "p", "q", "dp", "dq", "qi", "oth", "k"} {
					if _, ok := key[m]; ok {
						t.Errorf("JWKS key %v has private member %q", key["kid"], m)
					}
				}
			}
		})
	}
}

func TestKeysRotate(t *testing.T) {
	ctx := t.Context()
	k, store, clock := mustLoadedKeys(t, "RS256")
	cur0, next0 := store.withState(KeyCurrent)[0], store.withState(KeyNext)[0]
	body0, version0 := k.JWKS()

	if _, _, err := k.Rotate(ctx, false); !errors.Is(err, ErrRotateTooSoon) {
		t.Fatalf("Rotate right after publishing the next key: err = %v, want ErrRotateTooSoon", err)
	}
	clock.Advance(testJWKSMaxAge - time.Second)
	if _, _, err := k.Rotate(ctx, false); !errors.Is(err, ErrRotateTooSoon) {
		t.Fatalf("Rotate just before JWKSMaxAge: err = %v, want ErrRotateTooSoon", err)
	}
	if diff := cmp.Diff(map[string]string{cur0: KeyCurrent, next0: KeyNext}, store.states()); diff != "" {
		t.Errorf("a refused Rotate changed the store (-want +got):\n%s", diff)
	}
	if body, version := k.JWKS(); version != version0 || !bytes.Equal(body, body0) {
		t.Error("a refused Rotate changed the JWKS")
	}

	clock.Advance(2 * time.Second)
	now := clock.Now()
	cur, next, err := k.Rotate(ctx, false)
	if err != nil {
		t.Fatalf("Rotate after JWKSMaxAge: %v", err)
	}
	if cur != next0 {
		t.Errorf("Rotate made %s current, want the old next key %s", cur, next0)
	}
	if next == cur0 || next == next0 {
		t.Errorf("Rotate returned next key %s, want a new key", next)
	}
	if diff := cmp.Diff(map[string]string{cur0: KeyRetired, next0: KeyCurrent, next: KeyNext}, store.states()); diff != "" {
		t.Errorf("key states after Rotate mismatch (-want +got):\n%s", diff)
	}
	retired := store.get(t, cur0)
	wantExpiry := now.Add(testMaxTokenLifetime + 5*time.Minute)
	if retired.RetiredAt == nil || !retired.RetiredAt.Equal(now) {
		t.Errorf("retired key RetiredAt = %v, want %v", retired.RetiredAt, now)
	}
	if retired.ExpiresAt == nil || !retired.ExpiresAt.Equal(wantExpiry) {
		t.Errorf("retired key ExpiresAt = %v, want now + MaxTokenLifetime + 5m = %v", retired.ExpiresAt, wantExpiry)
	}
	if a := store.get(t, next0).ActivatedAt; a == nil || !a.Equal(now) {
		t.Errorf("promoted key ActivatedAt = %v, want %v", a, now)
	}
	if got := mustCurrentKID(t, k); got != next0 {
		t.Errorf("signing key after Rotate = %s, want %s", got, next0)
	}
	set := mustParseJWKS(t, k)
	if diff := cmp.Diff(sortedStrings(cur0, next0, next), jwksKIDs(set)); diff != "" {
		t.Errorf("JWKS kids after Rotate mismatch (-want +got):\n%s", diff)
	}
	for _, key := range set.Keys {
		checkPublishedKey(t, key, "RS256")
	}
	_, version1 := k.JWKS()
	if version1 == version0 {
		t.Error("JWKS version did not change on Rotate")
	}

	// The retired key stays published up to its expiry...
	clock.Advance(wantExpiry.Sub(clock.Now()))
	if err := k.Load(ctx); err != nil {
		t.Fatalf("Load at the retired key's expiry: %v", err)
	}
	if n := len(mustParseJWKS(t, k).Keys); n != 3 {
		t.Errorf("JWKS at the retired key's expiry has %d keys, want 3", n)
	}
	// ...and is unpublished after it.
	clock.Advance(time.Second)
	if err := k.Load(ctx); err != nil {
		t.Fatalf("Load after the retired key expired: %v", err)
	}
	if diff := cmp.Diff(sortedStrings(next0, next), jwksKIDs(mustParseJWKS(t, k))); diff != "" {
		t.Errorf("JWKS kids after the retired key expired mismatch (-want +got):\n%s", diff)
	}
	if _, ok := k.PublicKey(cur0); ok {
		t.Error("PublicKey still finds the expired retired key")
	}
	if _, version2 := k.JWKS(); version2 == version1 {
		t.Error("JWKS version did not change when the retired key was unpublished")
	}
}

func TestKeysRotateForce(t *testing.T) {
	k, store, _ := mustLoadedKeys(t, "RS256")
	cur0, next0 := store.withState(KeyCurrent)[0], store.withState(KeyNext)[0]
	cur, next, err := k.Rotate(t.Context(), true)
	if err != nil {
		t.Fatalf("Rotate(force) right away: %v", err)
	}
	if diff := cmp.Diff(map[string]string{cur0: KeyRetired, next0: KeyCurrent, next: KeyNext}, store.states()); diff != "" {
		t.Errorf("key states after forced Rotate mismatch (-want +got):\n%s", diff)
	}
	if cur != next0 || mustCurrentKID(t, k) != next0 {
		t.Errorf("forced Rotate: current %s, signing %s; want %s", cur, mustCurrentKID(t, k), next0)
	}
}

func TestKeysLoadWrongMasterKey(t *testing.T) {
	_, store, clock := mustLoadedKeys(t, "RS256")
	other := newTestKeys(t, store, clock, "RS256", 2)
	err := other.Load(t.Context())
	if !errors.Is(err, seal.ErrOpen) {
		t.Fatalf("Load with another master key: err = %v, want seal.ErrOpen", err)
	}
	if body, _ := other.JWKS(); body != nil {
		t.Errorf("failed Load published a JWKS: %s", body)
	}
	if _, err := other.current(); err == nil {
		t.Error("failed Load installed a signing key")
	}
}

// A rotation run with the wrong master key must not write keys that the
// instances holding the right one cannot open.
func TestKeysRotateWrongMasterKeyLeavesStoreAlone(t *testing.T) {
	ctx := t.Context()
	good, store, clock := mustLoadedKeys(t, "RS256")
	before := store.states()
	clock.Advance(testJWKSMaxAge + time.Second)

	wrong := newTestKeys(t, store, clock, "RS256", 2)
	if _, _, err := wrong.Rotate(ctx, false); err == nil {
		t.Fatal("Rotate with another master key succeeded")
	}
	if diff := cmp.Diff(before, store.states()); diff != "" {
		t.Errorf("failed Rotate with another master key changed the store (-want +got):\n%s", diff)
	}
	if err := good.Load(ctx); err != nil {
		t.Errorf("instance with the right master key cannot load after the failed rotation: %v", err)
	}
}

// Instances racing at first start each create a current and a next key;
// all of them sign with the same one.
func TestKeysRacingFirstStart(t *testing.T) {
	ctx := t.Context()
	clock := newStepClock()
	store := newMemKeyStore()
	for range 2 {
		// Each instance saw an empty store and saved its own pair.
		own := newMemKeyStore()
		if err := newTestKeys(t, own, clock, "ES256", 1).Load(ctx); err != nil {
			t.Fatal(err)
		}
		recs, _ := own.ListSigningKeys(ctx)
		if err := store.SaveSigningKeys(ctx, recs); err != nil {
			t.Fatal(err)
		}
	}
	a, b := newTestKeys(t, store, clock, "ES256", 1), newTestKeys(t, store, clock, "ES256", 1)
	for _, k := range []*Keys{a, b} {
		if err := k.Load(ctx); err != nil {
			t.Fatal(err)
		}
	}
	if ka, kb := mustCurrentKID(t, a), mustCurrentKID(t, b); ka != kb {
		t.Errorf("instances sign with different keys %s and %s", ka, kb)
	}
	if n := len(mustParseJWKS(t, a).Keys); n != 4 {
		t.Errorf("JWKS has %d keys, want all 4", n)
	}
}

// After a racing first start left two next keys, a rotation should leave
// one next key; the other is otherwise published and kept forever, never
// promoted (Rotate picks the newest) and never retired.
func TestKeysRotateAfterRacingFirstStartLeavesOneNextKey(t *testing.T) {
	ctx := t.Context()
	clock := newStepClock()
	store := newMemKeyStore()
	for range 2 {
		own := newMemKeyStore()
		if err := newTestKeys(t, own, clock, "ES256", 1).Load(ctx); err != nil {
			t.Fatal(err)
		}
		recs, _ := own.ListSigningKeys(ctx)
		if err := store.SaveSigningKeys(ctx, recs); err != nil {
			t.Fatal(err)
		}
	}
	k := newTestKeys(t, store, clock, "ES256", 1)
	for range 2 {
		clock.Advance(testJWKSMaxAge + time.Second)
		if _, _, err := k.Rotate(ctx, false); err != nil {
			t.Fatalf("Rotate: %v", err)
		}
	}
	if next := store.withState(KeyNext); len(next) != 1 {
		t.Errorf("after two rotations the store has next keys %v, want exactly one", next)
	}
}

// signWithForeignKey signs claims with a key the provider does not hold,
// naming kid in the header.
func signWithForeignKey(t testing.TB, kid string, claims jwt.MapClaims) string {
	t.Helper()
	priv, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	d := &jwt.DefaultSigner{GetPrivateKey: func(context.Context) (interface{}, error) { return priv, nil }}
	tok, _, err := d.Generate(t.Context(), claims, kidHeader{Mapper: &jwt.Headers{}, kid: kid})
	if err != nil {
		t.Fatal(err)
	}
	return tok
}

// jwsHeader returns the protected header of a compact JWS.
func jwsHeader(t testing.TB, token string) josev4.Header {
	t.Helper()
	parsed, err := josev4.ParseSignedCompact(token, []josev4.SignatureAlgorithm{josev4.RS256, josev4.ES256})
	if err != nil || len(parsed.Signatures) != 1 {
		t.Fatalf("ParseSigned(%q): %v", token, err)
	}
	return parsed.Signatures[0].Protected
}

func mustSign(t testing.TB, s *keySigner, claims jwt.MapClaims) (token, sig string) {
	t.Helper()
	token, sig, err := s.Generate(t.Context(), claims, &jwt.Headers{Extra: map[string]interface{}{"typ": "at+jwt"}})
	if err != nil {
		t.Fatalf("Generate: %v", err)
	}
	return token, sig
}

func checkSignerAccepts(t testing.TB, s *keySigner, token, wantSig, wantSub string) {
	t.Helper()
	ctx := t.Context()
	got, err := s.Validate(ctx, token)
	if err != nil {
		t.Errorf("Validate: %v", err)
	} else if got != wantSig {
		t.Errorf("Validate signature = %q, want %q", got, wantSig)
	}
	dec, err := s.Decode(ctx, token)
	if err != nil {
		t.Fatalf("Decode: %v", err)
	}
	if !dec.Valid() || dec.Claims["sub"] != wantSub {
		t.Errorf("Decode = valid %v sub %v, want valid sub %q", dec.Valid(), dec.Claims["sub"], wantSub)
	}
}

func TestKeySignerGenerate(t *testing.T) {
	for _, alg := range []string{"RS256", "ES256"} {
		t.Run(alg, func(t *testing.T) {
			k, _, _ := mustLoadedKeys(t, alg)
			s := &keySigner{keys: k}
			token, sig := mustSign(t, s, jwt.MapClaims{"sub": "alice"})

			h := jwsHeader(t, token)
			if want := mustCurrentKID(t, k); h.KeyID != want {
				t.Errorf("header kid = %q, want the current key %q", h.KeyID, want)
			}
			if h.Algorithm != alg {
				t.Errorf("header alg = %q, want %q", h.Algorithm, alg)
			}
			if typ := h.ExtraHeaders["typ"]; typ != "at+jwt" {
				t.Errorf("header typ = %v, want the caller's at+jwt", typ)
			}
			if parts := strings.Split(token, "."); len(parts) != 3 || parts[2] != sig {
				t.Errorf("Generate signature %q is not the token's third part", sig)
			}
			checkSignerAccepts(t, s, token, sig, "alice")
		})
	}
}

func TestKeySignerAcrossRotation(t *testing.T) {
	ctx := t.Context()
	k, _, clock := mustLoadedKeys(t, "RS256")
	s := &keySigner{keys: k}
	oldKID := mustCurrentKID(t, k)
	oldToken, oldSig := mustSign(t, s, jwt.MapClaims{"sub": "before"})

	clock.Advance(testJWKSMaxAge + time.Second)
	cur, _, err := k.Rotate(ctx, false)
	if err != nil {
		t.Fatalf("Rotate: %v", err)
	}
	checkSignerAccepts(t, s, oldToken, oldSig, "before")

	newToken, newSig := mustSign(t, s, jwt.MapClaims{"sub": "after"})
	if kid := jwsHeader(t, newToken).KeyID; kid != cur || kid == oldKID {
		t.Errorf("token after Rotate has kid %q, want the new current key %q", kid, cur)
	}
	checkSignerAccepts(t, s, newToken, newSig, "after")

	// Once the retired key is unpublished, its tokens are rejected.
	clock.Advance(testMaxTokenLifetime + 6*time.Minute)
	if err := k.Load(ctx); err != nil {
		t.Fatal(err)
	}
	var ve *jwt.ValidationError
	if _, err := s.Validate(ctx, oldToken); !errors.As(err, &ve) {
		t.Errorf("Validate(token of an unpublished key): err = %v, want *jwt.ValidationError", err)
	}
}

func TestKeySignerRejects(t *testing.T) {
	k, _, _ := mustLoadedKeys(t, "RS256")
	s := &keySigner{keys: k}
	cur := mustCurrentKID(t, k)
	valid, _ := mustSign(t, s, jwt.MapClaims{"sub": "alice"})
	parts := strings.Split(valid, ".")
	b64 := base64.RawURLEncoding.EncodeToString

	tests := []struct {
		name  string
		token string
	}{
		{"empty", ""},
		{"garbage", "not a token"},
		{"three garbage parts", "a.b.c"},
		{"unknown kid", signWithForeignKey(t, "no-such-key", jwt.MapClaims{"sub": "alice"})},
		{"no kid", signWithForeignKey(t, "", jwt.MapClaims{"sub": "alice"})},
		{"published kid, foreign key", signWithForeignKey(t, cur, jwt.MapClaims{"sub": "alice"})},
		{"payload swapped", parts[0] + "." + b64([]byte(`{"sub":"mallory"}`)) + "." + parts[2]},
		{"signature stripped", parts[0] + "." + parts[1] + "."},
		{"alg none", b64([]byte(`{"alg":"none","kid":"`+cur+`"}`)) + "." + parts[1] + "."},
		{"alg HS256", b64([]byte(`{"alg":"HS256","kid":"`+cur+`"}`)) + "." + parts[1] + "." + parts[2]},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			var ve *jwt.ValidationError
			if _, err := s.Validate(t.Context(), tc.token); !errors.As(err, &ve) {
				t.Errorf("Validate: err = %v (%T), want *jwt.ValidationError", err, err)
			}
			if _, err := s.Decode(t.Context(), tc.token); !errors.As(err, &ve) {
				t.Errorf("Decode: err = %v (%T), want *jwt.ValidationError", err, err)
			}
		})
	}
}

// Load tells the operator to run `gatehouse keys rotate` when the store
// has no current key, and Rotate generates the keys it lacks; so Rotate
// must work without a current key, and on an empty store (the CLI calls it
// without loading first).
func TestKeysRotateWithoutCurrentKey(t *testing.T) {
	tests := []struct {
		name  string
		setup func(t *testing.T, store *memKeyStore, clock *stepClock)
	}{
		{"empty store", func(*testing.T, *memKeyStore, *stepClock) {}},
		{"only a next key", func(t *testing.T, store *memKeyStore, clock *stepClock) {
			k := newTestKeys(t, store, clock, "ES256", 1)
			if err := k.Load(t.Context()); err != nil {
				t.Fatal(err)
			}
			store.mu.Lock()
			for id, r := range store.keys {
				if r.State == KeyCurrent {
					delete(store.keys, id)
				}
			}
			store.mu.Unlock()
			clock.Advance(testJWKSMaxAge + time.Second)
		}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			store, clock := newMemKeyStore(), newStepClock()
			tc.setup(t, store, clock)
			k := newTestKeys(t, store, clock, "ES256", 1)
			if tc.name != "empty store" { // Load would create the first keys
				if err := k.Load(t.Context()); err == nil {
					t.Fatal("Load without a current key succeeded")
				}
			}
			cur, next, err := k.Rotate(t.Context(), false)
			if err != nil {
				t.Fatalf("Rotate without a current key: %v", err)
			}
			if got := store.withState(KeyCurrent); len(got) != 1 || got[0] != cur {
				t.Errorf("current keys after Rotate = %v, want [%s]", got, cur)
			}
			if got := store.withState(KeyNext); len(got) != 1 || got[0] != next {
				t.Errorf("next keys after Rotate = %v, want [%s]", got, next)
			}
			if err := k.Load(t.Context()); err != nil {
				t.Errorf("Load after Rotate: %v", err)
			}
		})
	}
}
