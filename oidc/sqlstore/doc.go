// Package sqlstore is the gorm storage behind the provider: fosite's codes,
// tokens, PKCE and OpenID Connect request state, clients, login flows,
// browser sessions, consents and signing keys, on PostgreSQL and SQLite
// with the same code.
//
// A transaction begun by fosite (storage.Transactional) travels in the
// context; every method uses it when present, so multi-row changes such as
// a code redemption or a refresh rotation commit or roll back together.
package sqlstore
