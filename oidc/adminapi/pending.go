package adminapi

import (
	"net/http"

	"github.com/labstack/echo/v4"
)

func notYet(echo.Context) error {
	return newProblem(http.StatusNotImplemented, "Not implemented yet.")
}

func (h *Handler) CreateUser(c echo.Context) error                   { return notYet(c) }
func (h *Handler) DeleteUser(c echo.Context, id UserID) error        { return notYet(c) }
func (h *Handler) DeactivateUser(c echo.Context, id UserID) error    { return notYet(c) }
func (h *Handler) ReactivateUser(c echo.Context, id UserID) error    { return notYet(c) }
func (h *Handler) SendPasswordReset(c echo.Context, id UserID) error { return notYet(c) }
func (h *Handler) UnlockUser(c echo.Context, id UserID) error        { return notYet(c) }
func (h *Handler) EndUserSessions(c echo.Context, id UserID) error   { return notYet(c) }
func (h *Handler) UpdateUser(c echo.Context, id UserID, params UpdateUserParams) error {
	return notYet(c)
}
