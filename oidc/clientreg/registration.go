package clientreg

import (
	"crypto/sha256"
	"crypto/subtle"
	"encoding/json"
	"errors"
	"io"
	"mime"
	"net/http"

	"github.com/google/uuid"
	"github.com/labstack/echo/v4"

	"gatehouse/identity/audit"
	"gatehouse/oidc"
)

// registrationResponse is the client information response of RFC 7591
// §3.2.1 and RFC 7592 §3: the registered metadata plus what the server
// assigned.
type registrationResponse struct {
	ClientID         string `json:"client_id"`
	ClientSecret     string `json:"client_secret,omitempty"`
	ClientIDIssuedAt int64  `json:"client_id_issued_at"`
	// ClientSecretExpiresAt is REQUIRED when the client has a secret; 0
	// means it does not expire.
	ClientSecretExpiresAt   *int64 `json:"client_secret_expires_at,omitempty"`
	RegistrationAccessToken string `json:"registration_access_token,omitempty"`
	RegistrationClientURI   string `json:"registration_client_uri"`
	Metadata
}

// updateRequest is the RFC 7592 §2.2 body: the full metadata plus the
// client's identifiers.
type updateRequest struct {
	ClientID     string `json:"client_id"`
	ClientSecret string `json:"client_secret"`
	Metadata
}

// registerClient serves RFC 7591 §3.1 dynamic client registration,
// protected by the configured initial access token (§3).
func (h *Handler) registerClient(c echo.Context) error {
	if h.InitialAccessToken == "" {
		return registrationJSON(c, http.StatusForbidden, map[string]string{
			"error": "access_denied", "error_description": "dynamic client registration is not enabled on this server",
		})
	}
	if !initialTokenMatches(bearerToken(c.Request()), h.InitialAccessToken) {
		return registrationUnauthorized(c)
	}
	var m Metadata
	if err := decodeRegistration(c, &m); err != nil {
		return registrationFailed(c, err)
	}
	if err := m.ValidateFor(h.Outbound); err != nil {
		return registrationFailed(c, err)
	}
	if err := m.RefuseAdminScopes(); err != nil {
		return registrationFailed(c, err)
	}
	ctx := c.Request().Context()
	hasher := h.Provider.Config.GetSecretsHasher(ctx)
	now := h.Now().UTC()
	cl := &oidc.Client{ID: uuid.NewString(), CreatedAt: now, UpdatedAt: now, LastUsedAt: now}
	m.Apply(cl)
	secret, err := h.issueSecret(c, cl)
	if err != nil {
		return err
	}
	token := oidc.NewSecret()
	if cl.RegistrationTokenHash, err = hasher.Hash(ctx, []byte(token)); err != nil {
		return err
	}
	if err := h.Clients.CreateClient(ctx, cl); err != nil {
		return err
	}
	h.Logger.InfoContext(ctx, "client registered", "client_id", cl.ID)
	h.audit(c, audit.Entry{ActorType: audit.ActorClient, ActorID: cl.ID, Subject: cl.ID, Action: audit.ActionClientCreated, Details: audit.Details{"via": "dynamic_registration"}})
	resp := h.clientInformation(cl, secret)
	resp.RegistrationAccessToken = token
	return registrationJSON(c, http.StatusCreated, resp)
}

// readClient serves RFC 7592 §2.1. The secret and the registration
// access token are stored only as hashes, so neither is returned.
func (h *Handler) readClient(c echo.Context) error {
	cl, err := h.registeredClient(c)
	if err != nil || cl == nil {
		return err
	}
	// RFC 7592 §3 lists the registration access token in the response;
	// only its hash is stored, so echo the one that was presented.
	resp := h.clientInformation(cl, "")
	resp.RegistrationAccessToken = bearerToken(c.Request())
	return registrationJSON(c, http.StatusOK, resp)
}

// updateClient serves RFC 7592 §2.2: the body replaces every metadata
// value; the ID, secret, registration token and creation time stay.
func (h *Handler) updateClient(c echo.Context) error {
	cl, err := h.registeredClient(c)
	if err != nil || cl == nil {
		return err
	}
	var req updateRequest
	if err := decodeRegistration(c, &req); err != nil {
		return registrationFailed(c, err)
	}
	ctx := c.Request().Context()
	// RFC 7592 §2.2: client_id MUST be included and match; a
	// client_secret, if included, MUST match.
	if req.ClientID != cl.ID {
		return registrationFailed(c, invalidMetadata("client_id must be present and match the client being updated"))
	}
	if req.ClientSecret != "" && (len(cl.SecretHash) == 0 ||
		h.Provider.Config.GetSecretsHasher(ctx).Compare(ctx, cl.SecretHash, []byte(req.ClientSecret)) != nil) {
		return registrationFailed(c, invalidMetadata("client_secret does not match the client's secret"))
	}
	if err := req.Metadata.ValidateFor(h.Outbound); err != nil {
		return registrationFailed(c, err)
	}
	if err := req.Metadata.RefuseAdminScopes(); err != nil {
		return registrationFailed(c, err)
	}
	req.Metadata.Apply(cl)
	secret, err := h.issueSecret(c, cl)
	if err != nil {
		return err
	}
	cl.UpdatedAt = h.Now().UTC()
	err = h.Clients.UpdateClient(ctx, cl)
	if errors.Is(err, oidc.ErrClientNotFound) {
		return registrationUnauthorized(c) // deleted meanwhile
	}
	if err != nil {
		return err
	}
	h.Provider.Clients.Forget(cl.ID)
	h.Logger.InfoContext(ctx, "client registration updated", "client_id", cl.ID)
	h.audit(c, audit.Entry{ActorType: audit.ActorClient, ActorID: cl.ID, Subject: cl.ID, Action: audit.ActionClientUpdated, Details: audit.Details{"via": "dynamic_registration"}})
	resp := h.clientInformation(cl, secret)
	resp.RegistrationAccessToken = bearerToken(c.Request())
	return registrationJSON(c, http.StatusOK, resp)
}

// deleteClient serves RFC 7592 §2.3. The client's tokens go with it, and
// the registration access token stops working.
func (h *Handler) deleteClient(c echo.Context) error {
	cl, err := h.registeredClient(c)
	if err != nil || cl == nil {
		return err
	}
	ctx := c.Request().Context()
	err = h.Clients.DeleteClient(ctx, cl.ID)
	if errors.Is(err, oidc.ErrClientNotFound) {
		return registrationUnauthorized(c)
	}
	if err != nil {
		return err
	}
	h.Provider.Clients.Forget(cl.ID)
	h.Logger.InfoContext(ctx, "client registration deleted", "client_id", cl.ID)
	h.audit(c, audit.Entry{ActorType: audit.ActorClient, ActorID: cl.ID, Subject: cl.ID, Action: audit.ActionClientDeleted, Details: audit.Details{"via": "dynamic_registration"}})
	noStore(c)
	return c.NoContent(http.StatusNoContent)
}

// registeredClient authenticates an RFC 7592 request by the client's
// registration access token. When that fails it has already answered 401
// and returns a nil client. An unknown client and a wrong token look the
// same, so the endpoint does not reveal which client IDs exist.
func (h *Handler) registeredClient(c echo.Context) (*oidc.Client, error) {
	token := bearerToken(c.Request())
	if token == "" {
		return nil, registrationUnauthorized(c)
	}
	ctx := c.Request().Context()
	cl, err := h.Clients.GetClient(ctx, c.Param("id"))
	if errors.Is(err, oidc.ErrClientNotFound) {
		return nil, registrationUnauthorized(c)
	}
	if err != nil {
		return nil, err
	}
	if len(cl.RegistrationTokenHash) == 0 ||
		h.Provider.Config.GetSecretsHasher(ctx).Compare(ctx, cl.RegistrationTokenHash, []byte(token)) != nil {
		return nil, registrationUnauthorized(c)
	}
	return cl, nil
}

// issueSecret gives a client that authenticates with a shared secret one
// if it has none, and takes it from a client that no longer uses one. It
// returns the new secret in the clear, or "".
func (h *Handler) issueSecret(c echo.Context, cl *oidc.Client) (string, error) {
	if cl.TokenEndpointAuthMethod != oidc.AuthMethodBasic && cl.TokenEndpointAuthMethod != oidc.AuthMethodPost {
		cl.SecretHash = nil
		return "", nil
	}
	if len(cl.SecretHash) > 0 {
		return "", nil
	}
	ctx := c.Request().Context()
	secret := oidc.NewSecret()
	hash, err := h.Provider.Config.GetSecretsHasher(ctx).Hash(ctx, []byte(secret))
	if err != nil {
		return "", err
	}
	cl.SecretHash = hash
	return secret, nil
}

func (h *Handler) clientInformation(cl *oidc.Client, secret string) *registrationResponse {
	resp := &registrationResponse{
		ClientID:              cl.ID,
		ClientSecret:          secret,
		ClientIDIssuedAt:      cl.CreatedAt.Unix(),
		RegistrationClientURI: h.Provider.Issuer + Path + "/" + cl.ID,
		Metadata:              MetadataOf(cl),
	}
	if len(cl.SecretHash) > 0 {
		// RFC 7591 §3.2.1: 0 means the secret does not expire. A
		// dynamically registered client (and its secret) expires when it
		// has not authenticated for UnusedClientLifetime, so each use moves
		// this time on: it is the expiry if the client is not used again.
		var exp int64
		if h.UnusedClientLifetime > 0 && len(cl.RegistrationTokenHash) > 0 {
			exp = cl.LastUsedAt.Add(h.UnusedClientLifetime).Unix()
		}
		resp.ClientSecretExpiresAt = &exp
	}
	return resp
}

// decodeRegistration reads a JSON request body into v. Bad input is a
// *MetadataError; a body over the size limit stays an *echo.HTTPError.
func decodeRegistration(c echo.Context, v any) error {
	mt, _, err := mime.ParseMediaType(c.Request().Header.Get(echo.HeaderContentType))
	if err != nil || mt != echo.MIMEApplicationJSON {
		return invalidMetadata("the request body must be application/json")
	}
	dec := json.NewDecoder(c.Request().Body)
	err = dec.Decode(v)
	if err == nil && dec.Decode(&struct{}{}) != io.EOF {
		err = errors.New("unexpected data after the JSON object")
	}
	var he *echo.HTTPError
	var mbe *http.MaxBytesError
	switch {
	case err == nil:
		return nil
	case errors.As(err, &he):
		return he
	case errors.As(err, &mbe):
		return echo.ErrStatusRequestEntityTooLarge
	}
	return invalidMetadata("the request body is not valid client metadata JSON")
}

// registrationFailed answers bad input as RFC 7591 §3.2.2 says and passes
// any other error on to the error handler.
func registrationFailed(c echo.Context, err error) error {
	var merr *MetadataError
	if !errors.As(err, &merr) {
		return err
	}
	return registrationJSON(c, http.StatusBadRequest, merr)
}

// registrationUnauthorized answers a missing or wrong bearer token
// (RFC 6750 §3.1).
func registrationUnauthorized(c echo.Context) error {
	c.Response().Header().Set(echo.HeaderWWWAuthenticate, `Bearer error="invalid_token"`)
	return registrationJSON(c, http.StatusUnauthorized, map[string]string{"error": "invalid_token"})
}

// registrationJSON writes v uncached: the responses carry secrets and
// tokens (RFC 7591 §3.2.1).
func registrationJSON(c echo.Context, status int, v any) error {
	noStore(c)
	return c.JSON(status, v)
}

func noStore(c echo.Context) {
	c.Response().Header().Set(echo.HeaderCacheControl, "no-store")
	c.Response().Header().Set("Pragma", "no-cache")
}

// bearerToken returns the RFC 6750 §2.1 bearer token, or "".
func bearerToken(r *http.Request) string {
	tok, _ := oidc.BearerToken(r)
	return tok
}

// initialTokenMatches compares in constant time; hashing first keeps the
// token's length from leaking too.
func initialTokenMatches(got, want string) bool {
	g, w := sha256.Sum256([]byte(got)), sha256.Sum256([]byte(want))
	return got != "" && subtle.ConstantTimeCompare(g[:], w[:]) == 1
}
