// Package oidc is Gatehouse's OpenID Provider: the fosite assembly, signing
// keys, OAuth clients, the login flow and every protocol and hosted-page
// handler.
//
// The authorization endpoint is the only dispatcher. fosite parses and
// validates each authorization request; the handler persists a Flow bound
// to the browser by a short-lived cookie, then sends the browser to the step
// the flow still needs (login, registration, consent). Each step updates the
// Flow and redirects back to the authorization endpoint with a MAC bound to
// the flow and the step; the dispatcher decides again what comes next and
// finally issues the response through fosite. Steps never redirect to each
// other, so prompt, max_age and SSO logic live in one place (authorize.go).
//
// Protocol errors are written only through fosite; hosted pages return
// errors to one error handler (errors.go) that renders a page.
package oidc
