package oidc

import (
	"net/http"
	"strings"
	"time"

	"github.com/labstack/echo/v4"
)

// hostPrefix marks a cookie that browsers accept only from a secure
// origin, with Secure, Path=/ and no Domain, so that no other host of the
// site can plant or overwrite it (RFC 6265bis §4.1.3.2).
const hostPrefix = "__Host-"

const (
	csrfCookie = "gatehouse_csrf"
	// csrfMaxAge is the CSRF cookie's lifetime in seconds, the same for
	// the middleware and for a token set by a handler.
	csrfMaxAge = 24 * 60 * 60
	// csrfContextKey is where the middleware leaves the token for pages.
	csrfContextKey = "csrf"
)

// cookieName is the name of one of Gatehouse's cookies: with the __Host-
// prefix when cookies are Secure (an https issuer), plain otherwise (an
// http development issuer, where the prefix would make browsers drop it).
func cookieName(base string, secure bool) string {
	if secure {
		return hostPrefix + base
	}
	return base
}

// SessionCookieName is the browser-session cookie's name.
func SessionCookieName(secure bool) string { return cookieName(sessionCookie, secure) }

// CookieName is the name of the Gatehouse cookie base on this issuer.
func (b *Browser) CookieName(base string) string { return cookieName(base, b.Secure) }

// RotateCSRF gives the browser a new CSRF token: at sign-in and sign-out,
// so that a token learnt or planted before no longer passes afterwards.
func (b *Browser) RotateCSRF(c echo.Context) {
	setCSRFToken(c, NewSecret(), b.Secure)
}

// ensureCSRF makes a CSRF token available to a page rendered outside the
// CSRF middleware, reusing the browser's token when it sent one.
func (b *Browser) ensureCSRF(c echo.Context) string {
	if ck, err := c.Cookie(b.CookieName(csrfCookie)); err == nil && ck.Value != "" {
		c.Set(csrfContextKey, ck.Value)
		return ck.Value
	}
	token := NewSecret()
	setCSRFToken(c, token, b.Secure)
	return token
}

// setCSRFToken sets the CSRF cookie as the middleware does, replacing a
// cookie the middleware already added to this response, and hands the
// token to the pages of this response.
func setCSRFToken(c echo.Context, token string, secure bool) {
	name := cookieName(csrfCookie, secure)
	h := c.Response().Header()
	var kept []string
	for _, v := range h.Values(echo.HeaderSetCookie) {
		if !strings.HasPrefix(v, name+"=") {
			kept = append(kept, v)
		}
	}
	h.Del(echo.HeaderSetCookie)
	for _, v := range kept {
		h.Add(echo.HeaderSetCookie, v)
	}
	c.SetCookie(&http.Cookie{
		Name: name, Value: token, Path: "/", Expires: time.Now().Add(csrfMaxAge * time.Second),
		Secure: secure, HttpOnly: true, SameSite: http.SameSiteLaxMode,
	})
	c.Set(csrfContextKey, token)
}
