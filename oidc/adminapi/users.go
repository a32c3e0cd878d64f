package adminapi

import (
	"errors"
	"net/http"
	"strings"

	"github.com/google/uuid"
	"github.com/labstack/echo/v4"

	"gatehouse/identity"
)

// SearchUsers answers GET /users.
func (h *Handler) SearchUsers(c echo.Context, params SearchUsersParams) error {
	q := identity.UserQuery{
		Q: deref(params.Q), Email: deref(params.Email), Role: deref(params.Role), Cursor: deref(params.Cursor),
	}
	if params.Status != nil {
		q.Status = identity.Status(*params.Status)
	}
	if params.Sort != nil {
		sort := string(*params.Sort)
		q.Descending = strings.HasPrefix(sort, "-")
		q.Sort = identity.UserSort(strings.TrimPrefix(sort, "-"))
	}
	if params.Limit != nil {
		q.Limit = *params.Limit
	}
	setTime(&q.CreatedAfter, params.CreatedAfter)
	setTime(&q.CreatedBefore, params.CreatedBefore)
	setTime(&q.LastLoginAfter, params.LastLoginAfter)
	setTime(&q.LastLoginBefore, params.LastLoginBefore)
	page, err := h.Search.SearchUsers(c.Request().Context(), q)
	if err != nil {
		return serviceProblem(err)
	}
	out := UserPage{Users: make([]User, len(page.Users))}
	for i, u := range page.Users {
		out.Users[i] = userJSON(u)
	}
	if page.NextCursor != "" {
		out.NextCursor = &page.NextCursor
	}
	return c.JSON(http.StatusOK, out)
}

// GetUser answers GET /users/{id}.
func (h *Handler) GetUser(c echo.Context, id UserID) error {
	u, err := h.Users.GetUser(c.Request().Context(), id.String())
	if err != nil {
		return serviceProblem(err)
	}
	return sendUser(c, http.StatusOK, u)
}

// LookupUsers answers POST /users/lookup.
func (h *Handler) LookupUsers(c echo.Context) error {
	var in UserLookupRequest
	if err := decode(c, &in); err != nil {
		return err
	}
	var keys []string
	switch {
	case in.Ids != nil:
		for _, id := range *in.Ids {
			keys = append(keys, id.String())
		}
	case in.Emails != nil:
		keys = *in.Emails
	}
	found, err := h.Search.LookupUsers(c.Request().Context(), keys)
	if err != nil {
		return serviceProblem(err)
	}
	out := UserLookupResult{Users: make([]User, len(found.Users)), NotFound: found.Missing}
	if out.NotFound == nil {
		out.NotFound = []string{}
	}
	for i, u := range found.Users {
		out.Users[i] = userJSON(u)
	}
	return c.JSON(http.StatusOK, out)
}

// SetUserRoles answers PUT /users/{id}/roles.
func (h *Handler) SetUserRoles(c echo.Context, id UserID, params SetUserRolesParams) error {
	var in RolesUpdate
	if err := decode(c, &in); err != nil {
		return err
	}
	u, err := h.Roles.SetRoles(c.Request().Context(), actor(c), id.String(), in.Roles)
	if err != nil {
		return serviceProblem(err)
	}
	return sendUser(c, http.StatusOK, u)
}

// ListRoles answers GET /roles.
func (h *Handler) ListRoles(c echo.Context) error {
	roles, err := h.Roles.ListRoles(c.Request().Context())
	if err != nil {
		return err
	}
	out := RoleList{Roles: make([]Role, len(roles))}
	for i, r := range roles {
		perms := make([]string, len(r.Permissions))
		for j, p := range r.Permissions {
			perms[j] = string(p)
		}
		out.Roles[i] = Role{Name: r.Name, Permissions: perms, BuiltIn: r.BuiltIn, Description: optional(r.Description)}
	}
	return c.JSON(http.StatusOK, out)
}

// sendUser answers with u and its ETag, for a later If-Match.
func sendUser(c echo.Context, status int, u *identity.User) error {
	c.Response().Header().Set("ETag", identity.ETag(u))
	return c.JSON(status, userJSON(u))
}

// userJSON is the API's form of u. It has no secret to leave out: a
// User carries no password hash.
func userJSON(u *identity.User) User {
	id, _ := uuid.Parse(u.ID)
	out := User{
		Id: id, Username: u.Username, Email: u.Email, EmailVerified: u.EmailVerified,
		PhoneNumber: u.Phone, PhoneNumberVerified: u.PhoneVerified,
		GivenName: optional(u.GivenName), FamilyName: optional(u.FamilyName), MiddleName: optional(u.MiddleName),
		Nickname: optional(u.Nickname), Picture: optional(u.Picture), Website: optional(u.Website),
		Gender: optional(u.Gender), Birthdate: optional(u.Birthdate), Locale: optional(u.Locale),
		Zoneinfo: optional(u.Zoneinfo),
		Roles:    u.Roles, Status: UserStatus(u.Status), Locked: u.LockedAt(timeNow()),
		CreatedAt: u.CreatedAt.UTC(), UpdatedAt: u.UpdatedAt.UTC(), LastLoginAt: u.LastLoginAt,
	}
	if out.Roles == nil {
		out.Roles = []string{}
	}
	if !u.Address.IsZero() {
		a := u.Address
		out.Address = &Address{
			Formatted: optional(a.Formatted), StreetAddress: optional(a.StreetAddress), Locality: optional(a.Locality),
			Region: optional(a.Region), PostalCode: optional(a.PostalCode), Country: optional(a.Country),
		}
	}
	return out
}

// serviceProblem is the problem for an error of the identity services;
// an error it does not know is returned as it is, for failure.
func serviceProblem(err error) error {
	var ve *identity.ValidationError
	var last *identity.LastAdminError
	switch {
	case errors.As(err, &ve):
		p := fieldProblem("Some fields are not valid.")
		if ve.OnlyTaken() {
			p = &problem{status: http.StatusConflict, detail: "Another account already uses these values."}
		}
		for _, f := range sortedKeys(ve.Fields) {
			p.fields = append(p.fields, FieldError{Field: f, Detail: ve.Fields[f]})
		}
		return p
	case errors.Is(err, identity.ErrNotFound):
		return newProblem(http.StatusNotFound, "No such user.")
	case errors.Is(err, identity.ErrUsernameTaken):
		return &problem{status: http.StatusConflict, detail: "That username is taken.",
			fields: []FieldError{{Field: "username", Detail: "Taken by another user."}}}
	case errors.Is(err, identity.ErrEmailTaken):
		return &problem{status: http.StatusConflict, detail: "That e-mail address belongs to another user.",
			fields: []FieldError{{Field: "email", Detail: "Belongs to another user."}}}
	case errors.As(err, &last):
		return newProblem(http.StatusConflict, "This is the last active user who can grant roles (users:admin); grant that to someone else first.")
	case errors.Is(err, identity.ErrUnknownRole):
		return fieldProblem("A role does not exist.", FieldError{Field: "roles", Detail: "Name built-in or custom roles only (GET /roles)."})
	case errors.Is(err, identity.ErrPreconditionFailed):
		return newProblem(http.StatusPreconditionFailed, "The user has changed since the ETag sent in If-Match: read it again.")
	case errors.Is(err, identity.ErrNoEmail):
		return newProblem(http.StatusConflict, "The user has no e-mail address to send the link to.")
	case errors.Is(err, identity.ErrAccountDisabled):
		return newProblem(http.StatusConflict, "The user is deactivated: reactivate them first.")
	case errors.Is(err, identity.ErrForbidden):
		return newProblem(http.StatusForbidden, "Your permissions do not allow this change.")
	}
	return err
}
