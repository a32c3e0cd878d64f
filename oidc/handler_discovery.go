package oidc

import (
	"encoding/json"
	"net/http"
	"slices"

	"github.com/labstack/echo/v4"

	"gatehouse/identity/mfa"
)

// buildDiscovery serialises the OpenID Provider metadata (OIDC Discovery
// §3, RFC 8414) once; it changes only with configuration.
func (h *Handler) buildDiscovery() []byte {
	iss := h.Provider.Issuer
	authMethods := []string{AuthMethodBasic, AuthMethodPost, AuthMethodPrivateKeyJWT, AuthMethodNone}
	confidentialMethods := []string{AuthMethodBasic, AuthMethodPost, AuthMethodPrivateKeyJWT}
	prompts := []string{"none", "login", "consent", "select_account"}
	if h.SelfSignup {
		prompts = append(prompts, "create")
	}
	doc := map[string]interface{}{
		"issuer":                                           iss,
		"authorization_endpoint":                           iss + PathAuthorize,
		"token_endpoint":                                   iss + PathToken,
		"userinfo_endpoint":                                iss + PathUserinfo,
		"jwks_uri":                                         iss + PathJWKS,
		"revocation_endpoint":                              iss + PathRevoke,
		"introspection_endpoint":                           iss + PathIntrospect,
		"end_session_endpoint":                             iss + PathEndSession,
		"scopes_supported":                                 SupportedScopes,
		"claims_supported":                                 append(slices.Clone(SupportedClaims), h.rolesClaim()),
		"response_types_supported":                         []string{"code"},
		"response_modes_supported":                         []string{"query", "form_post"},
		"grant_types_supported":                            []string{"authorization_code", "refresh_token", "client_credentials"},
		"subject_types_supported":                          []string{"public"},
		"id_token_signing_alg_values_supported":            []string{h.Provider.Keys.Algorithm},
		"userinfo_signing_alg_values_supported":            []string{"none"},
		"token_endpoint_auth_methods_supported":            authMethods,
		"token_endpoint_auth_signing_alg_values_supported": []string{"RS256", "ES256"},
		"revocation_endpoint_auth_methods_supported":       authMethods,
		"introspection_endpoint_auth_methods_supported":    confidentialMethods,
		"code_challenge_methods_supported":                 []string{"S256"},
		"prompt_values_supported":                          prompts,
		"claims_parameter_supported":                       false,
		"request_parameter_supported":                      false,
		"request_uri_parameter_supported":                  false,
		"require_request_uri_registration":                 false,
		"authorization_response_iss_parameter_supported":   true,
		"frontchannel_logout_supported":                    false,
		"backchannel_logout_supported":                     true,
		"backchannel_logout_session_supported":             true,
		// What the ID token's acr can say, and what acr_values enforces
		// (identity/mfa): one factor, two, a passkey, a hardware passkey.
		"acr_values_supported": []string{mfa.ACRSingleFactor, mfa.ACRMultiFactor,
			mfa.ACRPhishingResistant, mfa.ACRPhishingResistantHardware},
		"ui_locales_supported": []string{"en"},
	}
	if h.RegistrationEnabled {
		doc["registration_endpoint"] = iss + PathClientRegistration
	}
	body, err := json.Marshal(doc)
	if err != nil {
		panic("oidc: discovery document does not encode: " + err.Error())
	}
	return body
}

var (
	jsonType       = []string{echo.MIMEApplicationJSON}
	jwksType       = []string{"application/jwk-set+json"}
	discoveryCache = []string{"public, max-age=3600"}
)

// serveDiscovery and serveJWKS write pre-serialised bytes with header
// values built once: they are the most requested endpoints of all.
func (h *Handler) serveDiscovery(c echo.Context) error {
	hdr := c.Response().Header()
	hdr["Cache-Control"] = discoveryCache
	hdr["Content-Type"] = jsonType
	c.Response().WriteHeader(http.StatusOK)
	_, err := c.Response().Write(h.discovery)
	return err
}

func (h *Handler) serveJWKS(c echo.Context) error {
	body, etag := h.Provider.Keys.JWKS()
	hdr := c.Response().Header()
	hdr["Cache-Control"] = h.jwksCache
	hdr["Etag"] = []string{etag}
	if c.Request().Header.Get("If-None-Match") == etag {
		return c.NoContent(http.StatusNotModified)
	}
	hdr["Content-Type"] = jwksType
	c.Response().WriteHeader(http.StatusOK)
	_, err := c.Response().Write(body)
	return err
}
