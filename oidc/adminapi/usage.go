package adminapi

import (
	"context"
	"errors"
	"net/http"
	"time"

	"github.com/labstack/echo/v4"
	openapi_types "github.com/oapi-codegen/runtime/types"

	"gatehouse/identity/usage"
)

// UsageReporter makes usage reports; *usage.Service is one.
type UsageReporter interface {
	Report(ctx context.Context, q usage.Query) (*usage.Report, error)
}

// defaultUsageDays is the period of a report asked for without dates.
const defaultUsageDays = 30

// GetUsageReport answers GET /usage. `to` is the last day included; the
// service's Query ends the day after it.
func (h *Handler) GetUsageReport(c echo.Context, params GetUsageReportParams) error {
	now := time.Now()
	q := usage.LastDays(now, defaultUsageDays, deref(params.ClientId))
	if params.To != nil {
		q.To = usage.Day(params.To.Time).AddDate(0, 0, 1)
		if params.From == nil {
			q.From = q.To.AddDate(0, 0, -defaultUsageDays)
		}
	}
	if params.From != nil {
		q.From = usage.Day(params.From.Time)
		if params.To == nil && !q.From.Before(q.To) {
			q.To = q.From.AddDate(0, 0, 1)
		}
	}
	r, err := h.Usage.Report(c.Request().Context(), q)
	var ve *usage.ValidationError
	if errors.As(err, &ve) {
		p := fieldProblem("The period or client is not one a report can cover.")
		for _, f := range ve.Fields {
			p.fields = append(p.fields, FieldError{Field: f.Field, Detail: sentenceOf(f.Message)})
		}
		return p
	}
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, usageReport(r))
}

// sentenceOf capitalises msg and ends it with a full stop.
func sentenceOf(msg string) string {
	if msg == "" {
		return msg
	}
	b := []byte(msg)
	if b[0] >= 'a' && b[0] <= 'z' {
		b[0] -= 'a' - 'A'
	}
	return string(b) + "."
}

func usageReport(r *usage.Report) UsageReport {
	out := UsageReport{
		From: date(r.Query.From), To: date(r.Query.To.AddDate(0, 0, -1)), ClientId: optional(r.Query.ClientID),
		MinCell: r.MinCell, Daily: map[string][]UsagePoint{}, Totals: map[string]UsageCount{},
		WeeklyActiveUsers: usagePoints(r.WeeklyActiveUsers), MonthlyActiveUsers: usagePoints(r.MonthlyActiveUsers),
		ActiveUsersExact: r.ActiveUsersExact, ActiveUsers: usageCount(r.ActiveUsers),
		SignInsByClient: usageShares(r.SignInsByClient), SignInsByMethod: usageShares(r.SignInsByMethod),
		TokensByGrant: usageShares(r.TokensByGrant), UsersTotal: usageCount(r.UsersTotal),
		UsersWithMfa: usageCount(r.UsersWithMFA), Generated: r.Generated.UTC(),
	}
	for m, ps := range r.Daily {
		out.Daily[string(m)] = usagePoints(ps)
	}
	for m, c := range r.Totals {
		out.Totals[string(m)] = usageCount(c)
	}
	return out
}

func date(t time.Time) openapi_types.Date { return openapi_types.Date{Time: t} }

func usageCount(c usage.Count) UsageCount {
	return UsageCount{Value: c.Value, Suppressed: c.Suppressed}
}

func usagePoints(ps []usage.Point) []UsagePoint {
	out := make([]UsagePoint, len(ps))
	for i, p := range ps {
		out[i] = UsagePoint{Start: date(p.Start), Count: usageCount(p.Count)}
	}
	return out
}

func usageShares(ss []usage.Share) []UsageShare {
	out := make([]UsageShare, len(ss))
	for i, s := range ss {
		out[i] = UsageShare{Key: s.Key, Label: s.Label, Count: usageCount(s.Count)}
	}
	return out
}
