package main

import (
	"crypto"

	"gatehouse/config"
	"gatehouse/identity"
)

// What every App is built with, beyond its configuration. These are
// variables only so that this package's tests can make a server cheap to
// start (see TestMain); the production values keep their own tests in
// identity and oidc.
var (
	// passwordHashParams are the argon2id parameters of new password
	// hashes (a stored hash names its own, so any hash still verifies).
	passwordHashParams = identity.DefaultHashParams
	// signingKeys, when set, gives the App opened on the database at
	// databaseURL its maker of new signing keys; nil generates them.
	signingKeys func(databaseURL string) func(algorithm string) (crypto.Signer, error)
)

// newSigningKey is the maker of new signing keys of an App on cfg's
// database; nil makes oidc.Keys generate them.
func newSigningKey(cfg *config.Config) func(algorithm string) (crypto.Signer, error) {
	if signingKeys == nil {
		return nil
	}
	return signingKeys(cfg.Database.URL.Reveal())
}
