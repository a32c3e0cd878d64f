package authflow

import (
	"strings"

	"github.com/labstack/echo/v4"

	"gatehouse/federation"
	"gatehouse/oidc"
)

// ParamIDPHint is Gatehouse's extension to the authorization request: a
// client names the connector its users sign in at, and the browser goes
// straight there instead of to the login page.
const ParamIDPHint = "idp_hint"

// realmConnector is the redirect connector whose home realm holds the
// domain of the e-mail address login (nil when login is no address or
// its domain is not mapped).
func (h *Handler) realmConnector(login string) federation.RedirectConnector {
	at := strings.LastIndexByte(login, '@')
	if at < 1 || at == len(login)-1 || len(h.HomeRealms) == 0 {
		return nil
	}
	id, ok := h.HomeRealms[strings.ToLower(login[at+1:])]
	if !ok {
		return nil
	}
	return h.redirectConnector(id)
}

// preselected is the connector the authorization request of f chose for
// its sign-in: the one idp_hint names, or else the home realm of an
// address given as login_hint; nil for the login page. An idp_hint
// naming no enabled connector is ignored: the person can still sign in
// here.
func (h *Handler) preselected(c echo.Context, f *Flow) (federation.RedirectConnector, string) {
	hint := f.Form.Get("login_hint")
	if len(hint) > oidc.MaxLoginLength {
		hint = "" // no address is that long; nothing to pass upstream
	}
	if id := f.Form.Get(ParamIDPHint); id != "" {
		if conn := h.redirectConnector(id); conn != nil {
			return conn, realmHint(hint)
		}
		h.Logger.DebugContext(c.Request().Context(), "idp_hint names no enabled connector: ignored", "idp_hint", oidc.Truncate(id, 64))
	}
	if conn := h.realmConnector(hint); conn != nil {
		return conn, hint
	}
	return nil, ""
}

// realmHint passes a login_hint upstream only when it is an e-mail
// address: a local username means nothing to another provider.
func realmHint(hint string) string {
	if strings.Contains(hint, "@") {
		return hint
	}
	return ""
}
