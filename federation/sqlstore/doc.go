// Package sqlstore is the gorm implementation of federation's stores
// (PostgreSQL and SQLite): the links of upstream identities to local
// users, in federation_links (migrations/*/00021_federation_links.sql).
package sqlstore
