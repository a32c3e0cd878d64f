package console

import (
	"context"
	"fmt"
	"net/http"

	"github.com/labstack/echo/v4"

	"gatehouse/identity"
	"gatehouse/identity/access"
	"gatehouse/oidc"
	"gatehouse/templates"
)

// userAction is one button of the user page: a POST to PathUsers/{id}/
// name that calls identity.UserAdmin. One that cannot be taken back at
// once has a confirmation page first (confirm), whose button posts it.
type userAction struct {
	name   string
	perm   access.Permission
	notice string
	// do makes the change.
	do func(ctx context.Context, a Admin, actor identity.Actor, id string) error
	// The confirmation page's words; confirm is false without one.
	confirm               bool
	title, message, label string
}

var (
	actDeactivate = userAction{name: "deactivate", perm: access.UsersWrite, notice: "deactivated", confirm: true,
		title: "Deactivate %s?", label: "Deactivate",
		message: "They will no longer be able to sign in, and every session and token they hold ends now. You can reactivate them later.",
		do: func(ctx context.Context, a Admin, actor identity.Actor, id string) error {
			_, err := a.Deactivate(ctx, actor, id)
			return err
		}}
	actReactivate = userAction{name: "reactivate", perm: access.UsersWrite, notice: "reactivated",
		do: func(ctx context.Context, a Admin, actor identity.Actor, id string) error {
			_, err := a.Reactivate(ctx, actor, id)
			return err
		}}
	actSendReset = userAction{name: "send-reset", perm: access.UsersWrite, notice: "reset_sent",
		do: func(ctx context.Context, a Admin, actor identity.Actor, id string) error {
			return a.SendPasswordReset(ctx, actor, id)
		}}
	actUnlock = userAction{name: "unlock", perm: access.UsersWrite, notice: "unlocked",
		do: func(ctx context.Context, a Admin, actor identity.Actor, id string) error {
			_, err := a.Unlock(ctx, actor, id)
			return err
		}}
	actEndSessions = userAction{name: "end-sessions", perm: access.UsersWrite, notice: "sessions_ended", confirm: true,
		title: "End every session of %s?", label: "End all sessions",
		message: "They will be signed out on every device, and the applications they signed in to lose their tokens.",
		do: func(ctx context.Context, a Admin, actor identity.Actor, id string) error {
			return a.EndSessions(ctx, actor, id)
		}}
	actDelete = userAction{name: "delete", perm: access.UsersAdmin, notice: "deleted", confirm: true,
		title: "Delete %s?", label: "Delete for good",
		message: "The account and everything kept about it go, and cannot be brought back. The audit trail keeps what happened.",
		do: func(ctx context.Context, a Admin, actor identity.Actor, id string) error {
			return a.Delete(ctx, actor, id)
		}}
)

// userActions are the actions the user page offers.
var userActions = []userAction{actDeactivate, actReactivate, actSendReset, actUnlock, actEndSessions, actDelete}

// act runs action a and goes back to the user's page with its notice
// (to the search after a deletion); a refusal is shown on the user's
// page.
func (h *Handler) act(a userAction) echo.HandlerFunc {
	return func(c echo.Context) error {
		u, err := h.target(c)
		if err != nil {
			return err
		}
		err = a.do(oidc.WithAuditRequest(c.Request().Context(), c), h.Admin, ViewerOf(c).Actor(), u.ID)
		if err != nil {
			msg, err := refusal(err)
			if err != nil {
				return err
			}
			return h.renderUser(c, http.StatusConflict, u, "", msg)
		}
		if a.name == actDelete.name {
			return c.Redirect(http.StatusSeeOther, PathUsers+"?notice="+a.notice)
		}
		return back(c, u.ID, a.notice)
	}
}

// confirm is the confirmation page of an action that has one.
func (h *Handler) confirm(c echo.Context) error {
	var a *userAction
	for i := range userActions {
		if userActions[i].name == c.Param("action") && userActions[i].confirm {
			a = &userActions[i]
		}
	}
	if a == nil {
		return &oidc.PageError{Status: http.StatusNotFound, Title: "Page not found", Message: "There is nothing at this address."}
	}
	v := ViewerOf(c)
	if !v.Permissions.Has(a.perm) {
		return forbidden()
	}
	u, err := h.target(c)
	if err != nil {
		return err
	}
	return h.Pages.ConsoleConfirm(oidc.StartPage(c, http.StatusOK), templates.ConsoleConfirmPage{
		Nav: h.Nav(v, PathUsers), CSRF: oidc.CSRFToken(c), Title: fmt.Sprintf(a.title, u.Username), Message: a.message,
		Action: userURL(u.ID) + "/" + a.name, Button: a.label, ButtonID: "confirm-" + a.name, CancelURL: userURL(u.ID),
	})
}
