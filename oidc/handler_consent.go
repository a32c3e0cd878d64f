package oidc

import (
	"net/http"
	"strings"

	"github.com/labstack/echo/v4"

	"gatehouse/templates"
)

// consentFlow loads the flow for the consent step and reports whether the
// browser is signed in with the session the flow is bound to (flow.go).
// Only then may the user decide; otherwise the step hands the flow back
// to the dispatcher, which binds it or starts it over.
func (h *Handler) consentFlow(c echo.Context) (*Flow, *Client, bool, error) {
	f, client, err := h.pageFlow(c)
	if err != nil {
		return nil, nil, false, err
	}
	if f == nil {
		return nil, nil, false, errFlowExpired
	}
	bs, err := h.Browser.SignedIn(c)
	if err != nil {
		return nil, nil, false, err
	}
	return f, client, f.heldBy(bs), nil
}

func (h *Handler) consentPage(c echo.Context) error {
	f, client, held, err := h.consentFlow(c)
	if err != nil {
		return err
	}
	if !held {
		return h.finishStep(c, f, stepConsent)
	}
	p := templates.ConsentPage{
		Action: PathConsent, Flow: f.ID, CSRF: csrfToken(c),
		ClientName: client.DisplayName(), ClientURI: client.ClientURI,
		Scopes: consentScopes(strings.Fields(f.Form.Get("scope"))),
	}
	return h.Pages.Consent(StartPage(c, http.StatusOK), p)
}

func (h *Handler) consentSubmit(c echo.Context) error {
	f, client, held, err := h.consentFlow(c)
	if err != nil {
		return err
	}
	if !held {
		return h.finishStep(c, f, stepConsent)
	}
	decision := c.FormValue("decision")
	if decision != "allow" && decision != "deny" {
		return pageError(http.StatusBadRequest, "Invalid choice", "Please choose Allow or Deny.")
	}
	f.ConsentDone, f.ConsentGranted = true, decision == "allow"
	h.Logger.InfoContext(c.Request().Context(), "consent decided", "client_id", client.ID, "granted", f.ConsentGranted)
	return h.finishStep(c, f, stepConsent)
}
