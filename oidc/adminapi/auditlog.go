package adminapi

import (
	"context"
	"net/http"
	"strconv"

	"github.com/labstack/echo/v4"

	"gatehouse/identity/audit"
)

// AuditLister reads the audit trail; *audit.Log is one.
type AuditLister interface {
	List(ctx context.Context, f audit.Filter) ([]audit.Entry, error)
}

// ListAuditEntries answers GET /audit, newest first. The cursor is the
// sequence number of the last entry of the previous page.
func (h *Handler) ListAuditEntries(c echo.Context, params ListAuditEntriesParams) error {
	f := audit.Filter{UserID: deref(params.User), ActorID: deref(params.Actor), Action: deref(params.Action), Limit: audit.DefaultLimit}
	setTime(&f.Since, params.Since)
	setTime(&f.Until, params.Until)
	if params.Limit != nil {
		f.Limit = *params.Limit
	}
	if params.Cursor != nil {
		seq, err := strconv.ParseInt(*params.Cursor, 10, 64)
		if err != nil || seq <= 0 {
			return fieldProblem("The cursor is not one this API gave.", FieldError{Field: "cursor", Detail: "Pass back next_cursor as it was."})
		}
		f.BeforeSeq = seq
	}
	entries, err := h.Audit.List(c.Request().Context(), f)
	if err != nil {
		return err
	}
	out := AuditPage{Entries: make([]AuditEntry, len(entries))}
	for i, e := range entries {
		out.Entries[i] = AuditEntry{
			Seq: e.Seq, Time: e.Time.UTC(), ActorType: e.ActorType, ActorId: e.ActorID, Action: e.Action, Outcome: e.Outcome,
			Subject: optional(e.Subject), Ip: optional(e.IP), UserAgent: optional(e.UserAgent), RequestId: optional(e.RequestID),
		}
		if len(e.Details) > 0 {
			d := map[string]string(e.Details)
			out.Entries[i].Details = &d
		}
	}
	if len(entries) == f.Limit && len(entries) > 0 {
		next := strconv.FormatInt(entries[len(entries)-1].Seq, 10)
		out.NextCursor = &next
	}
	return c.JSON(http.StatusOK, out)
}
