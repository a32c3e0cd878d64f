package authflow

import (
	"net/http"
	"strings"

	"github.com/labstack/echo/v4"

	"gatehouse/oidc"
	"gatehouse/templates"
)

// consentStep asks the user whether the client may have the scopes it
// requested.
type consentStep struct{ *Handler }

// flow loads the flow for the consent step and reports whether the
// browser is signed in with the session the flow is bound to (flow.go).
// Only then may the user decide; otherwise the step hands the flow back
// to the dispatcher, which binds it or starts it over.
func (s consentStep) flow(c echo.Context) (*Flow, *oidc.Client, bool, error) {
	f, client, err := s.pageFlow(c)
	if err != nil {
		return nil, nil, false, err
	}
	if f == nil {
		return nil, nil, false, errFlowExpired
	}
	bs, err := s.Browser.SignedIn(c)
	if err != nil {
		return nil, nil, false, err
	}
	return f, client, f.heldBy(bs), nil
}

func (s consentStep) page(c echo.Context) error {
	f, client, held, err := s.flow(c)
	if err != nil {
		return err
	}
	if !held {
		return s.finishStep(c, f, StepConsent)
	}
	p := templates.ConsentPage{
		Action: oidc.PathConsent, Flow: f.ID, CSRF: oidc.CSRFToken(c),
		ClientName: client.DisplayName(), ClientURI: client.ClientURI,
		Scopes: consentScopes(strings.Fields(f.Form.Get("scope"))),
	}
	return s.Pages.Consent(oidc.StartPage(c, http.StatusOK), p)
}

func (s consentStep) submit(c echo.Context) error {
	f, client, held, err := s.flow(c)
	if err != nil {
		return err
	}
	if !held {
		return s.finishStep(c, f, StepConsent)
	}
	decision := c.FormValue("decision")
	if decision != "allow" && decision != "deny" {
		return &oidc.PageError{Status: http.StatusBadRequest, Title: "Invalid choice", Message: "Please choose Allow or Deny."}
	}
	f.Done.Consent, f.ConsentGranted = true, decision == "allow"
	s.Logger.InfoContext(c.Request().Context(), "consent decided", "client_id", client.ID, "granted", f.ConsentGranted)
	return s.finishStep(c, f, StepConsent)
}

// scopeDescriptions are what the consent page says a scope lets the
// client do.
var scopeDescriptions = map[string]string{
	"openid":         "Confirm your identity",
	"profile":        "See your name, username, picture, language and time zone",
	"email":          "See your email address",
	"phone":          "See your phone number",
	"address":        "See your postal address",
	"offline_access": "Stay signed in to it when you are not using it",
	"roles":          "See the roles you hold here, such as admin",
	// Admin scopes: the application acts as you in the admin area, with
	// at most the permissions your roles give you.
	"users:read":    "Administration: see user accounts, as you can",
	"users:write":   "Administration: create and change user accounts, as you can",
	"users:admin":   "Administration: change users' roles, delete users and reset their second factors, as you can",
	"clients:read":  "Administration: see the registered applications, as you can",
	"clients:write": "Administration: register and change applications, as you can",
	"audit:read":    "Administration: read the audit trail, as you can",
	"usage:read":    "Administration: see usage figures, as you can",
}

func consentScopes(scopes []string) []templates.Scope {
	out := make([]templates.Scope, 0, len(scopes))
	for _, s := range scopes {
		d, ok := scopeDescriptions[s]
		if !ok {
			d = s
		}
		out = append(out, templates.Scope{Name: s, Description: d})
	}
	return out
}
