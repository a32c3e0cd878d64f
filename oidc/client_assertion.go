package oidc

import (
	"context"
	"errors"
	"net/http"
	"net/url"
	"strings"
	"time"

	josev4 "github.com/go-jose/go-jose/v4"
	josejwt "github.com/go-jose/go-jose/v4/jwt"
	"github.com/ory/fosite"
)

// MaxAssertionLifetime bounds how long a client assertion may live:
// exp - iat, or exp - now when iat is absent. A short life keeps a leaked
// assertion useless soon and bounds how long its jti must be remembered
// (RFC 7523 §3 item 4 lets the server limit it).
const MaxAssertionLifetime = 5 * time.Minute

// jwtBearerAssertion is the client_assertion_type of RFC 7523 §2.2.
const jwtBearerAssertion = "urn:ietf:params:oauth:client-assertion-type:jwt-bearer"

// assertionAlgorithms are the signature algorithms a client assertion may
// name; fosite then holds it to the client's registered one.
var assertionAlgorithms = []josev4.SignatureAlgorithm{
	josev4.RS256, josev4.RS384, josev4.RS512, josev4.PS256, josev4.PS384, josev4.PS512,
	josev4.ES256, josev4.ES384, josev4.ES512,
}

// authenticateClient is fosite's client authentication strategy (token,
// introspection and revocation endpoints): verifyClient, and the client's
// use recorded.
func (p *Provider) authenticateClient(ctx context.Context, r *http.Request, form url.Values) (fosite.Client, error) {
	c, err := p.verifyClient(ctx, r, form)
	if err != nil {
		return nil, err
	}
	// A client that authenticates is in use: it does not expire as unused.
	if cl, ok := c.(*Client); ok && p.Clients != nil {
		if err := p.Clients.MarkUsed(ctx, cl); err != nil {
			return nil, err
		}
	}
	return c, nil
}

// verifyClient is fosite's client authentication with the checks RFC 7523
// asks of a client assertion and fosite leaves out, and with every failure
// of an assertion reported as invalid_client (RFC 7523 §3.2) rather than
// the server error fosite makes of a bad exp, nbf or iat.
func (p *Provider) verifyClient(ctx context.Context, r *http.Request, form url.Values) (fosite.Client, error) {
	if form.Get("client_assertion_type") != jwtBearerAssertion || form.Get("client_assertion") == "" {
		return p.fosite.DefaultClientAuthenticationStrategy(ctx, r, form)
	}
	if err := checkAssertion(form.Get("client_assertion"), p.now().UTC()); err != nil {
		return nil, err
	}
	c, err := p.fosite.DefaultClientAuthenticationStrategy(ctx, r, form)
	if err == nil {
		return c, nil
	}
	var rfc *fosite.RFC6749Error
	switch {
	case errors.As(err, &rfc) && rfc.ErrorField == fosite.ErrJTIKnown.ErrorField:
		return nil, fosite.ErrInvalidClient.WithHint("The client assertion was already used.").WithWrap(err)
	case errors.As(err, &rfc):
		return nil, err
	default:
		return nil, fosite.ErrInvalidClient.WithHint("The client assertion is not valid.").WithWrap(err).WithDebug(err.Error())
	}
}

// checkAssertion refuses, before any key is looked up, an assertion that
// is not a client-authentication JWT or is outside its validity at now.
// It never accepts: fosite still verifies the signature and the claims.
func checkAssertion(raw string, now time.Time) error {
	tok, err := josejwt.ParseSigned(raw, assertionAlgorithms)
	if err != nil {
		return fosite.ErrInvalidClient.WithHint("The client assertion is not a signed JWT.")
	}
	// A JWT made for something else (a logout token, an access token)
	// must not pass for a client assertion. RFC 7523 defines no typ; the
	// successor draft names "client-authentication+jwt".
	if typ, ok := tok.Headers[0].ExtraHeaders[josev4.HeaderType].(string); ok && typ != "" &&
		!strings.EqualFold(typ, "JWT") && !strings.EqualFold(typ, "client-authentication+jwt") {
		return fosite.ErrInvalidClient.WithHintf("A client assertion of type '%s' is not accepted.", typ)
	}
	var c josejwt.Claims
	if err := tok.UnsafeClaimsWithoutVerification(&c); err != nil {
		return fosite.ErrInvalidClient.WithHint("The client assertion's claims could not be read.")
	}
	switch {
	case c.Expiry == nil: // RFC 7523 §3 item 4: exp is REQUIRED.
		return fosite.ErrInvalidClient.WithHint("The client assertion has no 'exp' claim.")
	case !now.Before(c.Expiry.Time()):
		return fosite.ErrInvalidClient.WithHint("The client assertion has expired.")
	case c.NotBefore != nil && now.Before(c.NotBefore.Time()):
		return fosite.ErrInvalidClient.WithHint("The client assertion is not valid yet.")
	case c.IssuedAt != nil && now.Before(c.IssuedAt.Time()):
		return fosite.ErrInvalidClient.WithHint("The client assertion was issued in the future.")
	}
	from := now
	if c.IssuedAt != nil {
		from = c.IssuedAt.Time()
	}
	if c.Expiry.Time().Sub(from) > MaxAssertionLifetime {
		return fosite.ErrInvalidClient.WithHintf("A client assertion may live at most %s.", MaxAssertionLifetime)
	}
	return nil
}
