package console

import (
	"context"
	"errors"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/labstack/echo/v4"

	"gatehouse/identity"
	"gatehouse/identity/access"
	"gatehouse/oidc"
	"gatehouse/oidc/clientreg"
	"gatehouse/templates"
)

// PathClients is the OAuth clients section.
const PathClients = Path + "/clients"

// Clients manages OAuth clients; *clientreg.Admin is one. It checks the
// actor's permissions and audits every change itself.
type Clients interface {
	List(ctx context.Context, actor identity.Actor) ([]*oidc.Client, error)
	Get(ctx context.Context, actor identity.Actor, id string) (*oidc.Client, error)
	Create(ctx context.Context, actor identity.Actor, in clientreg.ClientInput) (*oidc.Client, string, error)
	Update(ctx context.Context, actor identity.Actor, id string, in clientreg.ClientInput) (*oidc.Client, error)
	RotateSecret(ctx context.Context, actor identity.Actor, id string) (string, error)
	Delete(ctx context.Context, actor identity.Actor, id string) error
}

var _ Clients = (*clientreg.Admin)(nil)

var clientsSection = Section{ID: "clients", Path: PathClients, Label: "OAuth clients",
	Description: "Register the applications that sign users in, change their settings, rotate their secrets.", Permission: access.ClientsRead}

// clientPages are the OAuth clients section's pages, over the console's
// Handler (its guard, services and rendering).
type clientPages struct{ *Handler }

func (h *clientPages) mountClients(e *echo.Echo) {
	h.Route(e, http.MethodGet, "/clients", access.ClientsRead, h.clients)
	h.Route(e, http.MethodGet, "/clients/new", access.ClientsWrite, h.newClient)
	h.Route(e, http.MethodPost, "/clients/new", access.ClientsWrite, h.createClient)
	h.Route(e, http.MethodGet, "/clients/:client", access.ClientsRead, h.client)
	h.Route(e, http.MethodGet, "/clients/:client/edit", access.ClientsWrite, h.editClient)
	h.Route(e, http.MethodPost, "/clients/:client/edit", access.ClientsWrite, h.saveClient)
	h.Route(e, http.MethodGet, "/clients/:client/confirm/rotate", access.ClientsWrite, h.confirmClient(clientRotate))
	h.Route(e, http.MethodPost, "/clients/:client/rotate", access.ClientsWrite, h.rotateSecret)
	h.Route(e, http.MethodGet, "/clients/:client/confirm/delete", access.ClientsWrite, h.confirmClient(clientDelete))
	h.Route(e, http.MethodPost, "/clients/:client/delete", access.ClientsWrite, h.deleteClient)
}

// clientNotices are the confirmations a redirect names by key.
var clientNotices = map[string]string{
	"saved":   "The client's settings have been saved.",
	"deleted": "The client has been deleted. Its tokens are no longer accepted.",
}

// clientURL is the page of the client with id, which may hold any
// character a registration allowed.
func clientURL(id string) string { return PathClients + "/" + url.PathEscape(id) }

func (h *clientPages) clients(c echo.Context) error {
	v := ViewerOf(c)
	list, err := h.Clients.List(c.Request().Context(), v.Actor())
	if err != nil {
		return clientError(err)
	}
	p := templates.ConsoleClientsPage{Nav: h.Nav(v, PathClients), Notice: clientNotices[c.QueryParam("notice")]}
	if v.Permissions.Has(access.ClientsWrite) {
		p.NewClientURL = PathClients + "/new"
	}
	for _, cl := range list {
		p.Clients = append(p.Clients, templates.ConsoleClientRow{URL: clientURL(cl.ID), ID: cl.ID, Name: cl.ClientName,
			Type: clientType(cl), AuthMethod: cl.TokenEndpointAuthMethod, Grants: strings.Join(cl.GrantTypes, ", "), FirstParty: cl.FirstParty})
	}
	return h.Pages.ConsoleClients(oidc.StartPage(c, http.StatusOK), p)
}

// clientType is "confidential" for a client that authenticates, "public"
// for one that cannot keep a secret.
func clientType(cl *oidc.Client) string {
	if cl.TokenEndpointAuthMethod == oidc.AuthMethodNone {
		return "public"
	}
	return "confidential"
}

// targetClient reads the client a request names, or answers 404.
func (h *clientPages) targetClient(c echo.Context) (*oidc.Client, error) {
	cl, err := h.Clients.Get(c.Request().Context(), ViewerOf(c).Actor(), c.Param("client"))
	if err != nil {
		return nil, clientError(err)
	}
	return cl, nil
}

func (h *clientPages) client(c echo.Context) error {
	cl, err := h.targetClient(c)
	if err != nil {
		return err
	}
	return h.renderClient(c, cl, clientNotices[c.QueryParam("notice")], "")
}

// renderClient shows cl's page; secret, when set, is shown this once.
func (h *clientPages) renderClient(c echo.Context, cl *oidc.Client, notice, secret string) error {
	v := ViewerOf(c)
	p := templates.ConsoleClientPage{Nav: h.Nav(v, PathClients), Notice: notice, Secret: secret, Client: consoleClient(cl)}
	if v.Permissions.Has(access.ClientsWrite) {
		u := clientURL(cl.ID)
		p.EditURL, p.ConfirmDeleteURL = u+"/edit", u+"/confirm/delete"
		if hasSecret(cl) {
			p.ConfirmRotateURL = u + "/confirm/rotate"
		}
	}
	return h.Pages.ConsoleClient(oidc.StartPage(c, http.StatusOK), p)
}

// hasSecret reports whether cl authenticates with a shared secret.
func hasSecret(cl *oidc.Client) bool {
	m := cl.TokenEndpointAuthMethod
	return m == oidc.AuthMethodBasic || m == oidc.AuthMethodPost || m == ""
}

func consoleClient(cl *oidc.Client) templates.ConsoleClient {
	m := cl.ClientMetadata
	return templates.ConsoleClient{ID: cl.ID, Name: m.ClientName, Type: clientType(cl), AuthMethod: m.TokenEndpointAuthMethod,
		ApplicationType: m.ApplicationType, TokenFormat: m.AccessTokenFormat, Grants: m.GrantTypes, RedirectURIs: m.RedirectURIs,
		PostLogoutURIs: m.PostLogoutRedirectURIs, Scope: m.Scope, BackchannelLogoutURI: m.BackchannelLogoutURI,
		Created: cl.CreatedAt.UTC().Format(time.DateTime), Updated: cl.UpdatedAt.UTC().Format(time.DateTime),
		FirstParty: cl.FirstParty, Dynamic: len(cl.RegistrationTokenHash) > 0}
}

// clientAction is a change confirmed on its own page first.
type clientAction struct {
	name, title, message, label string
}

var (
	clientRotate = clientAction{name: "rotate", title: "Rotate the secret of %s?", label: "Rotate secret",
		message: "A new secret is made and shown once; the current one stops working now, so the application fails until it is given the new one."}
	clientDelete = clientAction{name: "delete", title: "Delete %s?", label: "Delete for good",
		message: "The client and every token and consent given to it go, and cannot be brought back. The audit trail keeps what happened."}
)

func (h *clientPages) confirmClient(a clientAction) echo.HandlerFunc {
	return func(c echo.Context) error {
		cl, err := h.targetClient(c)
		if err != nil {
			return err
		}
		name := cl.ClientName
		if name == "" {
			name = cl.ID
		}
		return h.Pages.ConsoleConfirm(oidc.StartPage(c, http.StatusOK), templates.ConsoleConfirmPage{
			Nav: h.Nav(ViewerOf(c), PathClients), CSRF: oidc.CSRFToken(c), Title: strings.Replace(a.title, "%s", name, 1),
			Message: a.message, Action: clientURL(cl.ID) + "/" + a.name, Button: a.label, ButtonID: "confirm-client-" + a.name,
			CancelURL: clientURL(cl.ID),
		})
	}
}

// rotateSecret replaces the secret and shows the new one this once.
func (h *clientPages) rotateSecret(c echo.Context) error {
	cl, err := h.targetClient(c)
	if err != nil {
		return err
	}
	secret, err := h.Clients.RotateSecret(oidc.WithAuditRequest(c.Request().Context(), c), ViewerOf(c).Actor(), cl.ID)
	if err != nil {
		return clientError(err)
	}
	return h.renderClient(c, cl, "The secret has been rotated: the previous one no longer works.", secret)
}

func (h *clientPages) deleteClient(c echo.Context) error {
	err := h.Clients.Delete(oidc.WithAuditRequest(c.Request().Context(), c), ViewerOf(c).Actor(), c.Param("client"))
	if err != nil {
		return clientError(err)
	}
	return c.Redirect(http.StatusSeeOther, PathClients+"?notice=deleted")
}

// clientError is the page for a refusal of clientreg.Admin that no form
// shows: forbidden is the 403 page, an unknown client the 404 page, a
// client without a secret to rotate a 409 page.
func clientError(err error) error {
	switch {
	case errors.Is(err, clientreg.ErrNotFound):
		return &oidc.PageError{Status: http.StatusNotFound, Title: "Client not found",
			Message: "There is no such client: it may have been deleted."}
	case errors.Is(err, identity.ErrForbidden):
		return forbidden()
	case errors.Is(err, clientreg.ErrNoSecret):
		return &oidc.PageError{Status: http.StatusConflict, Title: "No secret to rotate",
			Message: "This client authenticates without a client secret: there is none to rotate."}
	}
	return err
}
