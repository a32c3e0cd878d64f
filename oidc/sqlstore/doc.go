// Package sqlstore is the gorm storage behind the provider: fosite's codes,
// tokens, PKCE and OpenID Connect request state, clients, login flows,
// browser sessions, consents and signing keys, on PostgreSQL and SQLite
// with the same code.
//
// It is one type per concern, each constructed over the shared *gorm.DB:
// Tokens (fosite's storage), Clients, Flows, BrowserSessions, Consents,
// SigningKeys, and Purge (every table's expiry, as janitor tasks). Tokens
// reads clients back through a lookup it is given (the provider's cache
// over Clients), so the parts are built in that order and none refers to
// another.
//
// A transaction begun by fosite (storage.Transactional) travels in the
// context (migrations/dbtx); every method of every part uses it when
// present, so multi-row changes such as a code redemption or a refresh
// rotation commit or roll back together.
package sqlstore
