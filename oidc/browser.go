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
	flowCookie    = "gatehouse_flow"
	flowLifetime  = 30 * time.Minute
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

// currentSession returns the browser's active session, or nil.
func (h *Handler) currentSession(c echo.Context) (*BrowserSession, error) {
	cs, _ := h.Cookies.Get(c.Request(), h.cookie(sessionCookie)) // a tampered or stale cookie reads as empty
	secret, _ := cs.Values["s"].(string)
	if secret == "" {
		return nil, nil
	}
	ctx := c.Request().Context()
	bs, err := h.Sessions.GetSessionBySecretHash(ctx, hashSecret(secret))
	if errors.Is(err, ErrSessionNotFound) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	now := h.Now()
	if !bs.Active(now) {
		if err := h.Sessions.DeleteSession(ctx, bs.ID); err != nil {
			return nil, err
		}
		return nil, nil
	}
	if now.Sub(bs.LastSeenAt) > touchEvery {
		if err := h.Sessions.TouchSession(ctx, bs.ID, now); err != nil {
			return nil, err
		}
		bs.LastSeenAt = now
	}
	return bs, nil
}

// startSession signs the browser in as u with a fresh session ID (the old
// session, if any, is revoked: no session fixation) and a fresh CSRF token.
func (h *Handler) startSession(c echo.Context, u *identity.User, amr []string) (*BrowserSession, error) {
	ctx := c.Request().Context()
	if err := ctx.Err(); err != nil {
		// The browser has gone (it gave up waiting for a busy server): a
		// session it never gets the cookie of would only lie in the table.
		return nil, fmt.Errorf("start session: %w", err)
	}
	if old, err := h.currentSession(c); err != nil {
		return nil, err
	} else if old != nil {
		// A new ID for the new login (no session fixation). Tokens issued
		// through the old one stay: signing in again is not signing out.
		if err := h.Sessions.DeleteSession(ctx, old.ID); err != nil {
			return nil, err
		}
	}
	now := h.Now().UTC().Truncate(time.Second)
	secret := NewSecret()
	id, err := uuid.NewV7()
	if err != nil {
		return nil, fmt.Errorf("session id: %w", err)
	}
	bs := &BrowserSession{
		ID: id.String(), SecretHash: hashSecret(secret), UserID: u.ID, AuthTime: now, AMR: amr, ACR: "0",
		IP: c.RealIP(), UserAgent: truncate(c.Request().UserAgent(), 512),
		CreatedAt: now, LastSeenAt: now, ExpiresAt: now.Add(h.SessionAbsolute), IdleTimeout: h.SessionIdle,
	}
	if err := h.Sessions.CreateSession(ctx, bs); err != nil {
		return nil, err
	}
	cs, _ := h.Cookies.New(c.Request(), h.cookie(sessionCookie))
	cs.Values = map[interface{}]interface{}{"s": secret}
	cs.Options.MaxAge = int(h.SessionAbsolute / time.Second)
	if err := cs.Save(c.Request(), c.Response()); err != nil {
		return nil, fmt.Errorf("session cookie: %w", err)
	}
	h.rotateCSRF(c)
	return bs, nil
}

// clearSession revokes the browser's session, removes the cookie and
// rotates the CSRF token.
func (h *Handler) clearSession(c echo.Context, bs *BrowserSession) error {
	if bs != nil {
		if err := h.Sessions.RevokeSession(c.Request().Context(), bs.ID); err != nil {
			return err
		}
	}
	cs, _ := h.Cookies.New(c.Request(), h.cookie(sessionCookie))
	cs.Options.MaxAge = -1
	if err := cs.Save(c.Request(), c.Response()); err != nil {
		return err
	}
	h.rotateCSRF(c)
	return nil
}

// flowBinding returns the hash of this browser's flow cookie, setting a
// new cookie when create is true and none is present.
func (h *Handler) flowBinding(c echo.Context, create bool) (string, error) {
	cs, _ := h.Cookies.Get(c.Request(), h.cookie(flowCookie))
	v, _ := cs.Values["b"].(string)
	if v == "" {
		if !create {
			return "", nil
		}
		v = NewSecret()
		cs.Values = map[interface{}]interface{}{"b": v}
	}
	if create {
		cs.Options.MaxAge = int(flowLifetime / time.Second)
		if err := cs.Save(c.Request(), c.Response()); err != nil {
			return "", fmt.Errorf("flow cookie: %w", err)
		}
	}
	return hashSecret(v), nil
}

// truncate shortens s to at most n bytes on a character boundary: a cut
// inside a character would leave text that is not UTF-8, which PostgreSQL
// refuses to store.
func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	for n > 0 && !utf8.RuneStart(s[n]) {
		n--
	}
	return s[:n]
}
