package main

import (
	"crypto"
	"crypto/x509"
	_ "embed"
	"encoding/pem"
	"fmt"
	"net/url"
	"strings"
	"sync"

	"gatehouse/identity"
	"gatehouse/oidc"
)

// cheapHashParams make a password hash take well under a millisecond;
// identity tests the production parameters.
var cheapHashParams = identity.HashParams{Memory: 64, Iterations: 1, Parallelism: 1, SaltLength: 16, KeyLength: 32}

//go:embed testdata/signing-keys.pem
var signingKeysPEM []byte

// useTestParams makes the Apps of this process cheap to start: cheap
// password hashes, and RSA signing keys taken from testdata instead of
// generated (about 0.2 s of CPU each, two per server).
func useTestParams() {
	passwordHashParams = cheapHashParams
	pool := newKeyPool(signingKeysPEM)
	signingKeys = pool.forDatabase
}

// keyPool hands out pre-generated RSA keys. The keys of one database must
// differ (their IDs are their thumbprints), so each database takes them in
// turn from the first; past the last it gets generated ones. Tests on
// different databases share keys, which nothing observes: a token of one
// server is refused by another for its issuer.
type keyPool struct {
	keys []crypto.Signer
	mu   sync.Mutex
	next map[string]int // by database
}

func newKeyPool(pemData []byte) *keyPool {
	p := &keyPool{next: map[string]int{}}
	for {
		var block *pem.Block
		block, pemData = pem.Decode(pemData)
		if block == nil {
			break
		}
		key, err := x509.ParsePKCS8PrivateKey(block.Bytes)
		if err != nil {
			panic(fmt.Sprintf("testdata/signing-keys.pem: %v", err))
		}
		p.keys = append(p.keys, key.(crypto.Signer))
	}
	return p
}

func (p *keyPool) forDatabase(databaseURL string) func(algorithm string) (crypto.Signer, error) {
	db := databaseName(databaseURL)
	return func(algorithm string) (crypto.Signer, error) {
		if algorithm == "ES256" {
			return oidc.GenerateKey(algorithm) // cheap
		}
		p.mu.Lock()
		i := p.next[db]
		p.next[db]++
		p.mu.Unlock()
		if i >= len(p.keys) {
			return oidc.GenerateKey(algorithm)
		}
		return p.keys[i], nil
	}
}

// databaseName names the database of a URL whatever the way to it (a test
// may reach a PostgreSQL through a proxy on another port).
func databaseName(raw string) string {
	if path, ok := strings.CutPrefix(raw, "sqlite:"); ok {
		return path
	}
	if u, err := url.Parse(raw); err == nil {
		return u.Path
	}
	return raw
}
