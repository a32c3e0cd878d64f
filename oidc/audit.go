package oidc

import (
	"context"
	"log/slog"

	"github.com/labstack/echo/v4"

	"gatehouse/identity/audit"
)

// AuditRecorder appends to the audit trail.
type AuditRecorder interface {
	Record(ctx context.Context, e audit.Entry) error
}

// Audit records one security event of an HTTP request: it adds the
// client IP, user agent and request ID. A failure to record is logged and
// does not fail the user's request (the event already happened).
func Audit(c echo.Context, rec AuditRecorder, log *slog.Logger, e audit.Entry) {
	if rec == nil {
		return
	}
	r := c.Request()
	e.IP = c.RealIP()
	e.UserAgent = truncate(r.UserAgent(), 512)
	e.RequestID = c.Response().Header().Get(echo.HeaderXRequestID)
	if e.Outcome == "" {
		e.Outcome = audit.OutcomeSuccess
	}
	if err := rec.Record(r.Context(), e); err != nil {
		log.ErrorContext(r.Context(), "audit record failed", "action", e.Action, "error", err)
	}
}

// userEvent is an event a user caused about their own account.
func userEvent(action, userID string, details audit.Details) audit.Entry {
	return audit.Entry{ActorType: audit.ActorUser, ActorID: userID, Subject: userID, Action: action, Details: details}
}

func (h *Handler) audit(c echo.Context, e audit.Entry) { Audit(c, h.Auditor, h.Logger, e) }
