package oidc

import (
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"errors"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/labstack/echo/v4"
	"github.com/ory/fosite/token/jwt"

	"gatehouse/identity/audit"
	"gatehouse/templates"
)

// logoutRequest is a validated RP-initiated logout request, carried
// through the confirmation page under a MAC.
type logoutRequest struct {
	ClientID string    `json:"client_id,omitempty"`
	Redirect string    `json:"redirect,omitempty"`
	State    string    `json:"state,omitempty"`
	Expires  time.Time `json:"exp"`
}

var errBadLogout = pageError(http.StatusBadRequest, "Invalid sign-out request",
	"The application sent a sign-out request that could not be accepted.")

// endSession is the RP-Initiated Logout 1.0 endpoint.
func (h *Handler) endSession(c echo.Context) error {
	ctx := c.Request().Context()
	form, err := c.FormParams()
	if err != nil {
		return errBadLogout
	}
	for _, v := range form {
		if len(v) > 1 {
			return errBadLogout
		}
	}
	lr := logoutRequest{ClientID: form.Get("client_id"), State: form.Get("state"), Expires: h.Now().Add(flowLifetime)}
	var hint *jwt.Token
	if raw := form.Get("id_token_hint"); raw != "" {
		if hint, err = h.decodeHint(ctx, raw); err != nil {
			return errBadLogout
		}
		aud := audiences(hint.Claims["aud"])
		if lr.ClientID == "" && len(aud) == 1 {
			lr.ClientID = aud[0]
		} else if lr.ClientID != "" && !containsString(aud, lr.ClientID) {
			return errBadLogout
		}
	}
	var client *Client
	if lr.ClientID != "" {
		if client, err = h.Provider.Clients.Get(ctx, lr.ClientID); err != nil {
			return errBadLogout
		}
	}
	if uri := form.Get("post_logout_redirect_uri"); uri != "" {
		// Logout 1.0 §3: exact match against the client's registration.
		if client == nil || !containsString(client.PostLogoutRedirectURIs, uri) {
			return pageError(http.StatusBadRequest, "Invalid sign-out request",
				"The address to return to after signing out is not registered for this application.")
		}
		lr.Redirect = uri
	}

	bs, err := h.currentSession(c)
	if err != nil {
		return err
	}
	if bs == nil {
		return h.afterLogout(c, lr)
	}
	// Logout 1.0 §2: without a hint for this very session, ask first.
	if hint != nil {
		if sid, _ := hint.Claims["sid"].(string); sid == bs.ID {
			return h.logout(c, bs, lr)
		}
	}
	p := templates.LogoutPage{Action: PathLogout, CSRF: csrfToken(c), Request: h.sealLogout(lr)}
	if client != nil {
		p.ClientName = client.DisplayName()
	}
	return h.Pages.Logout(StartPage(c, http.StatusOK), p)
}

// endSessionPost accepts the form-encoded POST that RP-Initiated Logout
// §2 allows and continues as the equivalent GET, whose page carries a
// CSRF token.
func (h *Handler) endSessionPost(c echo.Context) error {
	form, err := c.FormParams()
	if err != nil {
		return errBadLogout
	}
	return c.Redirect(http.StatusSeeOther, PathEndSession+"?"+form.Encode())
}

// logoutConfirm handles the "Log out" button.
func (h *Handler) logoutConfirm(c echo.Context) error {
	lr, ok := h.openLogout(c.FormValue("request"))
	if !ok {
		return errBadLogout
	}
	bs, err := h.currentSession(c)
	if err != nil {
		return err
	}
	return h.logout(c, bs, lr)
}

func (h *Handler) logout(c echo.Context, bs *BrowserSession, lr logoutRequest) error {
	if err := h.clearSession(c, bs); err != nil {
		return err
	}
	if bs != nil {
		h.Logger.InfoContext(c.Request().Context(), "logout", "user_id", bs.UserID, "session_id", bs.ID, "client_id", lr.ClientID)
		h.audit(c, userEvent(audit.ActionLogout, bs.UserID, audit.Details{"session_id": bs.ID, "client_id": lr.ClientID}))
	}
	return h.afterLogout(c, lr)
}

func (h *Handler) afterLogout(c echo.Context, lr logoutRequest) error {
	if lr.Redirect != "" {
		u, err := url.Parse(lr.Redirect)
		if err != nil {
			return errBadLogout
		}
		if lr.State != "" {
			q := u.Query()
			q.Set("state", lr.State)
			u.RawQuery = q.Encode()
		}
		return c.Redirect(http.StatusSeeOther, u.String())
	}
	return h.Pages.LoggedOut(StartPage(c, http.StatusOK), templates.LoggedOutPage{})
}

// decodeHint verifies an ID token of ours, accepting an expired one.
func (h *Handler) decodeHint(ctx context.Context, raw string) (*jwt.Token, error) {
	tok, err := h.Provider.Signer.Decode(ctx, raw)
	var ve *jwt.ValidationError
	if err != nil && !(errors.As(err, &ve) && ve.Errors == jwt.ValidationErrorExpired) {
		return nil, err
	}
	if tok == nil {
		return nil, errors.New("oidc: empty id_token_hint")
	}
	if iss, _ := tok.Claims["iss"].(string); iss != h.Provider.Issuer {
		return nil, errors.New("oidc: id_token_hint from another issuer")
	}
	return tok, nil
}

func audiences(v interface{}) []string {
	switch a := v.(type) {
	case string:
		return []string{a}
	case []interface{}:
		out := make([]string, 0, len(a))
		for _, x := range a {
			if s, ok := x.(string); ok {
				out = append(out, s)
			}
		}
		return out
	case []string:
		return a
	}
	return nil
}

func (h *Handler) logoutMAC(payload string) string {
	m := hmac.New(sha256.New, h.FlowKey)
	m.Write([]byte("logout|" + payload))
	return base64.RawURLEncoding.EncodeToString(m.Sum(nil))
}

func (h *Handler) sealLogout(lr logoutRequest) string {
	body, _ := json.Marshal(lr) // plain strings and a time: cannot fail
	payload := base64.RawURLEncoding.EncodeToString(body)
	return payload + "." + h.logoutMAC(payload)
}

func (h *Handler) openLogout(s string) (logoutRequest, bool) {
	var lr logoutRequest
	payload, mac, ok := strings.Cut(s, ".")
	if !ok || !hmac.Equal([]byte(mac), []byte(h.logoutMAC(payload))) {
		return lr, false
	}
	body, err := base64.RawURLEncoding.DecodeString(payload)
	if err != nil || json.Unmarshal(body, &lr) != nil || h.Now().After(lr.Expires) {
		return lr, false
	}
	return lr, true
}
