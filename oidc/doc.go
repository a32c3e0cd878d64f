// Package oidc is Gatehouse's OpenID Provider: the fosite assembly,
// signing keys, OAuth clients, browser sessions, and the protocol
// endpoints (discovery, JWKS, authorization, token, userinfo, revocation,
// introspection, logout).
//
// The interactive part of the authorization endpoint, the sign-in flow
// with its steps, is package authflow's (see SignIn): the endpoint
// parses and checks each request with fosite, the flow decides what the
// user must still do, and the endpoint issues the response through fosite
// once nothing is left. Dynamic client registration is package
// clientreg's, the recovery pages package recovery's, the account pages
// package account's.
//
// Gatehouse's own bearer-protected APIs check access tokens here, in
// process (Provider.VerifyAccessToken, BearerToken, BearerChallenge).
// The permissions of identity/access are also scopes, admin scopes, which
// only an administrator allows a client and which a user's token carries
// only as far as the user's roles go (scopes_admin.go).
//
// Protocol errors are written only through fosite; hosted pages return
// errors to one error handler (errors.go) that renders a page.
package oidc
