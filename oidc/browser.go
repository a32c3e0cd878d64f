package oidc

import (
	"crypto/sha256"
	"encoding/base64"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/google/uuid"
	"github.com/gorilla/sessions"
	"github.com/labstack/echo/v4"

	"gatehouse/identity"
)

const (
	sessionCookie = "gatehouse_session"
	// touchEvery bounds how often activity is written: a session record
	// is not rewritten on every request.
	touchEvery = time.Minute
)

// NewCookieStore returns the gorilla/sessions store for Gatehouse's
// cookies: authenticated and encrypted, HttpOnly, SameSite=Lax, and Secure
// when the issuer is https. Path=/ and no Domain, as the __Host- names
// those cookies then get require.
func NewCookieStore(hashKey, blockKey []byte, secure bool) *sessions.CookieStore {
	cs := sessions.NewCookieStore(hashKey, blockKey)
	cs.Options = &sessions.Options{Path: "/", HttpOnly: true, Secure: secure, SameSite: http.SameSiteLaxMode}
	return cs
}

func hashSecret(secret string) string {
	sum := sha256.Sum256([]byte(secret))
	return base64.RawURLEncoding.EncodeToString(sum[:])
}

// Browser signs browsers in and out: the session cookie, the server-side
// BrowserSession it names, and the CSRF token renewed with both. The
// protocol endpoints, the sign-in flow and the account pages share one.
type Browser struct {
	// Cookies encrypts and authenticates Gatehouse's cookies
	// (gorilla/sessions with keys derived from the master key).
	Cookies  *sessions.CookieStore
	Sessions SessionStore
	Now      func() time.Time
	// Idle and Absolute bound browser sessions.
	Idle     time.Duration
	Absolute time.Duration
	// Secure marks an https issuer: cookies are Secure and __Host-.
	Secure bool
}

// SignedIn returns the browser's active session, or nil when nobody is
// signed in.
func (b *Browser) SignedIn(c echo.Context) (*BrowserSession, error) {
	cs, _ := b.Cookies.Get(c.Request(), b.CookieName(sessionCookie)) // a tampered or stale cookie reads as empty
	secret, _ := cs.Values["s"].(string)
	if secret == "" {
		return nil, nil
	}
	ctx := c.Request().Context()
	bs, err := b.Sessions.GetSessionBySecretHash(ctx, hashSecret(secret))
	if errors.Is(err, ErrSessionNotFound) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	now := b.Now()
	if !bs.Active(now) {
		if err := b.Sessions.DeleteSession(ctx, bs.ID); err != nil {
			return nil, err
		}
		return nil, nil
	}
	if now.Sub(bs.LastSeenAt) > touchEvery {
		if err := b.Sessions.TouchSession(ctx, bs.ID, now); err != nil {
			return nil, err
		}
		bs.LastSeenAt = now
	}
	return bs, nil
}

// SignIn signs the browser in as u with a fresh session ID (the old
// session, if any, is revoked: no session fixation) and a fresh CSRF token.
func (b *Browser) SignIn(c echo.Context, u *identity.User, amr []string) (*BrowserSession, error) {
	return b.SignInACR(c, u, amr, "0")
}

// SignInACR is SignIn for a sign-in that achieved acr: the session, and
// the ID tokens issued through it, say what the sign-in proved (OpenID
// Connect Core §2, "0" for one factor).
func (b *Browser) SignInACR(c echo.Context, u *identity.User, amr []string, acr string) (*BrowserSession, error) {
	ctx := c.Request().Context()
	if err := ctx.Err(); err != nil {
		// The browser has gone (it gave up waiting for a busy server): a
		// session it never gets the cookie of would only lie in the table.
		return nil, fmt.Errorf("start session: %w", err)
	}
	if old, err := b.SignedIn(c); err != nil {
		return nil, err
	} else if old != nil {
		// A new ID for the new login (no session fixation). Tokens issued
		// through the old one stay: signing in again is not signing out.
		if err := b.Sessions.DeleteSession(ctx, old.ID); err != nil {
			return nil, err
		}
	}
	now := b.Now().UTC().Truncate(time.Second)
	secret := NewSecret()
	id, err := uuid.NewV7()
	if err != nil {
		return nil, fmt.Errorf("session id: %w", err)
	}
	bs := &BrowserSession{
		ID: id.String(), SecretHash: hashSecret(secret), UserID: u.ID, AuthTime: now, AMR: amr, ACR: acr,
		IP: c.RealIP(), UserAgent: Truncate(c.Request().UserAgent(), 512),
		CreatedAt: now, LastSeenAt: now, ExpiresAt: now.Add(b.Absolute), IdleTimeout: b.Idle,
	}
	if err := b.Sessions.CreateSession(ctx, bs); err != nil {
		return nil, err
	}
	cs, _ := b.Cookies.New(c.Request(), b.CookieName(sessionCookie))
	cs.Values = map[interface{}]interface{}{"s": secret}
	cs.Options.MaxAge = int(b.Absolute / time.Second)
	if err := cs.Save(c.Request(), c.Response()); err != nil {
		return nil, fmt.Errorf("session cookie: %w", err)
	}
	b.RotateCSRF(c)
	return bs, nil
}

// SignOut revokes the browser's session bs (nil: only the cookie goes),
// removes the cookie and rotates the CSRF token.
func (b *Browser) SignOut(c echo.Context, bs *BrowserSession) error {
	if bs != nil {
		if err := b.Sessions.RevokeSession(c.Request().Context(), bs.ID); err != nil {
			return err
		}
	}
	cs, _ := b.Cookies.New(c.Request(), b.CookieName(sessionCookie))
	cs.Options.MaxAge = -1
	if err := cs.Save(c.Request(), c.Response()); err != nil {
		return err
	}
	b.RotateCSRF(c)
	return nil
}

// Truncate shortens s to at most n bytes on a character boundary: a cut
// inside a character would leave text that is not UTF-8, which PostgreSQL
// refuses to store.
func Truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	for n > 0 && !utf8.RuneStart(s[n]) {
		n--
	}
	return s[:n]
}

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
		Name: name, Value: token, Path: "/", MaxAge: csrfMaxAge, // a lifetime, so no clock is read
		Secure: secure, HttpOnly: true, SameSite: http.SameSiteLaxMode,
	})
	c.Set(csrfContextKey, token)
}
