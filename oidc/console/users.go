package console

import (
	"errors"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/labstack/echo/v4"

	"gatehouse/identity"
	"gatehouse/identity/access"
	"gatehouse/oidc"
	"gatehouse/templates"
)

// mountUsers registers the users section.
func (h *Handler) mountUsers(e *echo.Echo) {
	h.Route(e, http.MethodGet, "/users", access.UsersRead, h.users)
	h.Route(e, http.MethodGet, "/users/new", access.UsersWrite, h.newUser)
	h.Route(e, http.MethodPost, "/users/new", access.UsersWrite, h.createUser)
	h.Route(e, http.MethodGet, "/users/:id", access.UsersRead, h.user)
	h.Route(e, http.MethodGet, "/users/:id/edit", access.UsersWrite, h.editUser)
	h.Route(e, http.MethodPost, "/users/:id/edit", access.UsersWrite, h.saveUser)
	h.Route(e, http.MethodGet, "/users/:id/roles", access.UsersAdmin, h.rolesPage)
	h.Route(e, http.MethodPost, "/users/:id/roles", access.UsersAdmin, h.saveRoles)
	h.Route(e, http.MethodGet, "/users/:id/confirm/:action", access.UsersWrite, h.confirm)
	for _, a := range userActions {
		h.Route(e, http.MethodPost, "/users/:id/"+a.name, a.perm, h.act(a))
	}
}

// dateLayout is how the search's date filters are typed (an HTML date
// input's value).
const dateLayout = "2006-01-02"

// users is the user search, with the admin API's filters; its results
// come a page at a time, each with the link to the next.
func (h *Handler) users(c echo.Context) error {
	v := ViewerOf(c)
	ctx := c.Request().Context()
	form := templates.ConsoleUserQuery{
		Q: c.QueryParam("q"), Email: c.QueryParam("email"), Status: c.QueryParam("status"), Role: c.QueryParam("role"),
		CreatedAfter: c.QueryParam("created_after"), CreatedBefore: c.QueryParam("created_before"),
		LastLoginAfter: c.QueryParam("last_login_after"), LastLoginBefore: c.QueryParam("last_login_before"),
		Sort: c.QueryParam("sort"), Direction: c.QueryParam("direction"),
	}
	p := templates.ConsoleUsersPage{Nav: h.Nav(v, PathUsers), Query: form, Errors: map[string]string{},
		Notice: notices[c.QueryParam("notice")]}
	if v.Permissions.Has(access.UsersWrite) {
		p.NewUserURL = PathUsers + "/new"
	}
	roles, err := h.Roles.ListRoles(ctx)
	if err != nil {
		return err
	}
	for _, r := range roles {
		p.Roles = append(p.Roles, r.Name)
	}
	q := identity.UserQuery{Q: form.Q, Email: form.Email, Status: identity.Status(form.Status), Role: form.Role,
		Sort: identity.UserSort(form.Sort), Descending: form.Direction == "desc", Cursor: c.QueryParam("cursor")}
	// The page size, as the admin API takes it; the form does not ask.
	if s := c.QueryParam("limit"); s != "" {
		n, err := strconv.Atoi(s)
		if err != nil {
			p.Errors[identity.FieldLimit] = "Ask for a page size between 1 and 500."
		}
		q.Limit = n
	}
	for key, dst := range map[string]*time.Time{
		"created_after": &q.CreatedAfter, "created_before": &q.CreatedBefore,
		"last_login_after": &q.LastLoginAfter, "last_login_before": &q.LastLoginBefore,
	} {
		s := c.QueryParam(key)
		if s == "" {
			continue
		}
		t, err := time.Parse(dateLayout, s)
		if err != nil {
			p.Errors[key] = "Enter a date as year-month-day, e.g. 2024-03-31."
			continue
		}
		*dst = t
	}
	// The search runs even with a bad date, so every bad filter is named
	// at once; results are shown only when none is.
	page, err := h.Search.SearchUsers(ctx, q)
	var ve *identity.ValidationError
	switch {
	case errors.As(err, &ve):
		for k, msg := range ve.Fields {
			if k == identity.FieldCursor {
				msg += " Search again from the first page."
			}
			p.Errors[k] = msg
		}
	case err != nil:
		return err
	case len(p.Errors) == 0:
		for _, u := range page.Users {
			p.Users = append(p.Users, userRow(u))
		}
		if page.NextCursor != "" {
			next := c.QueryParams()
			next.Set("cursor", page.NextCursor)
			next.Del("notice")
			p.NextURL = PathUsers + "?" + next.Encode()
		}
	}
	return h.Pages.ConsoleUsers(oidc.StartPage(c, http.StatusOK), p)
}

// timeFormat is how the console shows a moment.
const timeFormat = "2 Jan 2006 15:04 MST"

func userRow(u *identity.User) templates.ConsoleUserRow {
	r := templates.ConsoleUserRow{URL: userURL(u.ID), Username: u.Username, Email: u.Email, Name: u.Name(),
		Status: statusWord(u.Status), Roles: strings.Join(u.Roles, ", "), Created: u.CreatedAt.UTC().Format(timeFormat)}
	if u.LastLoginAt != nil {
		r.LastLogin = u.LastLoginAt.UTC().Format(timeFormat)
	} else {
		r.LastLogin = "Never"
	}
	return r
}

func statusWord(s identity.Status) string {
	if s == identity.StatusActive {
		return "Active"
	}
	return "Deactivated"
}

// notices are the confirmations a redirect names by key, so that no text
// from the URL is ever shown.
var notices = map[string]string{
	"created":        "The user has been created.",
	"invited":        "The user has been created, and an invitation to choose a password is on its way.",
	"saved":          "The changes have been saved.",
	"roles":          "The roles have been saved.",
	"deactivated":    "The user has been deactivated and signed out everywhere.",
	"reactivated":    "The user has been reactivated.",
	"reset_sent":     "A password reset link is on its way to the user.",
	"unlocked":       "The user has been unlocked.",
	"sessions_ended": "Every session of the user has been ended.",
	"deleted":        "The user has been deleted.",
}

// target reads the user a request names, or answers 404.
func (h *Handler) target(c echo.Context) (*identity.User, error) {
	id := c.Param("id")
	if !validID(id) {
		return nil, notFound()
	}
	u, err := h.Users.GetUser(c.Request().Context(), id)
	if errors.Is(err, identity.ErrNotFound) {
		return nil, notFound()
	}
	return u, err
}

// back redirects to the user's page with a notice.
func back(c echo.Context, id, notice string) error {
	return c.Redirect(http.StatusSeeOther, userURL(id)+"?"+url.Values{"notice": {notice}}.Encode())
}
