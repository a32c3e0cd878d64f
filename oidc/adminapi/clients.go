package adminapi

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"

	"github.com/labstack/echo/v4"

	"gatehouse/identity"
	"gatehouse/oidc"
	"gatehouse/oidc/clientreg"
)

// ClientAdmin is what the API needs of clientreg.Admin.
type ClientAdmin interface {
	List(ctx context.Context, actor identity.Actor) ([]*oidc.Client, error)
	Get(ctx context.Context, actor identity.Actor, id string) (*oidc.Client, error)
	Create(ctx context.Context, actor identity.Actor, in clientreg.ClientInput) (*oidc.Client, string, error)
	Update(ctx context.Context, actor identity.Actor, id string, in clientreg.ClientInput) (*oidc.Client, error)
	RotateSecret(ctx context.Context, actor identity.Actor, id string) (string, error)
	Delete(ctx context.Context, actor identity.Actor, id string) error
}

// ListClients answers GET /clients.
func (h *Handler) ListClients(c echo.Context) error {
	list, err := h.Clients.List(c.Request().Context(), actor(c))
	if err != nil {
		return clientProblem(err)
	}
	out := ClientList{Clients: make([]Client, len(list))}
	for i, cl := range list {
		out.Clients[i] = clientJSON(cl, "")
	}
	return c.JSON(http.StatusOK, out)
}

// GetClient answers GET /clients/{client_id}.
func (h *Handler) GetClient(c echo.Context, id ClientID) error {
	cl, err := h.Clients.Get(c.Request().Context(), actor(c), id)
	if err != nil {
		return clientProblem(err)
	}
	return c.JSON(http.StatusOK, clientJSON(cl, ""))
}

// CreateClient answers POST /clients: 201 with Location, and the secret
// this once.
func (h *Handler) CreateClient(c echo.Context) error {
	in, err := clientInput(c)
	if err != nil {
		return err
	}
	cl, secret, err := h.Clients.Create(c.Request().Context(), actor(c), in)
	if err != nil {
		return clientProblem(err)
	}
	c.Response().Header().Set(echo.HeaderLocation, Path+"/clients/"+cl.ID)
	return c.JSON(http.StatusCreated, clientJSON(cl, secret))
}

// UpdateClient answers PUT /clients/{client_id}.
func (h *Handler) UpdateClient(c echo.Context, id ClientID) error {
	in, err := clientInput(c)
	if err != nil {
		return err
	}
	cl, err := h.Clients.Update(c.Request().Context(), actor(c), id, in)
	if err != nil {
		return clientProblem(err)
	}
	return c.JSON(http.StatusOK, clientJSON(cl, ""))
}

// RotateClientSecret answers POST /clients/{client_id}/secret.
func (h *Handler) RotateClientSecret(c echo.Context, id ClientID) error {
	secret, err := h.Clients.RotateSecret(c.Request().Context(), actor(c), id)
	if err != nil {
		return clientProblem(err)
	}
	return c.JSON(http.StatusOK, ClientSecret{ClientId: id, ClientSecret: secret})
}

// DeleteClient answers DELETE /clients/{client_id}.
func (h *Handler) DeleteClient(c echo.Context, id ClientID) error {
	if err := h.Clients.Delete(c.Request().Context(), actor(c), id); err != nil {
		return clientProblem(err)
	}
	return c.NoContent(http.StatusNoContent)
}

// clientInput reads a ClientInput body. Its JSON names are RFC 7591's,
// so the metadata part decodes straight into clientreg.Metadata; the
// generated type has checked it against the document already.
func clientInput(c echo.Context) (clientreg.ClientInput, error) {
	var in ClientInput
	if err := decode(c, &in); err != nil {
		return clientreg.ClientInput{}, err
	}
	raw, _ := json.Marshal(in)
	var out clientreg.ClientInput
	if err := json.Unmarshal(raw, &out.Metadata); err != nil {
		return out, fieldProblem("The body is not valid for this call.", FieldError{Field: "body", Detail: "Not of the expected type."})
	}
	out.FirstParty, out.ResourceServer = flag(in.FirstParty), flag(in.ResourceServer)
	out.Audience, out.ResourceAudience = derefList(in.Audience), derefList(in.ResourceAudience)
	return out, nil
}

// clientJSON is the API's form of cl; secret is set only in the answer
// that created it.
func clientJSON(cl *oidc.Client, secret string) Client {
	m := cl.ClientMetadata
	out := Client{
		ClientId: cl.ID, ClientSecret: optional(secret), ClientName: optional(m.ClientName),
		RedirectUris: list(m.RedirectURIs), PostLogoutRedirectUris: list(m.PostLogoutRedirectURIs),
		GrantTypes: nonNil(m.GrantTypes), ResponseTypes: nonNil(m.ResponseTypes), Scope: optional(m.Scope),
		TokenEndpointAuthMethod: optional(m.TokenEndpointAuthMethod), TokenEndpointAuthSigningAlg: optional(m.TokenEndpointAuthSigningAlg),
		JwksUri: optional(m.JWKSURI), ApplicationType: optional(m.ApplicationType),
		BackchannelLogoutUri: optional(m.BackchannelLogoutURI), AccessTokenFormat: optional(m.AccessTokenFormat),
		FirstParty: cl.FirstParty, Audience: list(cl.Audience), ResourceServer: cl.ResourceServer,
		ResourceAudience: list(cl.ResourceAudience), CreatedAt: cl.CreatedAt.UTC(), UpdatedAt: cl.UpdatedAt.UTC(),
	}
	if len(m.JWKS) > 0 {
		var jwks map[string]any
		if json.Unmarshal(m.JWKS, &jwks) == nil {
			out.Jwks = &jwks
		}
	}
	dynamic := len(cl.RegistrationTokenHash) > 0
	out.DynamicallyRegistered = &dynamic
	return out
}

// clientProblem is the problem for an error of clientreg.Admin.
func clientProblem(err error) error {
	var me *clientreg.MetadataError
	switch {
	case errors.As(err, &me):
		field := me.Field
		if field == "" {
			field = "body"
		}
		return fieldProblem("The client's settings are not valid.", FieldError{Field: field, Detail: me.Description})
	case errors.Is(err, clientreg.ErrNotFound):
		return newProblem(http.StatusNotFound, "No such client.")
	case errors.Is(err, clientreg.ErrNoSecret):
		return newProblem(http.StatusConflict, "This client authenticates without a client secret: there is none to rotate.")
	case errors.Is(err, identity.ErrForbidden):
		return newProblem(http.StatusForbidden, "Your permissions do not allow this change.")
	}
	return err
}

// list is nil for an empty list, so the answer leaves it out.
func list(l []string) *[]string {
	if len(l) == 0 {
		return nil
	}
	return &l
}

func nonNil(l []string) []string {
	if l == nil {
		return []string{}
	}
	return l
}
