package console

import (
	"errors"
	"net/http"
	"net/url"

	"github.com/labstack/echo/v4"

	"gatehouse/identity"
	"gatehouse/identity/access"
	"gatehouse/oidc"
)

// Viewer is the person a console request is for, as Guard read them at
// this request.
type Viewer struct {
	User    *identity.User
	Session *oidc.BrowserSession
	// Permissions are what the user's roles grant now.
	Permissions access.Set
}

// Actor is who the services act for and the audit trail names.
func (v *Viewer) Actor() identity.Actor {
	return identity.Actor{UserID: v.User.ID, Permissions: v.Permissions}
}

// viewerKey is the echo context key of the Viewer.
const viewerKey = "console.viewer"

// ViewerOf returns the Viewer Guard found; nil outside a guarded route.
func ViewerOf(c echo.Context) *Viewer {
	v, _ := c.Get(viewerKey).(*Viewer)
	return v
}

// Guard lets a request through only for the browser session of an
// active user whose roles grant perm ("" asks for any permission of the
// console), signed in within MaxAuthAge. See the package documentation
// for where everyone else goes.
func (h *Handler) Guard(perm access.Permission) echo.MiddlewareFunc {
	return func(next echo.HandlerFunc) echo.HandlerFunc {
		return func(c echo.Context) error {
			c.Response().Header().Set("Cache-Control", "no-store")
			ctx := c.Request().Context()
			bs, err := h.Sessions.SignedIn(c)
			if err != nil {
				return err
			}
			if bs == nil {
				return signIn(c)
			}
			u, err := h.Users.GetUser(ctx, bs.UserID)
			if errors.Is(err, identity.ErrNotFound) {
				return signIn(c)
			}
			if err != nil {
				return err
			}
			roles, err := h.Roles.ListRoles(ctx)
			if err != nil {
				return err
			}
			perms := access.PermissionsOf(u.Roles, roles)
			if u.Status != identity.StatusActive {
				perms = access.Set{}
			}
			if !allowed(perms, perm) {
				return forbidden()
			}
			// A page of the console changes other people's accounts:
			// a session left open on a shared desk must not do it.
			if h.now().Sub(bs.AuthTime) > h.maxAuthAge() {
				h.Logger.InfoContext(ctx, "console asks for a fresh sign-in", "user_id", u.ID)
				return signIn(c)
			}
			c.Set(viewerKey, &Viewer{User: u, Session: bs, Permissions: perms})
			return next(c)
		}
	}
}

// allowed reports whether perms hold perm, or for "" any permission.
func allowed(perms access.Set, perm access.Permission) bool {
	if perm == "" {
		return len(perms.List()) > 0
	}
	return perms.Has(perm)
}

// signIn sends the browser to the sign-in page, to come back to the page
// it asked for. A form posted is not replayed after the sign-in: it comes
// back to the console's page it was posted from, whose button the user
// presses again.
func signIn(c echo.Context) error {
	back := c.Request().URL.RequestURI()
	if c.Request().Method != http.MethodGet {
		back = pageOf(c)
	}
	return c.Redirect(http.StatusSeeOther, oidc.PathLogin+"?next="+url.QueryEscape(back))
}

// pageOf is the page a console form was posted from: the user's or the
// client's page for a change of one, the form for a creation, the
// console's landing otherwise.
func pageOf(c echo.Context) string {
	if id := c.Param("id"); id != "" && validID(id) {
		return userURL(id)
	}
	if id := c.Param("client"); id != "" {
		return clientURL(id)
	}
	if c.Path() == PathUsers+"/new" || c.Path() == PathClients+"/new" {
		return c.Path()
	}
	return Path
}

func forbidden() error {
	return &oidc.PageError{Status: http.StatusForbidden, Title: "Not allowed",
		Message: "Your roles do not let you open this page of the admin console."}
}

func notFound() error {
	return &oidc.PageError{Status: http.StatusNotFound, Title: "User not found",
		Message: "There is no such user: they may have been deleted."}
}
