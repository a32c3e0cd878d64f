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

// logoutLifetime bounds how long a logout request waits on its
// confirmation page.
const logoutLifetime = 30 * time.Minute

var errBadLogout = pageError(http.StatusBadRequest, "Invalid sign-out request",
	"The application sent a sign-out request that could not be accepted.")

// endSession is RP-Initiated Logout 1.0: the end-session endpoint, its
// confirmation page and the sign-out it leads to.
type endSession struct{ *Handler }

// get is the RP-Initiated Logout 1.0 endpoint for GET.
func (h endSession) get(c echo.Context) error {
	form, err := c.FormParams()
	if err != nil {
		return errBadLogout
	}
	return h.endSessionWith(c, form, csrfToken(c))
}

// post handles the form-encoded POST that RP-Initiated Logout
// §2 allows from the POSTed parameters alone. Nothing of the body goes
// into a URL: the id_token_hint holds personal data, and URLs end up in
// logs and histories. Only the final redirect to the client carries
// state, as §3 requires.
func (h endSession) post(c echo.Context) error {
	r := c.Request()
	if err := r.ParseForm(); err != nil {
		return errBadLogout
	}
	// A cross-site POST comes without our SameSite=Lax cookies: the
	// session cannot be seen, so the user is asked on our own page, whose
	// same-origin confirmation does carry them.
	if _, err := c.Cookie(h.Browser.CookieName(sessionCookie)); err != nil {
		lr, client, _, err := h.parseLogout(c, r.PostForm)
		if err != nil {
			return err
		}
		return h.confirmLogout(c, lr, client, h.Browser.ensureCSRF(c))
	}
	return h.endSessionWith(c, r.PostForm, h.Browser.ensureCSRF(c))
}

// endSessionWith ends the session at once when the hint names it, and
// otherwise asks first (Logout 1.0 §2).
func (h endSession) endSessionWith(c echo.Context, form url.Values, csrf string) error {
	lr, client, hint, err := h.parseLogout(c, form)
	if err != nil {
		return err
	}
	bs, err := h.Browser.SignedIn(c)
	if err != nil {
		return err
	}
	if bs == nil {
		return h.afterLogout(c, lr)
	}
	if hint != nil {
		if sid, _ := hint.Claims["sid"].(string); sid == bs.ID {
			return h.logout(c, bs, lr)
		}
	}
	return h.confirmLogout(c, lr, client, csrf)
}

// parseLogout validates a logout request's parameters.
func (h endSession) parseLogout(c echo.Context, form url.Values) (logoutRequest, *Client, *jwt.Token, error) {
	ctx := c.Request().Context()
	for _, v := range form {
		if len(v) > 1 {
			return logoutRequest{}, nil, nil, errBadLogout
		}
	}
	lr := logoutRequest{ClientID: form.Get("client_id"), State: form.Get("state"), Expires: h.Now().Add(logoutLifetime)}
	var hint *jwt.Token
	var err error
	if raw := form.Get("id_token_hint"); raw != "" {
		if hint, err = h.decodeHint(ctx, raw); err != nil {
			return lr, nil, nil, errBadLogout
		}
		aud := audiences(hint.Claims["aud"])
		if lr.ClientID == "" && len(aud) == 1 {
			lr.ClientID = aud[0]
		} else if lr.ClientID != "" && !containsString(aud, lr.ClientID) {
			return lr, nil, nil, errBadLogout
		}
	}
	var client *Client
	if lr.ClientID != "" {
		if client, err = h.Provider.Clients.Get(ctx, lr.ClientID); Unavailable(ctx, err) {
			return lr, nil, nil, err // 503: the request may be good
		} else if err != nil {
			return lr, nil, nil, errBadLogout
		}
	}
	if uri := form.Get("post_logout_redirect_uri"); uri != "" {
		// Logout 1.0 §3: exact match against the client's registration.
		if client == nil || !containsString(client.PostLogoutRedirectURIs, uri) {
			return lr, nil, nil, pageError(http.StatusBadRequest, "Invalid sign-out request",
				"The address to return to after signing out is not registered for this application.")
		}
		lr.Redirect = uri
	}
	return lr, client, hint, nil
}

// confirmLogout asks the user to confirm; the validated request travels
// sealed in the form, never in a URL.
func (h endSession) confirmLogout(c echo.Context, lr logoutRequest, client *Client, csrf string) error {
	p := templates.LogoutPage{Action: PathLogout, CSRF: csrf, Request: h.sealLogout(lr)}
	if client != nil {
		p.ClientName = client.DisplayName()
	}
	return h.Pages.Logout(StartPage(c, http.StatusOK), p)
}

// logoutConfirm handles the "Log out" button.
func (h endSession) logoutConfirm(c echo.Context) error {
	lr, ok := h.openLogout(c.FormValue("request"))
	if !ok {
		return errBadLogout
	}
	bs, err := h.Browser.SignedIn(c)
	if err != nil {
		return err
	}
	return h.logout(c, bs, lr)
}

func (h endSession) logout(c echo.Context, bs *BrowserSession, lr logoutRequest) error {
	if err := h.Browser.SignOut(c, bs); err != nil {
		return err
	}
	if bs != nil {
		h.Logger.InfoContext(c.Request().Context(), "logout", "user_id", bs.UserID, "session_id", bs.ID, "client_id", lr.ClientID)
		h.audit(c, UserEvent(audit.ActionLogout, bs.UserID, audit.Details{"session_id": bs.ID, "client_id": lr.ClientID}))
	}
	return h.afterLogout(c, lr)
}

func (h endSession) afterLogout(c echo.Context, lr logoutRequest) error {
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

func (h endSession) logoutMAC(payload string) string {
	m := hmac.New(sha256.New, h.LogoutKey)
	m.Write([]byte("logout|" + payload))
	return base64.RawURLEncoding.EncodeToString(m.Sum(nil))
}

func (h endSession) sealLogout(lr logoutRequest) string {
	body, _ := json.Marshal(lr) // plain strings and a time: cannot fail
	payload := base64.RawURLEncoding.EncodeToString(body)
	return payload + "." + h.logoutMAC(payload)
}

func (h endSession) openLogout(s string) (logoutRequest, bool) {
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
