package clientreg

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"net/url"
	"slices"
	"strings"
	"unicode/utf8"

	"gatehouse/identity/egress"
	"gatehouse/oidc"
)

// Registration error codes (RFC 7591 §3.2.2).
const (
	codeInvalidRedirectURI    = "invalid_redirect_uri"
	codeInvalidClientMetadata = "invalid_client_metadata"
)

// maxClientNameLen bounds client_name, in characters.
const maxClientNameLen = 200

// supportedGrantTypes are the grants the provider implements.
var supportedGrantTypes = []string{"authorization_code", "refresh_token", "client_credentials"}

// supportedSigningAlgs are the JWS algorithms accepted for private_key_jwt
// client assertions; symmetric and "none" are not.
var supportedSigningAlgs = []string{"RS256", "RS384", "RS512", "PS256", "PS384", "PS512", "ES256", "ES384", "ES512"}

// Metadata is a client's RFC 7591 metadata (oidc.ClientMetadata) under
// the registration rules: dynamic registration and the admin CLI both
// validate it with Validate, so a client is held to the same rules however
// it was created. It is the same document, not a copy: Apply and
// MetadataOf convert, field for field by the language, not by hand.
type Metadata oidc.ClientMetadata

// MetadataError is a rejected registration, answered as RFC 7591 §3.2.2
// describes.
type MetadataError struct {
	Code        string `json:"error"`
	Description string `json:"error_description"`
	// Field is the JSON name of the metadata field at fault
	// ("redirect_uris", "grant_types", …), for an answer that points at
	// it; empty when the problem is not one field's. RFC 7591 has no
	// place for it, so it is not encoded.
	Field string `json:"-"`
}

func (e *MetadataError) Error() string { return e.Code + ": " + e.Description }

func invalidMetadata(format string, args ...any) *MetadataError {
	return &MetadataError{Code: codeInvalidClientMetadata, Description: fmt.Sprintf(format, args...)}
}

// invalidField is invalidMetadata about one field.
func invalidField(field, format string, args ...any) *MetadataError {
	return &MetadataError{Code: codeInvalidClientMetadata, Description: fmt.Sprintf(format, args...), Field: field}
}

func invalidRedirect(field, format string, args ...any) *MetadataError {
	return &MetadataError{Code: codeInvalidRedirectURI, Description: fmt.Sprintf(format, args...), Field: field}
}

// Validate is ValidateFor under the strict outbound policy: the URLs the
// server calls must be https and outside loopback and private networks.
func (m *Metadata) Validate() error {
	return m.ValidateFor(egress.Policy{})
}

// ValidateFor fills in the defaults RFC 7591 §2 and OIDC Registration §2
// give for omitted fields, then checks m against what the provider
// supports and the URLs the server will call (jwks_uri,
// backchannel_logout_uri) against outbound. It returns a *MetadataError
// naming the first problem.
func (m *Metadata) ValidateFor(outbound egress.Policy) error {
	m.setDefaults()
	checks := []func() *MetadataError{
		m.validateApplicationType,
		m.validateTokenFormat,
		m.validateGrants,
		m.validateAuthMethod,
		m.validateScope,
		m.validateRedirects,
		m.validateURLs,
		func() *MetadataError { return m.validateOutboundURLs(outbound) },
		m.validateNames,
	}
	for _, check := range checks {
		if err := check(); err != nil {
			return err
		}
	}
	return nil
}

func (m *Metadata) setDefaults() {
	if len(m.GrantTypes) == 0 {
		m.GrantTypes = []string{"authorization_code"}
	}
	if len(m.ResponseTypes) == 0 {
		// RFC 7591 §2: the default is "code", which only makes sense with
		// the authorization_code grant.
		m.ResponseTypes = []string{}
		if slices.Contains(m.GrantTypes, "authorization_code") {
			m.ResponseTypes = []string{"code"}
		}
	}
	if m.TokenEndpointAuthMethod == "" {
		m.TokenEndpointAuthMethod = oidc.AuthMethodBasic
	}
	if m.ApplicationType == "" {
		m.ApplicationType = oidc.AppTypeWeb
	}
	if strings.TrimSpace(m.Scope) == "" {
		m.Scope = "openid"
	}
	if m.AccessTokenFormat == "" {
		m.AccessTokenFormat = oidc.TokenFormatOpaque
	}
	if isNullJSON(m.JWKS) {
		m.JWKS = nil
	}
}

func (m *Metadata) validateApplicationType() *MetadataError {
	if m.ApplicationType != oidc.AppTypeWeb && m.ApplicationType != oidc.AppTypeNative {
		return invalidField("application_type", "application_type %q is not supported; use %q or %q", m.ApplicationType, oidc.AppTypeWeb, oidc.AppTypeNative)
	}
	return nil
}

func (m *Metadata) validateTokenFormat() *MetadataError {
	if m.AccessTokenFormat != oidc.TokenFormatOpaque && m.AccessTokenFormat != oidc.TokenFormatJWT {
		return invalidField("access_token_format", "access_token_format %q is not supported; use %q or %q", m.AccessTokenFormat, oidc.TokenFormatOpaque, oidc.TokenFormatJWT)
	}
	return nil
}

// validateGrants checks grant and response types and that they agree
// (RFC 7591 §2.1).
func (m *Metadata) validateGrants() *MetadataError {
	for _, g := range m.GrantTypes {
		if !slices.Contains(supportedGrantTypes, g) {
			return invalidField("grant_types", "grant_type %q is not supported", g)
		}
	}
	for _, r := range m.ResponseTypes {
		if r != "code" {
			return invalidField("response_types", "response_type %q is not supported; only \"code\" is", r)
		}
	}
	code := slices.Contains(m.GrantTypes, "authorization_code")
	if code && !slices.Contains(m.ResponseTypes, "code") {
		return invalidField("response_types", "grant_type \"authorization_code\" requires response_type \"code\"")
	}
	if !code && len(m.ResponseTypes) > 0 {
		return invalidField("grant_types", "response_type \"code\" requires grant_type \"authorization_code\"")
	}
	return nil
}

func (m *Metadata) validateAuthMethod() *MetadataError {
	switch m.TokenEndpointAuthMethod {
	case oidc.AuthMethodBasic, oidc.AuthMethodPost, oidc.AuthMethodPrivateKeyJWT:
	case oidc.AuthMethodNone:
		// RFC 6749 §4.4.2: the client credentials grant needs a client
		// that can authenticate.
		if slices.Contains(m.GrantTypes, "client_credentials") {
			return invalidField("token_endpoint_auth_method", "token_endpoint_auth_method \"none\" cannot be used with grant_type \"client_credentials\"")
		}
	default:
		return invalidField("token_endpoint_auth_method", "token_endpoint_auth_method %q is not supported", m.TokenEndpointAuthMethod)
	}
	if alg := m.TokenEndpointAuthSigningAlg; alg != "" && !slices.Contains(supportedSigningAlgs, alg) {
		return invalidField("token_endpoint_auth_signing_alg", "token_endpoint_auth_signing_alg %q is not supported", alg)
	}
	// OIDC Registration §2: jwks and jwks_uri MUST NOT be used together.
	if m.JWKS != nil && m.JWKSURI != "" {
		return invalidField("jwks", "jwks and jwks_uri cannot both be given")
	}
	if m.TokenEndpointAuthMethod == oidc.AuthMethodPrivateKeyJWT && m.JWKS == nil && m.JWKSURI == "" {
		return invalidField("jwks", "token_endpoint_auth_method \"private_key_jwt\" requires jwks or jwks_uri")
	}
	if m.JWKS != nil {
		if err := parseJWKS(m.JWKS); err != nil {
			return err
		}
	}
	return nil
}

// parseJWKS checks a JWK Set that must hold only valid public keys.
func parseJWKS(raw json.RawMessage) *MetadataError {
	if err := oidc.CheckJWKS(raw); err != nil {
		return invalidField("jwks", "jwks %v", err)
	}
	return nil
}

// validateScope checks each scope and normalises the list: single spaces,
// no duplicates. Admin scopes pass here, where an administrator creates
// the client; dynamic registration refuses them (RefuseAdminScopes).
func (m *Metadata) validateScope() *MetadataError {
	var scopes []string
	for _, s := range strings.Fields(m.Scope) {
		if !slices.Contains(oidc.SupportedScopes, s) && !oidc.IsAdminScope(s) {
			return invalidField("scope", "scope %q is not supported", s)
		}
		if !slices.Contains(scopes, s) {
			scopes = append(scopes, s)
		}
	}
	m.Scope = strings.Join(scopes, " ")
	return nil
}

// RefuseAdminScopes refuses metadata that asks for an admin scope
// (oidc.AdminScopes): whoever holds the registration's initial access
// token must not be able to give a client of their own the power to act
// as an administrator. Only an administrator allows a client those.
func (m *Metadata) RefuseAdminScopes() *MetadataError {
	for _, s := range strings.Fields(m.Scope) {
		if oidc.IsAdminScope(s) {
			return invalidField("scope", "scope %q can only be allowed by an administrator, not through dynamic registration", s)
		}
	}
	return nil
}

func (m *Metadata) validateRedirects() *MetadataError {
	if slices.Contains(m.GrantTypes, "authorization_code") && len(m.RedirectURIs) == 0 {
		return invalidRedirect("redirect_uris", "redirect_uris is required for grant_type \"authorization_code\"")
	}
	for _, u := range m.RedirectURIs {
		if err := checkRedirectURI(u, m.ApplicationType); err != nil {
			return invalidRedirect("redirect_uris", "redirect_uri %q %s", u, err)
		}
	}
	for _, u := range m.PostLogoutRedirectURIs {
		if err := checkRedirectURI(u, m.ApplicationType); err != nil {
			return invalidRedirect("post_logout_redirect_uris", "post_logout_redirect_uri %q %s", u, err)
		}
	}
	return nil
}

// checkRedirectURI applies RFC 6749 §3.1.2 and, for native clients,
// RFC 8252 §7. The error completes a sentence about the URI.
func checkRedirectURI(raw, appType string) error {
	u, err := url.Parse(raw)
	switch {
	case err != nil:
		return fmt.Errorf("is not a valid URI")
	case !u.IsAbs():
		return fmt.Errorf("must be absolute")
	case strings.Contains(raw, "#"):
		return fmt.Errorf("must not contain a fragment")
	case u.User != nil:
		return fmt.Errorf("must not contain user information")
	}
	scheme := strings.ToLower(u.Scheme)
	switch {
	case scheme == "https" && u.Host != "":
		return nil
	case scheme == "http" && isLoopback(u):
		// RFC 8252 §7.3 for native apps; local development for web ones.
		return nil
	case appType == oidc.AppTypeNative && strings.Contains(scheme, "."):
		// RFC 8252 §7.1: a private-use scheme in reverse domain notation.
		return nil
	case appType == oidc.AppTypeNative:
		return fmt.Errorf("must use https, http on a loopback address, or a private-use scheme such as com.example.app")
	default:
		return fmt.Errorf("must use https (http only for localhost)")
	}
}

func isLoopback(u *url.URL) bool {
	switch u.Hostname() {
	case "localhost", "127.0.0.1", "::1":
		return true
	}
	return false
}

// validateURLs checks the URLs a client publishes for browsers: they are
// shown to users, so only https (or http on loopback for development).
func (m *Metadata) validateURLs() *MetadataError {
	for _, f := range []struct{ name, value string }{
		{"client_uri", m.ClientURI},
		{"logo_uri", m.LogoURI},
	} {
		if f.value == "" {
			continue
		}
		u, err := url.Parse(f.value)
		if err != nil || !u.IsAbs() || u.User != nil || u.Host == "" {
			return invalidField(f.name, "%s %q is not a valid absolute URL", f.name, f.value)
		}
		scheme := strings.ToLower(u.Scheme)
		if scheme != "https" && (scheme != "http" || !isLoopback(u)) {
			return invalidField(f.name, "%s %q must use https", f.name, f.value)
		}
		if u.Fragment != "" || strings.Contains(f.value, "#") {
			return invalidField(f.name, "%s %q must not have a fragment", f.name, f.value)
		}
	}
	return nil
}

// validateOutboundURLs checks the URLs the server itself calls. Whoever
// registers them chooses where the server connects, so they follow the
// outbound rules (https, no loopback or private address literal), which
// egress applies again, after DNS resolution, at every call.
func (m *Metadata) validateOutboundURLs(outbound egress.Policy) *MetadataError {
	for _, f := range []struct{ name, value string }{
		{"jwks_uri", m.JWKSURI},
		{"backchannel_logout_uri", m.BackchannelLogoutURI},
	} {
		if f.value == "" {
			continue
		}
		u, err := url.Parse(f.value)
		if err != nil || !u.IsAbs() || u.Host == "" {
			return invalidField(f.name, "%s %q is not a valid absolute URL", f.name, f.value)
		}
		var ferr *egress.ForbiddenError
		if err := outbound.CheckURL(f.value); errors.As(err, &ferr) {
			return invalidField(f.name, "%s %q is not an allowed destination: %s", f.name, f.value, ferr.Reason)
		} else if err != nil {
			return invalidField(f.name, "%s %q is not an allowed destination", f.name, f.value)
		}
		if u.Fragment != "" || strings.Contains(f.value, "#") {
			return invalidField(f.name, "%s %q must not have a fragment", f.name, f.value)
		}
	}
	return nil
}

func (m *Metadata) validateNames() *MetadataError {
	if utf8.RuneCountInString(m.ClientName) > maxClientNameLen {
		return invalidField("client_name", "client_name is longer than %d characters", maxClientNameLen)
	}
	for _, c := range m.Contacts {
		if strings.TrimSpace(c) == "" {
			return invalidField("contacts", "contacts must not contain empty entries")
		}
	}
	return nil
}

// Apply copies validated metadata onto c. It leaves the client's ID,
// secret, registration token, audience, first-party flag and timestamps
// alone. Call Validate first.
func (m *Metadata) Apply(c *oidc.Client) {
	c.ClientMetadata = m.clone()
}

// MetadataOf returns c's metadata, for echoing it back to the client.
func MetadataOf(c *oidc.Client) Metadata {
	m := Metadata(c.ClientMetadata)
	md := m.clone()
	md.GrantTypes, md.ResponseTypes = nonNil(md.GrantTypes), nonNil(md.ResponseTypes)
	return Metadata(md)
}

// clone is a deep copy of m, so that a client and the document it came
// from or goes to share no slices.
func (m *Metadata) clone() oidc.ClientMetadata {
	c := oidc.ClientMetadata(*m)
	c.RedirectURIs = slices.Clone(m.RedirectURIs)
	c.PostLogoutRedirectURIs = slices.Clone(m.PostLogoutRedirectURIs)
	c.GrantTypes = slices.Clone(m.GrantTypes)
	c.ResponseTypes = slices.Clone(m.ResponseTypes)
	c.Contacts = slices.Clone(m.Contacts)
	c.JWKS = slices.Clone(m.JWKS)
	return c
}

// nonNil copies s so that it encodes as [] rather than null: RFC 7591
// §3.2.1 wants every registered value echoed, and an absent
// response_types would read as the default "code".
func nonNil(s []string) []string {
	if s == nil {
		return []string{}
	}
	return slices.Clone(s)
}

func isNullJSON(raw json.RawMessage) bool {
	t := bytes.TrimSpace(raw)
	return len(t) == 0 || bytes.Equal(t, []byte("null"))
}
