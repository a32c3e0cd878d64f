package clientreg

import (
	"log/slog"
	"time"

	"github.com/labstack/echo/v4"

	"gatehouse/identity/audit"
	"gatehouse/identity/egress"
	"gatehouse/oidc"
)

// Path is the client registration endpoint (RFC 7591 §3); a client's own
// registration is at Path/{client_id} (RFC 7592 §2).
const Path = oidc.PathClientRegistration

// Handler serves the client registration endpoint.
type Handler struct {
	// Clients stores the registered clients.
	Clients oidc.ClientStore
	// Provider hashes secrets, names the issuer and caches clients.
	Provider *oidc.Provider
	// Auditor records security events (nil records nothing).
	Auditor oidc.AuditRecorder
	Logger  *slog.Logger
	Now     func() time.Time
	// InitialAccessToken guards registration; empty turns it off.
	InitialAccessToken string
	// UnusedClientLifetime is how long a registered client may go
	// without authenticating before it is purged; zero: forever. The
	// response reports it as client_secret_expires_at.
	UnusedClientLifetime time.Duration
	// Outbound is the policy registered URLs the server calls (jwks_uri,
	// backchannel_logout_uri) must meet; the zero value is the strict one.
	Outbound egress.Policy
}

// Mount registers the endpoint's routes on g.
func (h *Handler) Mount(g *echo.Group) {
	g.POST(Path, h.registerClient)
	g.GET(Path+"/:id", h.readClient)
	g.PUT(Path+"/:id", h.updateClient)
	g.DELETE(Path+"/:id", h.deleteClient)
}

func (h *Handler) audit(c echo.Context, e audit.Entry) { oidc.Audit(c, h.Auditor, h.Logger, e) }
