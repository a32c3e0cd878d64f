// Package clientreg serves dynamic client registration: RFC 7591 (a
// client registers itself with an initial access token) and RFC 7592 (it
// reads, updates and deletes its registration with the registration
// access token it got).
//
// Metadata is the client's registration document. The admin CLI validates
// the clients it creates with the same rules, so a client is held to them
// however it was made. Registered clients are stored through
// oidc.ClientStore; the protocol endpoints in package oidc see them
// through the provider's client cache, which is told to forget a client
// whose registration changed.
package clientreg
