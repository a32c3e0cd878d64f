package console

import (
	"errors"
	"net/http"
	"slices"

	"github.com/labstack/echo/v4"

	"gatehouse/identity"
	"gatehouse/identity/access"
	"gatehouse/oidc"
	"gatehouse/templates"
)

// newUser is the form that creates a user or a manager: an invitation to
// choose a password is ticked unless the administrator unticks it.
func (h *Handler) newUser(c echo.Context) error {
	return h.renderCreate(c, http.StatusOK, templates.ConsoleUserValues{Invite: true}, nil, nil, "")
}

func (h *Handler) renderCreate(c echo.Context, status int, vals templates.ConsoleUserValues, chosen []string, errs map[string]string, alert string) error {
	v := ViewerOf(c)
	roles, err := h.roleOptions(c, chosen, v.Permissions.Has(access.UsersAdmin))
	if err != nil {
		return err
	}
	return h.Pages.ConsoleUserForm(oidc.StartPage(c, status), templates.ConsoleUserFormPage{
		Nav: h.Nav(v, PathUsers), CSRF: oidc.CSRFToken(c), Title: "Create user or manager", Action: PathUsers + "/new",
		Create: true, Values: vals, Roles: roles, Errors: errs, Alert: alert, CancelURL: PathUsers,
	})
}

// roleOptions are the role checkboxes, chosen ticked. Without
// users:admin only the plain user role can be given (identity.UserAdmin
// refuses the others), so only it is offered.
func (h *Handler) roleOptions(c echo.Context, chosen []string, admin bool) ([]templates.ConsoleRoleOption, error) {
	roles, err := h.Roles.ListRoles(c.Request().Context())
	if err != nil {
		return nil, err
	}
	var out []templates.ConsoleRoleOption
	for _, r := range roles {
		if !admin && r.Name != access.RoleUser {
			continue
		}
		out = append(out, templates.ConsoleRoleOption{Name: r.Name, Description: r.Description, Checked: slices.Contains(chosen, r.Name)})
	}
	return out, nil
}

// createUser creates the user through identity.UserAdmin; every refusal
// comes back on the form, next to its field.
func (h *Handler) createUser(c echo.Context) error {
	vals := templates.ConsoleUserValues{Username: c.FormValue("username"), Email: c.FormValue("email"),
		GivenName: c.FormValue("given_name"), FamilyName: c.FormValue("family_name"), Invite: c.FormValue("invite") != ""}
	form, err := c.FormParams()
	if err != nil {
		return err
	}
	roles := form["roles"]
	in := identity.AdminCreateInput{Username: vals.Username, Email: vals.Email, GivenName: vals.GivenName, FamilyName: vals.FamilyName,
		Invite: vals.Invite, Roles: roles}
	if !vals.Invite {
		in.Password = c.FormValue("password")
		if in.Password == "" {
			return h.renderCreate(c, http.StatusUnprocessableEntity, vals, roles,
				map[string]string{identity.FieldPassword: "Choose a first password, or send an invitation instead."}, "")
		}
	}
	u, err := h.Admin.Create(oidc.WithAuditRequest(c.Request().Context(), c), ViewerOf(c).Actor(), in)
	var ve *identity.ValidationError
	if errors.As(err, &ve) {
		return h.renderCreate(c, http.StatusUnprocessableEntity, vals, roles, ve.Fields, "")
	}
	if err != nil {
		msg, err := refusal(err)
		if err != nil {
			return err
		}
		return h.renderCreate(c, http.StatusUnprocessableEntity, vals, roles, nil, msg)
	}
	notice := "created"
	if vals.Invite {
		notice = "invited"
	}
	return back(c, u.ID, notice)
}

// editUser is the form that changes the profile and contact details. It
// carries the user's ETag, so that a change made meanwhile by someone
// else is not overwritten unseen.
func (h *Handler) editUser(c echo.Context) error {
	u, err := h.target(c)
	if err != nil {
		return err
	}
	return h.renderEdit(c, http.StatusOK, u.ID, identity.ETag(u), valuesOf(u), nil, "")
}

func valuesOf(u *identity.User) templates.ConsoleUserValues {
	return templates.ConsoleUserValues{Username: u.Username, Email: u.Email, Phone: u.Phone, GivenName: u.GivenName,
		FamilyName: u.FamilyName, EmailVerified: u.EmailVerified, PhoneVerified: u.PhoneVerified}
}

func (h *Handler) renderEdit(c echo.Context, status int, id, etag string, vals templates.ConsoleUserValues, errs map[string]string, alert string) error {
	return h.Pages.ConsoleUserForm(oidc.StartPage(c, status), templates.ConsoleUserFormPage{
		Nav: h.Nav(ViewerOf(c), PathUsers), CSRF: oidc.CSRFToken(c), Title: "Edit " + vals.Username,
		Action: userURL(id) + "/edit", Values: vals, ETag: etag, Errors: errs, Alert: alert, CancelURL: userURL(id),
	})
}

// saveUser updates the user with the ETag the form was made from. When
// someone changed the user meanwhile, the form comes back with the
// current values and says so.
func (h *Handler) saveUser(c echo.Context) error {
	id := c.Param("id")
	if !validID(id) {
		return notFound()
	}
	vals := templates.ConsoleUserValues{Username: c.FormValue("username"), Email: c.FormValue("email"), Phone: c.FormValue("phone_number"),
		GivenName: c.FormValue("given_name"), FamilyName: c.FormValue("family_name"),
		EmailVerified: c.FormValue("email_verified") != "", PhoneVerified: c.FormValue("phone_number_verified") != ""}
	patch := identity.UserPatch{Username: &vals.Username, Email: &vals.Email, Phone: &vals.Phone, GivenName: &vals.GivenName,
		FamilyName: &vals.FamilyName, EmailVerified: &vals.EmailVerified, PhoneVerified: &vals.PhoneVerified}
	etag := c.FormValue("etag")
	if etag == "" {
		// Without the validator the change could overwrite anything.
		etag = `"none"`
	}
	_, err := h.Admin.Update(oidc.WithAuditRequest(c.Request().Context(), c), ViewerOf(c).Actor(), id, patch, etag)
	var ve *identity.ValidationError
	switch {
	case err == nil:
		return back(c, id, "saved")
	case errors.As(err, &ve):
		return h.renderEdit(c, http.StatusUnprocessableEntity, id, etag, vals, ve.Fields, "")
	case errors.Is(err, identity.ErrPreconditionFailed):
		u, err := h.target(c)
		if err != nil {
			return err
		}
		return h.renderEdit(c, http.StatusConflict, id, identity.ETag(u), valuesOf(u), nil, msgStale)
	}
	msg, err := refusal(err)
	if err != nil {
		return err
	}
	return h.renderEdit(c, http.StatusUnprocessableEntity, id, etag, vals, nil, msg)
}

// rolesPage is the form of the user's roles: the built-in and the custom
// ones, the user's ticked.
func (h *Handler) rolesPage(c echo.Context) error {
	u, err := h.target(c)
	if err != nil {
		return err
	}
	return h.renderRoles(c, http.StatusOK, u, u.Roles, identity.ETag(u), "")
}

func (h *Handler) renderRoles(c echo.Context, status int, u *identity.User, chosen []string, etag, alert string) error {
	roles, err := h.roleOptions(c, chosen, true)
	if err != nil {
		return err
	}
	return h.Pages.ConsoleRoles(oidc.StartPage(c, status), templates.ConsoleRolesPage{
		Nav: h.Nav(ViewerOf(c), PathUsers), CSRF: oidc.CSRFToken(c), Action: userURL(u.ID) + "/roles",
		UserName: u.Username, Roles: roles, ETag: etag, Alert: alert, CancelURL: userURL(u.ID),
	})
}

// saveRoles sets the user's roles through identity.Roles. The form's
// ETag must still be the user's: roles chosen on an outdated page are
// not applied.
func (h *Handler) saveRoles(c echo.Context) error {
	u, err := h.target(c)
	if err != nil {
		return err
	}
	form, err := c.FormParams()
	if err != nil {
		return err
	}
	chosen := form["roles"]
	if c.FormValue("etag") != identity.ETag(u) {
		return h.renderRoles(c, http.StatusConflict, u, u.Roles, identity.ETag(u), msgStale)
	}
	_, err = h.Roles.SetRoles(oidc.WithAuditRequest(c.Request().Context(), c), ViewerOf(c).Actor(), u.ID, chosen)
	if err == nil {
		return back(c, u.ID, "roles")
	}
	msg, err := refusal(err)
	if err != nil {
		return err
	}
	return h.renderRoles(c, http.StatusConflict, u, chosen, identity.ETag(u), msg)
}
