package console

import (
	"errors"
	"net/http"
	"slices"
	"strings"

	"github.com/labstack/echo/v4"

	"gatehouse/oidc"
	"gatehouse/oidc/clientreg"
	"gatehouse/templates"
)

// The choices the client form offers.
var (
	formGrants = []templates.ConsoleOption{
		{Value: "authorization_code", Label: "Authorization code (users sign in)"},
		{Value: "refresh_token", Label: "Refresh token"},
		{Value: "client_credentials", Label: "Client credentials (the application acts for itself)"},
	}
	formAuthMethods = []templates.ConsoleOption{
		{Value: oidc.AuthMethodBasic, Label: "Client secret, HTTP Basic (client_secret_basic)"},
		{Value: oidc.AuthMethodPost, Label: "Client secret in the form (client_secret_post)"},
		{Value: oidc.AuthMethodPrivateKeyJWT, Label: "Signed assertion (private_key_jwt, keys set through the API)"},
		{Value: oidc.AuthMethodNone, Label: "None: a public client, with PKCE"},
	}
	formTokenFormats = []templates.ConsoleOption{
		{Value: oidc.TokenFormatOpaque, Label: "Opaque"},
		{Value: oidc.TokenFormatJWT, Label: "JWT (RFC 9068)"},
	}
	formAppTypes = []templates.ConsoleOption{
		{Value: oidc.AppTypeWeb, Label: "Web"},
		{Value: oidc.AppTypeNative, Label: "Native"},
	}
)

// formValues are the form's values for in.
func formValues(in clientreg.ClientInput) templates.ConsoleClientValues {
	m := in.Metadata
	return templates.ConsoleClientValues{
		Name: m.ClientName, RedirectURIs: strings.Join(m.RedirectURIs, "\n"), PostLogoutURIs: strings.Join(m.PostLogoutRedirectURIs, "\n"),
		Scope: m.Scope, BackchannelLogoutURI: m.BackchannelLogoutURI, FirstParty: in.FirstParty,
		Grants: checked(formGrants, m.GrantTypes...), AuthMethods: checked(formAuthMethods, m.TokenEndpointAuthMethod),
		TokenFormats: checked(formTokenFormats, m.AccessTokenFormat), ApplicationTypes: checked(formAppTypes, m.ApplicationType),
	}
}

// checked is opts with those in values ticked.
func checked(opts []templates.ConsoleOption, values ...string) []templates.ConsoleOption {
	out := slices.Clone(opts)
	for i := range out {
		out[i].Checked = slices.Contains(values, out[i].Value)
	}
	return out
}

// readClientForm puts what the form sets over in, which keeps what the
// form does not show (keys, audiences, logo…): the update replaces the
// whole client.
func readClientForm(c echo.Context, in clientreg.ClientInput) (clientreg.ClientInput, error) {
	form, err := c.FormParams()
	if err != nil {
		return in, err
	}
	m := &in.Metadata
	m.ClientName = strings.TrimSpace(form.Get("client_name"))
	m.RedirectURIs = lines(form.Get("redirect_uris"))
	m.PostLogoutRedirectURIs = lines(form.Get("post_logout_redirect_uris"))
	m.GrantTypes = form["grant_types"]
	// The response types follow the grants: "code" with the
	// authorization code grant, none without it.
	m.ResponseTypes = nil
	m.Scope = strings.Join(strings.Fields(form.Get("scope")), " ")
	m.TokenEndpointAuthMethod = form.Get("token_endpoint_auth_method")
	m.ApplicationType = form.Get("application_type")
	m.AccessTokenFormat = form.Get("access_token_format")
	m.BackchannelLogoutURI = strings.TrimSpace(form.Get("backchannel_logout_uri"))
	in.FirstParty = form.Get("first_party") != ""
	return in, nil
}

// lines are the non-blank lines of a textarea, trimmed.
func lines(s string) []string {
	var out []string
	for _, l := range strings.Split(s, "\n") {
		if l = strings.TrimSpace(l); l != "" {
			out = append(out, l)
		}
	}
	return out
}

func (h *clientPages) newClient(c echo.Context) error {
	in := clientreg.ClientInput{Metadata: clientreg.Metadata{GrantTypes: []string{"authorization_code", "refresh_token"},
		TokenEndpointAuthMethod: oidc.AuthMethodBasic, ApplicationType: oidc.AppTypeWeb, AccessTokenFormat: oidc.TokenFormatOpaque,
		Scope: "openid profile email"}}
	return h.renderClientForm(c, http.StatusOK, "", formValues(in), nil)
}

// renderClientForm shows the form for the client with id, or for a new
// client when id is "".
func (h *clientPages) renderClientForm(c echo.Context, status int, id string, vals templates.ConsoleClientValues, errs map[string]string) error {
	p := templates.ConsoleClientFormPage{Nav: h.Nav(ViewerOf(c), PathClients), CSRF: oidc.CSRFToken(c),
		Title: "Register a client", Action: PathClients + "/new", Create: true, Values: vals, Errors: errs, CancelURL: PathClients}
	if id != "" {
		p.Title, p.Action, p.Create, p.CancelURL = "Edit "+id, clientURL(id)+"/edit", false, clientURL(id)
	}
	return h.Pages.ConsoleClientForm(oidc.StartPage(c, status), p)
}

// createClient registers the client and shows its page with the secret,
// this once.
func (h *clientPages) createClient(c echo.Context) error {
	in, err := readClientForm(c, clientreg.ClientInput{})
	if err != nil {
		return err
	}
	cl, secret, err := h.Clients.Create(oidc.WithAuditRequest(c.Request().Context(), c), ViewerOf(c).Actor(), in)
	if errs, ok := fieldErrors(err); ok {
		return h.renderClientForm(c, http.StatusUnprocessableEntity, "", formValues(in), errs)
	}
	if err != nil {
		return clientError(err)
	}
	return h.renderClient(c, cl, "The client has been registered.", secret)
}

func (h *clientPages) editClient(c echo.Context) error {
	cl, err := h.targetClient(c)
	if err != nil {
		return err
	}
	return h.renderClientForm(c, http.StatusOK, cl.ID, formValues(clientreg.InputOf(cl)), nil)
}

// saveClient replaces the client's settings with the form's, over the
// client as it is now.
func (h *clientPages) saveClient(c echo.Context) error {
	cl, err := h.targetClient(c)
	if err != nil {
		return err
	}
	in, err := readClientForm(c, clientreg.InputOf(cl))
	if err != nil {
		return err
	}
	_, err = h.Clients.Update(oidc.WithAuditRequest(c.Request().Context(), c), ViewerOf(c).Actor(), cl.ID, in)
	if errs, ok := fieldErrors(err); ok {
		return h.renderClientForm(c, http.StatusUnprocessableEntity, cl.ID, formValues(in), errs)
	}
	if err != nil {
		return clientError(err)
	}
	return c.Redirect(http.StatusSeeOther, clientURL(cl.ID)+"?notice=saved")
}

// fieldErrors maps a *clientreg.MetadataError to the form's errors, by
// the field at fault ("form" when it names none).
func fieldErrors(err error) (map[string]string, bool) {
	var me *clientreg.MetadataError
	if !errors.As(err, &me) {
		return nil, false
	}
	field := me.Field
	if field == "" {
		field = "form"
	}
	return map[string]string{field: me.Description}, true
}
