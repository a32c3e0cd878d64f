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
	e = fromRequest(c, e)
	if e.Outcome == "" {
		e.Outcome = audit.OutcomeSuccess
	}
	if err := rec.Record(r.Context(), e); err != nil {
		log.ErrorContext(r.Context(), "audit record failed", "action", e.Action, "error", err)
	}
}

// recordIn records e of the request c with ctx, the context of the unit
// of work it belongs to (dbtx), and returns the error: the caller's
// transaction must not commit without its entry.
func (h *Handler) recordIn(ctx context.Context, c echo.Context, e audit.Entry) error {
	if h.Auditor == nil {
		return nil
	}
	e = fromRequest(c, e)
	if e.Outcome == "" {
		e.Outcome = audit.OutcomeSuccess
	}
	return h.Auditor.Record(ctx, e)
}

// UserEvent is an event a user caused about their own account.
func UserEvent(action, userID string, details audit.Details) audit.Entry {
	return audit.Entry{ActorType: audit.ActorUser, ActorID: userID, Subject: userID, Action: action, Details: details}
}

func (h *Handler) audit(c echo.Context, e audit.Entry) { Audit(c, h.Auditor, h.Logger, e) }

// fromRequest fills e's IP, user agent and request ID from c.
func fromRequest(c echo.Context, e audit.Entry) audit.Entry {
	e.IP = c.RealIP()
	e.UserAgent = Truncate(c.Request().UserAgent(), 512)
	e.RequestID = c.Response().Header().Get(echo.HeaderXRequestID)
	return e
}

type auditRequestKey struct{}

// WithAuditRequest returns ctx carrying c's client IP, user agent and
// request ID, for events that code below the handler reports through
// hooks (identity.Authenticator.OnLockout and OnLockedAttempt), which see only
// the context.
func WithAuditRequest(ctx context.Context, c echo.Context) context.Context {
	return context.WithValue(ctx, auditRequestKey{}, fromRequest(c, audit.Entry{}))
}

// AuditRequest fills e's IP, user agent and request ID from a context made
// by WithAuditRequest; from any other it returns e unchanged.
func AuditRequest(ctx context.Context, e audit.Entry) audit.Entry {
	if r, ok := ctx.Value(auditRequestKey{}).(audit.Entry); ok {
		e.IP, e.UserAgent, e.RequestID = r.IP, r.UserAgent, r.RequestID
	}
	return e
}
