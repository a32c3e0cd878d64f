package oidc

import (
	"net/http"
	"strings"

	"github.com/labstack/echo/v4"

	"gatehouse/templates"
)

// consentFlow loads the flow for the consent step; it requires the user
// who signed in to be the one deciding.
func (h *Handler) consentFlow(c echo.Context) (*Flow, *Client, error) {
	f, client, err := h.pageFlow(c)
	if err != nil {
		return nil, nil, err
	}
	if f == nil {
		return nil, nil, errFlowExpired
	}
	bs, err := h.currentSession(c)
	if err != nil {
		return nil, nil, err
	}
	if bs == nil {
		return nil, nil, errFlowExpired
	}
	return f, client, nil
}

func (h *Handler) consentPage(c echo.Context) error {
	f, client, err := h.consentFlow(c)
	if err != nil {
		return err
	}
	p := templates.ConsentPage{
		Action: PathConsent, Flow: f.ID, CSRF: csrfToken(c),
		ClientName: client.DisplayName(), ClientURI: client.ClientURI,
		Scopes: consentScopes(strings.Fields(f.Form.Get("scope"))),
	}
	return h.Pages.Consent(StartPage(c, http.StatusOK), p)
}

func (h *Handler) consentSubmit(c echo.Context) error {
	f, client, err := h.consentFlow(c)
	if err != nil {
		return err
	}
	decision := c.FormValue("decision")
	if decision != "allow" && decision != "deny" {
		return pageError(http.StatusBadRequest, "Invalid choice", "Please choose Allow or Deny.")
	}
	f.ConsentDone, f.ConsentGranted = true, decision == "allow"
	h.Logger.InfoContext(c.Request().Context(), "consent decided", "client_id", client.ID, "granted", f.ConsentGranted)
	return h.finishStep(c, f, stepConsent)
}
