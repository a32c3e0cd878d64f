package console

import (
	"context"
	"log/slog"
	"net/http"
	"time"

	"github.com/labstack/echo/v4"

	"gatehouse/identity"
	"gatehouse/identity/access"
	"gatehouse/identity/audit"
	"gatehouse/identity/mfa"
	"gatehouse/oidc"
	"gatehouse/templates"
)

// Paths of the console.
const (
	Path      = "/admin"
	PathUsers = Path + "/users"
	// PathUsage is the usage figures, served by another package; a
	// manager, who may see nothing else, lands there.
	PathUsage = Path + "/usage"
)

// DefaultMaxAuthAge is how recent a sign-in must be when
// Handler.MaxAuthAge is zero.
const DefaultMaxAuthAge = 15 * time.Minute

// Sessions tells who is signed in; *oidc.Browser is one.
type Sessions interface {
	// SignedIn returns the browser's active session, or nil.
	SignedIn(c echo.Context) (*oidc.BrowserSession, error)
}

// Users reads a user.
type Users interface {
	GetUser(ctx context.Context, id string) (*identity.User, error)
}

// Roles lists the roles and grants them; *identity.Roles is one.
type Roles interface {
	// ListRoles returns the built-in roles, then the custom ones.
	ListRoles(ctx context.Context) ([]access.Role, error)
	// SetRoles replaces the user's roles.
	SetRoles(ctx context.Context, actor identity.Actor, userID string, roles []string) (*identity.User, error)
}

// Admin changes users; *identity.UserAdmin is one.
type Admin interface {
	Create(ctx context.Context, actor identity.Actor, in identity.AdminCreateInput) (*identity.User, error)
	Update(ctx context.Context, actor identity.Actor, id string, p identity.UserPatch, ifMatch string) (*identity.User, error)
	Deactivate(ctx context.Context, actor identity.Actor, id string) (*identity.User, error)
	Reactivate(ctx context.Context, actor identity.Actor, id string) (*identity.User, error)
	Delete(ctx context.Context, actor identity.Actor, id string) error
	SendPasswordReset(ctx context.Context, actor identity.Actor, id string) error
	Unlock(ctx context.Context, actor identity.Actor, id string) (*identity.User, error)
	EndSessions(ctx context.Context, actor identity.Actor, id string) error
}

// SessionLister lists a user's browser sessions; *oidc.BackchannelSessions
// is one.
type SessionLister interface {
	// ListUserSessions returns a user's sessions, newest first.
	ListUserSessions(ctx context.Context, userID string) ([]*oidc.BrowserSession, error)
}

// Factors lists a user's second factors; *mfa.Service is one.
type Factors interface {
	ListFactors(ctx context.Context, userID string) ([]mfa.Factor, error)
}

// History reads the audit trail; *audit.Log is one.
type History interface {
	List(ctx context.Context, f audit.Filter) ([]audit.Entry, error)
}

// Section is one part of the console, listed in the navigation and on
// the landing page for those who hold Permission.
type Section struct {
	ID          string // stable id of its links: "nav-"+ID, "home-"+ID
	Path        string
	Label       string
	Description string
	Permission  access.Permission
}

// Handler serves the console.
type Handler struct {
	Sessions Sessions
	Users    Users
	Roles    Roles
	Admin    Admin
	Search   identity.UserSearcher
	// UserSessions, Factors and History fill the user page's sessions,
	// second factors and recent activity; each part is left out when nil.
	UserSessions SessionLister
	Factors      Factors
	History      History
	Pages        *templates.Renderer
	CSRF         echo.MiddlewareFunc
	Logger       *slog.Logger
	Now          func() time.Time
	// MaxAuthAge is how recent the sign-in must be; zero means
	// DefaultMaxAuthAge.
	MaxAuthAge time.Duration
	// LogoutURL is the navigation's "Sign out".
	LogoutURL string
	// Clients serves the OAuth clients section and Audit the audit
	// trail viewer; each section is left out when nil.
	Clients Clients
	Audit   AuditTrail
	// Sections are the parts of the console served elsewhere (usage,
	// clients, audit), listed after the users.
	Sections []Section
}

// usersSection is the part this package serves.
var usersSection = Section{ID: "users", Path: PathUsers, Label: "Users",
	Description: "Find, create and change users and managers.", Permission: access.UsersRead}

// Mount registers the console's own pages on e: the landing page, the
// users section, and the clients and audit sections when their services
// are set.
func (h *Handler) Mount(e *echo.Echo) {
	h.Route(e, http.MethodGet, "", "", h.home)
	h.mountUsers(e)
	if h.Clients != nil {
		(&clientPages{h}).mountClients(e)
	}
	if h.Audit != nil {
		(&auditPages{h}).mountAudit(e)
	}
}

// Route registers a page of the console at Path+path, for those whose
// roles grant perm ("" for any permission of the console): behind
// Guard, with the CSRF check of every hosted form and Cache-Control:
// no-store. The other sections (usage, clients, audit) mount their pages
// with it.
func (h *Handler) Route(e *echo.Echo, method, path string, perm access.Permission, fn echo.HandlerFunc) {
	e.Add(method, Path+path, fn, noStore, h.CSRF, h.Guard(perm))
}

// noStore keeps every console answer, redirects and errors included, out
// of caches: the pages show personal data and carry CSRF tokens.
func noStore(next echo.HandlerFunc) echo.HandlerFunc {
	return func(c echo.Context) error {
		c.Response().Header().Set("Cache-Control", "no-store")
		return next(c)
	}
}

func (h *Handler) now() time.Time {
	if h.Now != nil {
		return h.Now()
	}
	return time.Now()
}

func (h *Handler) maxAuthAge() time.Duration {
	if h.MaxAuthAge > 0 {
		return h.MaxAuthAge
	}
	return DefaultMaxAuthAge
}

// sections returns every section, this package's first.
func (h *Handler) sections() []Section {
	own := []Section{usersSection}
	if h.Clients != nil {
		own = append(own, clientsSection)
	}
	if h.Audit != nil {
		own = append(own, auditSection)
	}
	return append(own, h.Sections...)
}

// Nav is the navigation for v, with current marked.
func (h *Handler) Nav(v *Viewer, current string) templates.ConsoleNav {
	nav := templates.ConsoleNav{Current: current, UserName: v.User.Username, LogoutURL: h.LogoutURL,
		Links: []templates.ConsoleLink{{ID: "nav-home", Href: Path, Label: "Overview"}}}
	for _, s := range h.sections() {
		if v.Permissions.Has(s.Permission) {
			nav.Links = append(nav.Links, templates.ConsoleLink{ID: "nav-" + s.ID, Href: s.Path, Label: s.Label})
		}
	}
	return nav
}

// home lists the sections the viewer may open. A manager, who may see
// the usage figures alone, goes straight there.
func (h *Handler) home(c echo.Context) error {
	v := ViewerOf(c)
	if onlyUsage(v.Permissions) {
		return c.Redirect(http.StatusSeeOther, PathUsage)
	}
	p := templates.ConsoleHomePage{Nav: h.Nav(v, Path)}
	for _, s := range h.sections() {
		if v.Permissions.Has(s.Permission) {
			p.Sections = append(p.Sections, templates.ConsoleSection{
				ConsoleLink: templates.ConsoleLink{ID: s.ID, Href: s.Path, Label: s.Label}, Description: s.Description})
		}
	}
	return h.Pages.ConsoleHome(oidc.StartPage(c, http.StatusOK), p)
}

// onlyUsage reports whether usage:read is all the console grants ps.
func onlyUsage(ps access.Set) bool {
	return ps.Has(access.UsageRead) && len(ps.List()) == 1
}

// Landing is where a sign-in without a destination ends for the user:
// the usage figures for a manager, who may see nothing else of the
// console; "" (the home page) for everyone else.
func (h *Handler) Landing(ctx context.Context, userID string) (string, error) {
	u, err := h.Users.GetUser(ctx, userID)
	if err != nil {
		return "", err
	}
	roles, err := h.Roles.ListRoles(ctx)
	if err != nil {
		return "", err
	}
	if u.Status == identity.StatusActive && onlyUsage(access.PermissionsOf(u.Roles, roles)) {
		return PathUsage, nil
	}
	return "", nil
}
