// Package clientreg owns the rules for OAuth clients and the two ways
// they are made: dynamic client registration, RFC 7591 (a client
// registers itself with an initial access token) and RFC 7592 (it reads,
// updates and deletes its registration with the registration access token
// it got); and Admin, the client management of administrators (list,
// get, create, update, rotate the secret, delete), which the command line
// and the admin API both call, so that no rule lives in either.
//
// Metadata is the client's registration document, validated by the same
// rules on both ways, so a client is held to them however it was made;
// only an administrator may let a client ask for the admin API's scopes.
// Admin checks the actor's permissions (clients:read, clients:write)
// first and commits every change in one transaction with its audit entry.
// Clients are stored through oidc.ClientStore; the protocol endpoints in
// package oidc see them through the provider's client cache, which is
// told to forget a client that changed.
package clientreg
