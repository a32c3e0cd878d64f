package oidc

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"time"

	"github.com/ory/fosite"

	"gatehouse/identity/access"
)

// ErrInvalidToken is a bearer access token that is not one this provider
// issued and still honours: malformed, tampered with, signed by another
// key, expired, revoked, or another kind of token (an ID token, a
// refresh token). RFC 6750 §3.1 answers it with 401 invalid_token.
var ErrInvalidToken = errors.New("oidc: invalid access token")

// maxBearerLen bounds a token that is looked up at all: Gatehouse's
// tokens are far shorter, and a longer one is never valid.
const maxBearerLen = 8 << 10

// AccessToken is what a verified bearer access token says.
type AccessToken struct {
	ClientID string
	// Subject is the user the token acts for; "" for a client acting on
	// its own behalf (client_credentials).
	Subject   string
	Scopes    []string
	Audience  []string
	ExpiresAt time.Time
}

// HasScope reports whether the token was granted scope s.
func (t *AccessToken) HasScope(s string) bool {
	return containsString(t.Scopes, s)
}

// Permissions returns the token's admin scopes as permissions. For a
// user's token these were within the user's roles when it was granted;
// a caller that must see a demotion at once narrows them by the user's
// current roles (access.PermissionsOf).
func (t *AccessToken) Permissions() access.Set {
	s := access.Set{}
	for _, sc := range t.Scopes {
		if p, err := access.ParsePermission(sc); err == nil {
			s[p] = true
		}
	}
	return s
}

// VerifyAccessToken checks an access token this provider issued, opaque
// or RFC 9068 JWT, without an HTTP round trip: fosite's own validation
// (the HMAC of an opaque token or the signature of a JWT, and expiry)
// plus the lookup of the token's stored grant, which is gone once the
// token, its grant or its user's sessions were revoked. A token that does
// not pass is ErrInvalidToken; any other error means the check could not
// be made (the database is unavailable) and the token may well be valid.
func (p *Provider) VerifyAccessToken(ctx context.Context, token string) (*AccessToken, error) {
	if token == "" || len(token) > maxBearerLen {
		return nil, ErrInvalidToken
	}
	sess := NewSession()
	use, ar, err := p.IntrospectToken(ctx, token, fosite.AccessToken, sess)
	switch {
	case err == nil && use == fosite.AccessToken:
	case err == nil:
		// fosite falls back to the refresh tokens when no access token
		// matches: a refresh token is not a bearer credential.
		return nil, ErrInvalidToken
	case Unavailable(ctx, err) || storageFailure(err):
		return nil, fmt.Errorf("oidc: verify access token: %w", err)
	default:
		return nil, ErrInvalidToken
	}
	at := &AccessToken{
		ClientID:  ar.GetClient().GetID(),
		Subject:   sessionUser(sess, ar.GetClient().GetID()),
		Scopes:    append([]string{}, ar.GetGrantedScopes()...),
		Audience:  append([]string{}, ar.GetGrantedAudience()...),
		ExpiresAt: sess.GetExpiresAt(fosite.AccessToken),
	}
	return at, nil
}

// storageFailure tells a failed lookup of the token's grant (fosite
// wraps what the store returned in request_unauthorized) from a token
// that simply is not there: the store says fosite.ErrNotFound for an
// unknown, revoked or rotated token.
func storageFailure(err error) bool {
	if !errors.Is(err, fosite.ErrRequestUnauthorized) || errors.Is(err, fosite.ErrNotFound) || errors.Is(err, fosite.ErrInactiveToken) {
		return false
	}
	var rfc *fosite.RFC6749Error
	return errors.As(err, &rfc) && rfc.Unwrap() != nil
}

// sessionUser is the user a grant's session acts for. A client_credentials
// session names the client as its subject and has no browser session;
// every user's grant comes from one.
func sessionUser(s *Session, clientID string) string {
	if s.BrowserSessionID == "" && s.Subject == clientID {
		return ""
	}
	return s.Subject
}

// BearerRealm is the realm of every Bearer challenge Gatehouse writes.
const BearerRealm = "gatehouse"

// BearerToken returns the RFC 6750 §2.1 bearer token of the
// Authorization header; the scheme is case-insensitive (RFC 9110 §11.1).
// Tokens in the query string (§2.3) are never read: they end up in logs
// and browser history. A header of another scheme, or more than one
// Authorization header, is no bearer token.
func BearerToken(r *http.Request) (string, bool) {
	values := r.Header.Values("Authorization")
	if len(values) != 1 {
		return "", false
	}
	scheme, token, ok := strings.Cut(values[0], " ")
	if !ok || !strings.EqualFold(scheme, "Bearer") {
		return "", false
	}
	token = strings.TrimSpace(token)
	if token == "" || strings.ContainsAny(token, " \t") {
		return "", false
	}
	return token, true
}

// Bearer error codes (RFC 6750 §3.1).
const (
	BearerInvalidRequest    = "invalid_request"
	BearerInvalidToken      = "invalid_token"
	BearerInsufficientScope = "insufficient_scope"
)

// BearerChallenge answers a request to a bearer-protected resource that
// cannot go ahead (RFC 6750 §3): the WWW-Authenticate challenge, then
// status with a JSON error object. A request without a token gets
// errCode "" (§3.1: no error code then) and an empty body; a bad token
// 401 with BearerInvalidToken; a token without the scope needed 403 with
// BearerInsufficientScope and scope naming what is needed. Characters a
// quoted challenge value may not hold are left out.
func BearerChallenge(w http.ResponseWriter, status int, errCode, description, scope string) {
	h := w.Header()
	h.Set("WWW-Authenticate", BearerChallengeHeader(errCode, description, scope))
	h.Set("Cache-Control", "no-store")
	h.Set("Pragma", "no-cache")
	if errCode == "" {
		w.WriteHeader(status)
		return
	}
	body := map[string]string{"error": errCode}
	if description != "" {
		body["error_description"] = description
	}
	if scope != "" {
		body["scope"] = scope
	}
	h.Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(body) // the client went away
}

// BearerChallengeHeader is the WWW-Authenticate value of an RFC 6750 §3
// refusal, for an API that writes its own body (the admin API's problem
// details): no error code for a request that sent no token (§3.1).
func BearerChallengeHeader(errCode, description, scope string) string {
	challenge := `Bearer realm="` + BearerRealm + `"`
	if errCode != "" {
		challenge += `, error="` + challengeValue(errCode) + `"`
	}
	if errCode != "" && description != "" {
		challenge += `, error_description="` + challengeValue(description) + `"`
	}
	if scope != "" {
		challenge += `, scope="` + challengeValue(scope) + `"`
	}
	return challenge
}

// challengeValue keeps the characters RFC 6750 §3 allows in the error,
// error_description and scope values (printable ASCII but '"' and '\').
func challengeValue(s string) string {
	return strings.Map(func(r rune) rune {
		if r < 0x20 || r > 0x7e || r == '"' || r == '\\' {
			return -1
		}
		return r
	}, s)
}
