package oidc

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"encoding/json"
	"errors"
	"net/http"
	"net/http/httptest"
	"sync/atomic"
	"testing"
	"time"

	jose "github.com/go-jose/go-jose/v3"
	"github.com/ory/fosite"

	"gatehouse/identity/egress"
)

// TestJWKSFetcher: a client's keys are fetched through the egress client
// and cached for a bounded time; every failure is the client's
// (invalid_client), and a refused destination is never requested.
func TestJWKSFetcher(t *testing.T) {
	var hits atomic.Int32
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		hits.Add(1)
		if r.URL.Path != "/jwks" {
			http.Error(w, "no", http.StatusInternalServerError)
			return
		}
		w.Write(mustJWKS(t, false))
	}))
	defer srv.Close()

	strict := newJWKSFetcher(nil)
	_, err := strict.Resolve(t.Context(), srv.URL+"/jwks", false)
	if !errors.Is(err, fosite.ErrInvalidClient) || !errors.Is(err, egress.ErrForbiddenDestination) {
		t.Errorf("strict Resolve = %v, want invalid_client for a forbidden destination", err)
	}
	if hits.Load() != 0 {
		t.Fatalf("the loopback JWKS host was requested %d times", hits.Load())
	}

	now := time.Date(2030, 1, 1, 0, 0, 0, 0, time.UTC)
	f := newJWKSFetcher(egress.New(egress.Options{Policy: egress.Policy{AllowPrivateNetworks: true}}))
	f.now = func() time.Time { return now }
	for range 2 {
		set, err := f.Resolve(t.Context(), srv.URL+"/jwks", false)
		if err != nil || len(set.Key("k1")) != 1 {
			t.Fatalf("Resolve = %v, %v; want the set with k1", set, err)
		}
	}
	if hits.Load() != 1 {
		t.Errorf("two resolves within the cache lifetime made %d requests, want 1", hits.Load())
	}
	f.Resolve(t.Context(), srv.URL+"/jwks", true)
	now = now.Add(jwksCacheTTL)
	f.Resolve(t.Context(), srv.URL+"/jwks", false)
	if hits.Load() != 3 {
		t.Errorf("ignoreCache and an expired entry made %d requests in all, want 3", hits.Load())
	}
	if _, err := f.Resolve(t.Context(), srv.URL+"/broken", false); !errors.Is(err, fosite.ErrInvalidClient) {
		t.Errorf("Resolve of a failing jwks_uri = %v, want invalid_client", err)
	}
}

// mustJWKS is a JWK Set of one new P-256 key "k1", public unless private.
func mustJWKS(t testing.TB, private bool) json.RawMessage {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	var k any = &key.PublicKey
	if private {
		k = key
	}
	raw, err := json.Marshal(jose.JSONWebKeySet{Keys: []jose.JSONWebKey{{Key: k, KeyID: "k1", Algorithm: "ES256", Use: "sig"}}})
	if err != nil {
		t.Fatal(err)
	}
	return raw
}
