// Package identity is the domain root of Gatehouse's user store: users,
// their passwords and the rules that govern them.
//
// Storage sits behind small interfaces declared here (UserStore) and
// implemented in identity/sqlstore; identity/identitytest holds the one
// conformance suite every implementation runs. Services in this package
// (Service) apply the rules: normalisation, uniqueness, the password policy
// and argon2id hashing, so that callers never touch a hash.
package identity
