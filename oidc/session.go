package oidc

import (
	"encoding/json"
	"math"
	"time"

	"github.com/mohae/deepcopy"
	"github.com/ory/fosite"
	"github.com/ory/fosite/handler/oauth2"
	"github.com/ory/fosite/handler/openid"
	"github.com/ory/fosite/token/jwt"

	"gatehouse/identity"
)

// Session is what fosite stores with every code and token: the ID token
// claims, the RFC 9068 access-token claims for clients that chose JWT
// access tokens, and the browser session (OIDC "sid") it was issued in.
type Session struct {
	openid.DefaultSession
	JWTClaims *jwt.JWTClaims `json:"jwt_claims,omitempty"`
	JWTHeader *jwt.Headers   `json:"jwt_header,omitempty"`
	// BrowserSessionID is the server-side browser session the grant came
	// from; empty for client_credentials.
	BrowserSessionID string `json:"sid,omitempty"`
	// GrantedAt is when the grant began (its code was redeemed); the
	// grant's refresh tokens end Lifetimes.RefreshTokenAbsolute later.
	GrantedAt time.Time `json:"granted_at,omitzero"`
	// GrantScope is the scope of the grant when an access token was
	// issued with a narrower one: the refresh token keeps the grant's
	// scope (RFC 6749 §6).
	GrantScope []string `json:"grant_scope,omitempty"`
	// Roles are the user's roles, taken when the grant was authorized
	// with the "roles" scope; nil without that scope. The ID token and
	// JWT access token carry them as issued, and userinfo and
	// introspection read them from here rather than from the user, so
	// those hot paths make no extra query. It follows that a change of
	// roles reaches tokens of later authorizations, not those already
	// issued, nor the tokens a refresh gives: fosite copies the session
	// of the grant into them, so a refresh keeps the roles of the
	// authorization. Not omitempty: an empty list (scope granted, no
	// roles) must read back as empty, not as nil.
	Roles []string `json:"roles"`
}

var (
	_ openid.Session             = (*Session)(nil)
	_ oauth2.JWTSessionContainer = (*Session)(nil)
)

// UnmarshalJSON reads a stored session. The claims' free-form maps come
// back from JSON with every number a float64, which the JWT encoder then
// writes as 1.796309221e+09: integers are made integers again, since
// OIDC Core §5.1 defines updated_at (and §2 the time claims) as integer
// seconds and clients that parse an int64 refuse the exponent form.
func (s *Session) UnmarshalJSON(b []byte) error {
	type plain Session // the default decoding, without this method
	if err := json.Unmarshal(b, (*plain)(s)); err != nil {
		return err
	}
	if s.Claims != nil {
		integers(s.Claims.Extra)
	}
	if s.Headers != nil {
		integers(s.Headers.Extra)
	}
	if s.JWTClaims != nil {
		integers(s.JWTClaims.Extra)
	}
	if s.JWTHeader != nil {
		integers(s.JWTHeader.Extra)
	}
	return nil
}

// integers turns, in place, each integral float64 of v (a decoded JSON
// value) into an int64.
func integers(v any) any {
	switch v := v.(type) {
	case float64:
		if v == math.Trunc(v) && math.Abs(v) < 1<<53 {
			return int64(v)
		}
	case map[string]any:
		for k, e := range v {
			v[k] = integers(e)
		}
	case []any:
		for i, e := range v {
			v[i] = integers(e)
		}
	}
	return v
}

// NewSession returns an empty session for fosite to fill.
func NewSession() *Session {
	return &Session{DefaultSession: openid.DefaultSession{
		Claims:  &jwt.IDTokenClaims{},
		Headers: &jwt.Headers{},
	}}
}

// Clone implements fosite.Session.
func (s *Session) Clone() fosite.Session {
	if s == nil {
		return nil
	}
	return deepcopy.Copy(s).(fosite.Session)
}

// GetJWTClaims implements oauth2.JWTSessionContainer.
func (s *Session) GetJWTClaims() jwt.JWTClaimsContainer {
	if s.JWTClaims == nil {
		s.JWTClaims = &jwt.JWTClaims{}
	}
	return s.JWTClaims
}

// GetJWTHeader implements oauth2.JWTSessionContainer. RFC 9068 §2.1: the
// header typ is "at+jwt".
func (s *Session) GetJWTHeader() *jwt.Headers {
	if s.JWTHeader == nil {
		s.JWTHeader = &jwt.Headers{Extra: map[string]interface{}{"typ": "at+jwt"}}
	}
	return s.JWTHeader
}

// SupportedScopes are the scopes a client may request.
var SupportedScopes = []string{"openid", "profile", "email", "phone", "address", "offline_access", ScopeRoles}

// ScopeRoles releases the user's roles, in the claim Handler.RolesClaim
// names.
const ScopeRoles = "roles"

// DefaultRolesClaim is the claim of the roles when none is configured.
const DefaultRolesClaim = "roles"

// SupportedClaims are the claims Gatehouse can release (discovery).
var SupportedClaims = []string{
	"sub", "iss", "aud", "exp", "iat", "auth_time", "nonce", "acr", "amr", "sid", "at_hash",
	"name", "given_name", "family_name", "middle_name", "nickname", "preferred_username", "picture", "website",
	"gender", "birthdate", "locale", "zoneinfo", "updated_at",
	"email", "email_verified", "phone_number", "phone_number_verified", "address",
}

// userClaims maps the user record onto the standard claims (OIDC Core
// §5.4) released by the granted scopes. Empty values are left out.
func userClaims(u *identity.User, granted fosite.Arguments) map[string]interface{} {
	c := map[string]interface{}{}
	put := func(k, v string) {
		if v != "" {
			c[k] = v
		}
	}
	if granted.Has("profile") {
		put("name", u.Name())
		put("given_name", u.GivenName)
		put("family_name", u.FamilyName)
		put("middle_name", u.MiddleName)
		put("nickname", u.Nickname)
		put("preferred_username", u.Username)
		put("picture", u.Picture)
		put("website", u.Website)
		put("gender", u.Gender)
		put("birthdate", u.Birthdate)
		put("locale", u.Locale)
		put("zoneinfo", u.Zoneinfo)
		c["updated_at"] = u.UpdatedAt.Unix()
	}
	if granted.Has("email") && u.Email != "" {
		c["email"] = u.Email
		c["email_verified"] = u.EmailVerified
	}
	if granted.Has("address") && !u.Address.IsZero() {
		a := map[string]string{}
		for k, v := range map[string]string{
			"formatted": u.Address.Formatted, "street_address": u.Address.StreetAddress, "locality": u.Address.Locality,
			"region": u.Address.Region, "postal_code": u.Address.PostalCode, "country": u.Address.Country,
		} {
			if v != "" {
				a[k] = v
			}
		}
		c["address"] = a // OIDC Core §5.1.1
	}
	if granted.Has("phone") && u.Phone != "" {
		c["phone_number"] = u.Phone
		c["phone_number_verified"] = u.PhoneVerified
	}
	return c
}

func union(a, b []string) []string {
	seen := map[string]bool{}
	var out []string
	for _, s := range append(append([]string{}, a...), b...) {
		if !seen[s] {
			seen[s] = true
			out = append(out, s)
		}
	}
	return out
}
