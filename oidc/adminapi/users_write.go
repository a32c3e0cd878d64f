package adminapi

import (
	"context"
	"net/http"

	"github.com/labstack/echo/v4"

	"gatehouse/identity"
)

// UserAdmin is what the API needs of identity.UserAdmin.
type UserAdmin interface {
	Create(ctx context.Context, actor identity.Actor, in identity.AdminCreateInput) (*identity.User, error)
	Update(ctx context.Context, actor identity.Actor, id string, p identity.UserPatch, ifMatch string) (*identity.User, error)
	Deactivate(ctx context.Context, actor identity.Actor, id string) (*identity.User, error)
	Reactivate(ctx context.Context, actor identity.Actor, id string) (*identity.User, error)
	Delete(ctx context.Context, actor identity.Actor, id string) error
	SendPasswordReset(ctx context.Context, actor identity.Actor, id string) error
	Unlock(ctx context.Context, actor identity.Actor, id string) (*identity.User, error)
	EndSessions(ctx context.Context, actor identity.Actor, id string) error
}

// CreateUser answers POST /users: 201 with Location.
func (h *Handler) CreateUser(c echo.Context) error {
	var in UserCreate
	if err := decode(c, &in); err != nil {
		return err
	}
	u, err := h.Admin.Create(c.Request().Context(), actor(c), identity.AdminCreateInput{
		Username: in.Username, Email: deref(in.Email), EmailVerified: flag(in.EmailVerified),
		Phone: deref(in.PhoneNumber), PhoneVerified: flag(in.PhoneNumberVerified),
		GivenName: deref(in.GivenName), FamilyName: deref(in.FamilyName), MiddleName: deref(in.MiddleName),
		Nickname: deref(in.Nickname), Picture: deref(in.Picture), Website: deref(in.Website),
		Gender: deref(in.Gender), Birthdate: deref(in.Birthdate), Locale: deref(in.Locale), Zoneinfo: deref(in.Zoneinfo),
		Address: addressOf(in.Address), Password: deref(in.Password), Invite: flag(in.Invite), Roles: derefList(in.Roles),
	})
	if err != nil {
		return serviceProblem(err)
	}
	c.Response().Header().Set(echo.HeaderLocation, Path+"/users/"+u.ID)
	return sendUser(c, http.StatusCreated, u)
}

// UpdateUser answers PATCH /users/{id}.
func (h *Handler) UpdateUser(c echo.Context, id UserID, params UpdateUserParams) error {
	var in UserUpdate
	if err := decode(c, &in); err != nil {
		return err
	}
	p := identity.UserPatch{
		Username: in.Username, Email: in.Email, EmailVerified: in.EmailVerified,
		Phone: in.PhoneNumber, PhoneVerified: in.PhoneNumberVerified,
		GivenName: in.GivenName, FamilyName: in.FamilyName, MiddleName: in.MiddleName, Nickname: in.Nickname,
		Picture: in.Picture, Website: in.Website, Gender: in.Gender, Birthdate: in.Birthdate,
		Locale: in.Locale, Zoneinfo: in.Zoneinfo,
	}
	if in.Address != nil {
		a := addressOf(in.Address)
		p.Address = &a
	}
	u, err := h.Admin.Update(c.Request().Context(), actor(c), id.String(), p, deref(params.IfMatch))
	if err != nil {
		return serviceProblem(err)
	}
	return sendUser(c, http.StatusOK, u)
}

// DeleteUser answers DELETE /users/{id}.
func (h *Handler) DeleteUser(c echo.Context, id UserID) error {
	return noContent(c, h.Admin.Delete(c.Request().Context(), actor(c), id.String()))
}

// DeactivateUser answers POST /users/{id}/deactivate.
func (h *Handler) DeactivateUser(c echo.Context, id UserID) error {
	return userResult(c)(h.Admin.Deactivate(c.Request().Context(), actor(c), id.String()))
}

// ReactivateUser answers POST /users/{id}/reactivate.
func (h *Handler) ReactivateUser(c echo.Context, id UserID) error {
	return userResult(c)(h.Admin.Reactivate(c.Request().Context(), actor(c), id.String()))
}

// UnlockUser answers POST /users/{id}/unlock.
func (h *Handler) UnlockUser(c echo.Context, id UserID) error {
	return userResult(c)(h.Admin.Unlock(c.Request().Context(), actor(c), id.String()))
}

// SendPasswordReset answers POST /users/{id}/password-reset.
func (h *Handler) SendPasswordReset(c echo.Context, id UserID) error {
	return noContent(c, h.Admin.SendPasswordReset(c.Request().Context(), actor(c), id.String()))
}

// EndUserSessions answers DELETE /users/{id}/sessions.
func (h *Handler) EndUserSessions(c echo.Context, id UserID) error {
	return noContent(c, h.Admin.EndSessions(c.Request().Context(), actor(c), id.String()))
}

// userResult answers with the user a change returned, or its problem.
func userResult(c echo.Context) func(*identity.User, error) error {
	return func(u *identity.User, err error) error {
		if err != nil {
			return serviceProblem(err)
		}
		return sendUser(c, http.StatusOK, u)
	}
}

// noContent answers 204, or the change's problem.
func noContent(c echo.Context, err error) error {
	if err != nil {
		return serviceProblem(err)
	}
	return c.NoContent(http.StatusNoContent)
}

func addressOf(a *Address) identity.Address {
	if a == nil {
		return identity.Address{}
	}
	return identity.Address{
		Formatted: deref(a.Formatted), StreetAddress: deref(a.StreetAddress), Locality: deref(a.Locality),
		Region: deref(a.Region), PostalCode: deref(a.PostalCode), Country: deref(a.Country),
	}
}
