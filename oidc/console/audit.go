package console

import (
	"context"
	"fmt"
	"maps"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/labstack/echo/v4"

	"gatehouse/identity/access"
	"gatehouse/identity/audit"
	"gatehouse/oidc"
	"gatehouse/templates"
)

// PathAudit is the audit trail viewer.
const PathAudit = Path + "/audit"

// auditPageSize is how many entries one page of the viewer shows.
const auditPageSize = 50

// AuditTrail reads and verifies the audit trail; *audit.Log is one.
type AuditTrail interface {
	List(ctx context.Context, f audit.Filter) ([]audit.Entry, error)
	Verify(ctx context.Context) (audit.Report, error)
}

var _ AuditTrail = (*audit.Log)(nil)

var auditSection = Section{ID: "audit", Path: PathAudit, Label: "Audit trail",
	Description: "Who did what and when, and whether the chain of entries is intact.", Permission: access.AuditRead}

// auditPages are the audit trail's pages, over the console's Handler.
type auditPages struct{ *Handler }

func (h *auditPages) mountAudit(e *echo.Echo) {
	h.Route(e, http.MethodGet, "/audit", access.AuditRead, h.auditTrail)
}

// auditTrail shows one page of entries, newest first, filtered as the
// query says; "before" is the cursor, the Seq of the previous page's
// last entry. The chain is verified only when "verify" asks for it: the
// walk reads every entry since the last checkpoint, too slow for each
// page view of a big trail.
func (h *auditPages) auditTrail(c echo.Context) error {
	ctx := c.Request().Context()
	qp := c.QueryParams()
	q := templates.ConsoleAuditQuery{User: strings.TrimSpace(qp.Get("user")), Actor: strings.TrimSpace(qp.Get("actor")),
		Action: strings.TrimSpace(qp.Get("action")), Since: qp.Get("since"), Until: qp.Get("until")}
	errs := map[string]string{}
	f := audit.Filter{UserID: q.User, ActorID: q.Actor, Action: q.Action, Limit: auditPageSize}
	f.Since = parseWhen(q.Since, "since", errs)
	f.Until = parseWhen(q.Until, "until", errs)
	if b := qp.Get("before"); b != "" {
		seq, err := strconv.ParseInt(b, 10, 64)
		if err != nil || seq <= 0 {
			errs["before"] = "This link to older entries is not valid; start from the newest."
		}
		f.BeforeSeq = seq
	}
	p := templates.ConsoleAuditPage{Nav: h.Nav(ViewerOf(c), PathAudit), Query: q, Errors: errs,
		VerifyURL: auditURL(q, 0, true)}
	if qp.Get("verify") != "" {
		r, err := h.Audit.Verify(ctx)
		if err != nil {
			return err
		}
		p.Chain = &templates.ConsoleChainStatus{Intact: r.OK, Checked: r.Checked, Seq: r.Seq, Problem: string(r.Problem)}
		if r.Detail != "" {
			p.Chain.Problem += " (" + r.Detail + ")"
		}
	}
	if len(errs) == 0 {
		entries, err := h.Audit.List(ctx, f)
		if err != nil {
			return err
		}
		for _, e := range entries {
			p.Entries = append(p.Entries, auditRow(e))
		}
		if len(entries) == auditPageSize {
			p.NextURL = auditURL(q, entries[len(entries)-1].Seq, false)
		}
	}
	return h.Pages.ConsoleAudit(oidc.StartPage(c, http.StatusOK), p)
}

// parseWhen reads a date ("2006-01-02") or a datetime-local value
// ("2006-01-02T15:04", seconds optional), in UTC; a bad one is noted in
// errs under name.
func parseWhen(s, name string, errs map[string]string) time.Time {
	if s = strings.TrimSpace(s); s == "" {
		return time.Time{}
	}
	for _, layout := range []string{"2006-01-02T15:04", "2006-01-02T15:04:05", time.DateOnly} {
		if t, err := time.ParseInLocation(layout, s, time.UTC); err == nil {
			return t
		}
	}
	errs[name] = "Give a date and time, like 2026-01-31T14:30, or a date."
	return time.Time{}
}

// auditURL is the viewer's address for q, from before (0: the newest),
// with the chain's verification when verify.
func auditURL(q templates.ConsoleAuditQuery, before int64, verify bool) string {
	v := url.Values{}
	for k, s := range map[string]string{"user": q.User, "actor": q.Actor, "action": q.Action, "since": q.Since, "until": q.Until} {
		if s != "" {
			v.Set(k, s)
		}
	}
	if before > 0 {
		v.Set("before", strconv.FormatInt(before, 10))
	}
	if verify {
		v.Set("verify", "1")
	}
	if len(v) == 0 {
		return PathAudit
	}
	return PathAudit + "?" + v.Encode()
}

func auditRow(e audit.Entry) templates.ConsoleAuditRow {
	actor := e.ActorType
	if e.ActorID != "" {
		actor += " " + e.ActorID
	}
	var details []string
	for _, k := range slices.Sorted(maps.Keys(e.Details)) {
		details = append(details, fmt.Sprintf("%s=%s", k, e.Details[k]))
	}
	return templates.ConsoleAuditRow{Seq: strconv.FormatInt(e.Seq, 10), Time: e.Time.UTC().Format(time.DateTime), Action: e.Action,
		Outcome: e.Outcome, Actor: actor, Subject: e.Subject, IP: e.IP, Details: strings.Join(details, ", ")}
}
