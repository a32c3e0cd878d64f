package clientreg

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"encoding/json"
	"errors"
	"strings"
	"testing"

	jose "github.com/go-jose/go-jose/v3"
	"github.com/google/go-cmp/cmp"

	"gatehouse/oidc"
)

func mustJWKS(t testing.TB, private bool) json.RawMessage {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	var k any = &key.PublicKey
	if private {
		k = key
	}
	raw, err := json.Marshal(jose.JSONWebKeySet{Keys: []jose.JSONWebKey{{Key: k, KeyID: "k1", Algorithm: "ES256", Use: "sig"}}})
	if err != nil {
		t.Fatal(err)
	}
	return raw
}

func TestMetadataValidate(t *testing.T) {
	web := []string{"https://app.example.com/cb"}
	publicJWKS, privateJWKS := mustJWKS(t, false), mustJWKS(t, true)
	tests := []struct {
		name     string
		in       Metadata
		want     Metadata // when wantCode is empty
		wantCode string
		wantDesc string // a substring of the error description
	}{
		{
			name: "defaults",
			in:   Metadata{RedirectURIs: web},
			want: Metadata{
				RedirectURIs: web, GrantTypes: []string{"authorization_code"}, ResponseTypes: []string{"code"},
				TokenEndpointAuthMethod: oidc.AuthMethodBasic, ApplicationType: oidc.AppTypeWeb, Scope: "openid",
				AccessTokenFormat: oidc.TokenFormatOpaque,
			},
		},
		{
			name: "client credentials has no response types or redirects",
			in:   Metadata{GrantTypes: []string{"client_credentials"}, Scope: "profile", AccessTokenFormat: oidc.TokenFormatJWT},
			want: Metadata{
				GrantTypes: []string{"client_credentials"}, ResponseTypes: []string{},
				TokenEndpointAuthMethod: oidc.AuthMethodBasic, ApplicationType: oidc.AppTypeWeb, Scope: "profile",
				AccessTokenFormat: oidc.TokenFormatJWT,
			},
		},
		{
			name: "scope normalised",
			in:   Metadata{RedirectURIs: web, Scope: " openid  email openid offline_access", GrantTypes: []string{"authorization_code", "refresh_token"}},
			want: Metadata{
				RedirectURIs: web, GrantTypes: []string{"authorization_code", "refresh_token"}, ResponseTypes: []string{"code"},
				TokenEndpointAuthMethod: oidc.AuthMethodBasic, ApplicationType: oidc.AppTypeWeb, Scope: "openid email offline_access",
				AccessTokenFormat: oidc.TokenFormatOpaque,
			},
		},
		{
			// An administrator may allow admin scopes (the CLI validates
			// with these rules); registration refuses them apart.
			name: "admin scopes",
			in:   Metadata{GrantTypes: []string{"client_credentials"}, Scope: "users:read users:write"},
			want: Metadata{
				GrantTypes: []string{"client_credentials"}, ResponseTypes: []string{},
				TokenEndpointAuthMethod: oidc.AuthMethodBasic, ApplicationType: oidc.AppTypeWeb, Scope: "users:read users:write",
				AccessTokenFormat: oidc.TokenFormatOpaque,
			},
		},
		{
			name: "native public client with loopback and private-use scheme",
			in: Metadata{
				ApplicationType: oidc.AppTypeNative, TokenEndpointAuthMethod: oidc.AuthMethodNone,
				RedirectURIs: []string{"http://127.0.0.1:8400/cb", "http://[::1]/cb", "http://localhost/cb", "com.example.app:/cb"},
			},
			want: Metadata{
				RedirectURIs: []string{"http://127.0.0.1:8400/cb", "http://[::1]/cb", "http://localhost/cb", "com.example.app:/cb"},
				GrantTypes:   []string{"authorization_code"}, ResponseTypes: []string{"code"},
				TokenEndpointAuthMethod: oidc.AuthMethodNone, ApplicationType: oidc.AppTypeNative, Scope: "openid",
				AccessTokenFormat: oidc.TokenFormatOpaque,
			},
		},
		{
			name: "private_key_jwt with jwks",
			in:   Metadata{RedirectURIs: web, TokenEndpointAuthMethod: oidc.AuthMethodPrivateKeyJWT, TokenEndpointAuthSigningAlg: "ES256", JWKS: publicJWKS},
			want: Metadata{
				RedirectURIs: web, GrantTypes: []string{"authorization_code"}, ResponseTypes: []string{"code"},
				TokenEndpointAuthMethod: oidc.AuthMethodPrivateKeyJWT, TokenEndpointAuthSigningAlg: "ES256", JWKS: publicJWKS,
				ApplicationType: oidc.AppTypeWeb, Scope: "openid", AccessTokenFormat: oidc.TokenFormatOpaque,
			},
		},
		{
			name: "web localhost http allowed for development",
			in:   Metadata{RedirectURIs: []string{"http://localhost:3000/cb"}, PostLogoutRedirectURIs: []string{"https://app.example.com/"}},
			want: Metadata{
				RedirectURIs: []string{"http://localhost:3000/cb"}, PostLogoutRedirectURIs: []string{"https://app.example.com/"},
				GrantTypes: []string{"authorization_code"}, ResponseTypes: []string{"code"},
				TokenEndpointAuthMethod: oidc.AuthMethodBasic, ApplicationType: oidc.AppTypeWeb, Scope: "openid",
				AccessTokenFormat: oidc.TokenFormatOpaque,
			},
		},

		{name: "redirect required for code", in: Metadata{}, wantCode: codeInvalidRedirectURI},
		{name: "web http non-loopback", in: Metadata{RedirectURIs: []string{"http://app.example.com/cb"}}, wantCode: codeInvalidRedirectURI, wantDesc: "https"},
		{name: "fragment", in: Metadata{RedirectURIs: []string{"https://app.example.com/cb#x"}}, wantCode: codeInvalidRedirectURI, wantDesc: "fragment"},
		{name: "relative", in: Metadata{RedirectURIs: []string{"/cb"}}, wantCode: codeInvalidRedirectURI, wantDesc: "absolute"},
		{name: "userinfo", in: Metadata{RedirectURIs: []string{"https://u:p@app.example.com/cb"}}, wantCode: codeInvalidRedirectURI},
		{name: "https without host", in: Metadata{RedirectURIs: []string{"https:/cb"}}, wantCode: codeInvalidRedirectURI},
		{name: "custom scheme for web", in: Metadata{RedirectURIs: []string{"com.example.app:/cb"}}, wantCode: codeInvalidRedirectURI},
		{name: "native scheme without dot", in: Metadata{ApplicationType: oidc.AppTypeNative, RedirectURIs: []string{"myapp:/cb"}}, wantCode: codeInvalidRedirectURI},
		{name: "native javascript scheme", in: Metadata{ApplicationType: oidc.AppTypeNative, RedirectURIs: []string{"javascript:alert(1)"}}, wantCode: codeInvalidRedirectURI},
		{name: "native http non-loopback", in: Metadata{ApplicationType: oidc.AppTypeNative, RedirectURIs: []string{"http://192.168.1.2/cb"}}, wantCode: codeInvalidRedirectURI},
		{name: "bad post logout redirect", in: Metadata{RedirectURIs: web, PostLogoutRedirectURIs: []string{"http://evil.example/"}}, wantCode: codeInvalidRedirectURI, wantDesc: "post_logout_redirect_uri"},

		{name: "unsupported grant", in: Metadata{RedirectURIs: web, GrantTypes: []string{"authorization_code", "password"}}, wantCode: codeInvalidClientMetadata, wantDesc: `"password"`},
		{name: "implicit response type", in: Metadata{RedirectURIs: web, ResponseTypes: []string{"code", "id_token"}}, wantCode: codeInvalidClientMetadata, wantDesc: "id_token"},
		{name: "code response without code grant", in: Metadata{GrantTypes: []string{"client_credentials"}, ResponseTypes: []string{"code"}}, wantCode: codeInvalidClientMetadata},
		{name: "none with client credentials", in: Metadata{GrantTypes: []string{"client_credentials"}, TokenEndpointAuthMethod: oidc.AuthMethodNone}, wantCode: codeInvalidClientMetadata},
		{name: "unsupported auth method", in: Metadata{RedirectURIs: web, TokenEndpointAuthMethod: "client_secret_jwt"}, wantCode: codeInvalidClientMetadata},
		{name: "private_key_jwt without keys", in: Metadata{RedirectURIs: web, TokenEndpointAuthMethod: oidc.AuthMethodPrivateKeyJWT}, wantCode: codeInvalidClientMetadata},
		{name: "private_key_jwt with null jwks", in: Metadata{RedirectURIs: web, TokenEndpointAuthMethod: oidc.AuthMethodPrivateKeyJWT, JWKS: json.RawMessage("null")}, wantCode: codeInvalidClientMetadata},
		{name: "jwks and jwks_uri", in: Metadata{RedirectURIs: web, TokenEndpointAuthMethod: oidc.AuthMethodPrivateKeyJWT, JWKS: publicJWKS, JWKSURI: "https://app.example.com/jwks"}, wantCode: codeInvalidClientMetadata},
		{name: "private key in jwks", in: Metadata{RedirectURIs: web, TokenEndpointAuthMethod: oidc.AuthMethodPrivateKeyJWT, JWKS: privateJWKS}, wantCode: codeInvalidClientMetadata},
		{name: "jwks_uri over http", in: Metadata{RedirectURIs: web, TokenEndpointAuthMethod: oidc.AuthMethodPrivateKeyJWT, JWKSURI: "http://app.example.com/jwks"}, wantCode: codeInvalidClientMetadata, wantDesc: "jwks_uri"},
		{name: "symmetric signing alg", in: Metadata{RedirectURIs: web, TokenEndpointAuthSigningAlg: "HS256"}, wantCode: codeInvalidClientMetadata},
		{name: "unknown scope", in: Metadata{RedirectURIs: web, Scope: "openid admin"}, wantCode: codeInvalidClientMetadata, wantDesc: `"admin"`},
		{name: "unknown permission", in: Metadata{RedirectURIs: web, Scope: "openid users:delete"}, wantCode: codeInvalidClientMetadata, wantDesc: `"users:delete"`},
		{name: "unknown application type", in: Metadata{RedirectURIs: web, ApplicationType: "desktop"}, wantCode: codeInvalidClientMetadata},
		{name: "unknown token format", in: Metadata{RedirectURIs: web, AccessTokenFormat: "paseto"}, wantCode: codeInvalidClientMetadata},
		{name: "logo over http", in: Metadata{RedirectURIs: web, LogoURI: "http://cdn.example.com/logo.png"}, wantCode: codeInvalidClientMetadata, wantDesc: "logo_uri"},
		{name: "long client name", in: Metadata{RedirectURIs: web, ClientName: strings.Repeat("é", 201)}, wantCode: codeInvalidClientMetadata, wantDesc: "client_name"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got := tc.in
			err := got.Validate()
			if tc.wantCode == "" {
				if err != nil {
					t.Fatalf("Validate() = %v, want nil", err)
				}
				if diff := cmp.Diff(tc.want, got); diff != "" {
					t.Errorf("Validate() mismatch (-want +got):\n%s", diff)
				}
				return
			}
			var merr *MetadataError
			if !errors.As(err, &merr) {
				t.Fatalf("Validate() = %v, want a *MetadataError", err)
			}
			if merr.Code != tc.wantCode || !strings.Contains(merr.Description, tc.wantDesc) {
				t.Errorf("Validate() = %q %q, want code %q with %q", merr.Code, merr.Description, tc.wantCode, tc.wantDesc)
			}
		})
	}
}

func TestMetadataApplyRoundTrip(t *testing.T) {
	in := Metadata{
		RedirectURIs: []string{"https://app.example.com/cb"}, PostLogoutRedirectURIs: []string{"https://app.example.com/"},
		GrantTypes: []string{"authorization_code", "refresh_token"}, TokenEndpointAuthMethod: oidc.AuthMethodPost,
		ClientName: "App", ClientURI: "https://app.example.com", LogoURI: "https://app.example.com/logo.png",
		Contacts: []string{"ops@example.com"}, Scope: "openid email offline_access", AccessTokenFormat: oidc.TokenFormatJWT,
	}
	if err := in.Validate(); err != nil {
		t.Fatal(err)
	}
	c := &oidc.Client{ID: "c1", SecretHash: []byte("h"), FirstParty: true}
	in.Apply(c)
	if diff := cmp.Diff([]string{"openid", "email", "offline_access"}, []string(c.GetScopes())); diff != "" {
		t.Errorf("Apply() scopes mismatch (-want +got):\n%s", diff)
	}
	if c.ID != "c1" || string(c.SecretHash) != "h" || !c.FirstParty {
		t.Errorf("Apply() changed the client's identity: %+v", c)
	}
	if diff := cmp.Diff(in, MetadataOf(c)); diff != "" {
		t.Errorf("MetadataOf(Apply()) mismatch (-want +got):\n%s", diff)
	}
}

func TestMetadataApplyJWKS(t *testing.T) {
	in := Metadata{RedirectURIs: []string{"https://app.example.com/cb"}, TokenEndpointAuthMethod: oidc.AuthMethodPrivateKeyJWT, JWKS: mustJWKS(t, false)}
	if err := in.Validate(); err != nil {
		t.Fatal(err)
	}
	var c oidc.Client
	in.Apply(&c)
	if keys := c.GetJSONWebKeys(); keys == nil || len(keys.Key("k1")) != 1 {
		t.Fatalf("Apply() JWKS = %s, want key k1", c.JWKS)
	}
	out := MetadataOf(&c)
	var set jose.JSONWebKeySet
	if err := json.Unmarshal(out.JWKS, &set); err != nil || len(set.Key("k1")) != 1 {
		t.Errorf("MetadataOf() JWKS = %s (%v), want key k1", out.JWKS, err)
	}
}

func TestRefuseAdminScopes(t *testing.T) {
	for _, tc := range []struct {
		scope    string
		wantDesc string // "" for no error
	}{
		{scope: "openid profile email phone address offline_access roles"},
		{scope: ""},
		{scope: "users:read", wantDesc: `"users:read"`},
		{scope: "openid clients:write", wantDesc: `"clients:write"`},
		{scope: "usage:read audit:read", wantDesc: `"usage:read"`},
	} {
		m := Metadata{Scope: tc.scope}
		err := m.RefuseAdminScopes()
		switch {
		case tc.wantDesc == "" && err != nil:
			t.Errorf("RefuseAdminScopes(%q) = %v, want nil", tc.scope, err)
		case tc.wantDesc != "" && (err == nil || err.Code != codeInvalidClientMetadata || !strings.Contains(err.Description, tc.wantDesc)):
			t.Errorf("RefuseAdminScopes(%q) = %v, want invalid_client_metadata naming %s", tc.scope, err, tc.wantDesc)
		}
	}
}
