package oidc

// This file is the only one that imports go-jose v3: fosite's interfaces
// name its types (OpenIDConnectClient.GetJSONWebKeys, the JWKS fetcher).
// Everything else keeps a client's JWK Set as the JSON it was registered
// with, and signs with go-jose v4.

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"sync"
	"time"

	jose "github.com/go-jose/go-jose/v3"
	"github.com/ory/fosite"

	"gatehouse/identity/egress"
)

// Bounds of the client JWKS cache.
const (
	jwksCacheTTL     = 5 * time.Minute
	jwksCacheEntries = 1000
)

// jwksFetcher resolves a private_key_jwt client's jwks_uri (RFC 7523 §3,
// OpenID Connect Core §9) for fosite. It replaces fosite's default, whose
// HTTP client would connect anywhere: the fetch goes through the egress
// client, so a jwks_uri on a loopback or private address is never
// requested, and every failure is the client's, answered invalid_client.
type jwksFetcher struct {
	client *egress.Client
	now    func() time.Time

	mu    sync.Mutex
	cache map[string]cachedJWKS
}

type cachedJWKS struct {
	set     *jose.JSONWebKeySet
	fetched time.Time
}

var _ fosite.JWKSFetcherStrategy = (*jwksFetcher)(nil)

func newJWKSFetcher(client *egress.Client) *jwksFetcher {
	if client == nil {
		client = egress.New(egress.Options{})
	}
	return &jwksFetcher{client: client, now: time.Now, cache: map[string]cachedJWKS{}}
}

// Resolve implements fosite.JWKSFetcherStrategy. fosite asks again with
// ignoreCache when the cached set lacks the assertion's key, which picks
// up a client's key rotation.
func (f *jwksFetcher) Resolve(ctx context.Context, location string, ignoreCache bool) (*jose.JSONWebKeySet, error) {
	now := f.now()
	if !ignoreCache {
		f.mu.Lock()
		e, ok := f.cache[location]
		f.mu.Unlock()
		if ok && now.Sub(e.fetched) < jwksCacheTTL {
			return e.set, nil
		}
	}
	set, err := f.fetch(ctx, location)
	if errors.Is(err, egress.ErrForbiddenDestination) {
		return nil, fosite.ErrInvalidClient.WithHint("The client's jwks_uri is not an allowed destination.").WithWrap(err)
	}
	if err != nil {
		return nil, fosite.ErrInvalidClient.WithHint("The client's JSON Web Key Set could not be fetched from its jwks_uri.").WithWrap(err)
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	if len(f.cache) >= jwksCacheEntries {
		for k, e := range f.cache {
			if now.Sub(e.fetched) >= jwksCacheTTL {
				delete(f.cache, k)
			}
		}
		if len(f.cache) >= jwksCacheEntries {
			clear(f.cache)
		}
	}
	f.cache[location] = cachedJWKS{set: set, fetched: now}
	return set, nil
}

func (f *jwksFetcher) fetch(ctx context.Context, location string) (*jose.JSONWebKeySet, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, location, nil)
	if err != nil {
		return nil, errors.New("oidc: jwks_uri: cannot build request")
	}
	req.Header.Set("Accept", "application/json, application/jwk-set+json")
	req.Header.Set("User-Agent", "Gatehouse")
	resp, err := f.client.Do(req)
	if err != nil {
		return nil, fmt.Errorf("oidc: jwks_uri: %w", err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		io.Copy(io.Discard, resp.Body)
		return nil, fmt.Errorf("oidc: jwks_uri: status %d", resp.StatusCode)
	}
	// The egress client caps the body.
	var set jose.JSONWebKeySet
	if err := json.NewDecoder(resp.Body).Decode(&set); err != nil {
		return nil, fmt.Errorf("oidc: jwks_uri: %w", err)
	}
	return &set, nil
}

// GetJSONWebKeys implements fosite.OpenIDConnectClient: the client's JWK
// Set by value, parsed from the registered JSON; nil when it has none (or
// an unusable one, which registration refuses).
func (c *Client) GetJSONWebKeys() *jose.JSONWebKeySet {
	if len(c.JWKS) == 0 {
		return nil
	}
	set, err := parseJWKS(c.JWKS)
	if err != nil {
		return nil
	}
	return set
}

// CheckJWKS returns an error, to be read after "jwks ", unless raw is a
// JWK Set of valid public keys, as a client's jwks must be.
func CheckJWKS(raw json.RawMessage) error {
	_, err := parseJWKS(raw)
	return err
}

func parseJWKS(raw json.RawMessage) (*jose.JSONWebKeySet, error) {
	var set jose.JSONWebKeySet
	if err := json.Unmarshal(raw, &set); err != nil {
		return nil, fmt.Errorf("is not a valid JWK Set: %v", err)
	}
	if len(set.Keys) == 0 {
		return nil, errors.New("has no keys")
	}
	for i := range set.Keys {
		if !set.Keys[i].Valid() || !set.Keys[i].IsPublic() {
			return nil, fmt.Errorf("key %d is not a valid public key", i)
		}
	}
	return &set, nil
}
