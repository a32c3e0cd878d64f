package oidc

import (
	"crypto/sha256"
	"encoding/base64"
	"errors"
	"fmt"
	"net/http"
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
		ID: id.String(), SecretHash: hashSecret(secret), UserID: u.ID, AuthTime: now, AMR: amr, ACR: "0",
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
