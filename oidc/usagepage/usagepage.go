package usagepage

import (
	"context"
	"log/slog"
	"maps"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"time"

	"github.com/labstack/echo/v4"

	"gatehouse/identity/usage"
	"gatehouse/oidc"
	"gatehouse/templates"
)

// Paths of the dashboard, relative to the group it is mounted on.
const (
	PathDashboard = "/usage"
	PathCSV       = "/usage.csv"
)

// maxDays is the longest custom range: a year and a bit, enough to
// compare a month with the same month a year before.
const maxDays = 400

// ClientOption is one choice of the client filter.
type ClientOption struct {
	ID   string
	Name string // "" shows the ID
}

// Handler serves the usage dashboard.
type Handler struct {
	// Report makes the report of a period.
	Report func(ctx context.Context, q usage.Query) (*usage.Report, error)
	// Clients lists the clients the filter offers; a client not among
	// them is refused.
	Clients func(ctx context.Context) ([]ClientOption, error)
	Pages   *templates.Renderer
	Now     func() time.Time
	Logger  *slog.Logger
	// Nav, when set, gives the console's navigation for the page.
	Nav func(c echo.Context) *templates.ConsoleNav
}

// Mount registers the dashboard and its download on g. The caller guards
// g (authentication, permission, fresh sign-in).
func (h *Handler) Mount(g *echo.Group) {
	g.GET(PathDashboard, h.Dashboard)
	g.GET(PathCSV, h.CSV)
}

// Dashboard serves the page: the figures of the period the query selects,
// or the form with its messages (400) when the query is bad.
func (h *Handler) Dashboard(c echo.Context) error {
	page, rep, err := h.load(c)
	if err != nil {
		return err
	}
	status := http.StatusOK
	if rep == nil {
		status = http.StatusBadRequest
	} else {
		fillReport(&page, rep)
	}
	return h.Pages.Usage(oidc.StartPage(c, status), page)
}

// CSV serves every series of the period as one CSV file; a bad query gets
// the page with its messages, as Dashboard answers it.
func (h *Handler) CSV(c echo.Context) error {
	page, rep, err := h.load(c)
	if err != nil {
		return err
	}
	if rep == nil {
		return h.Pages.Usage(oidc.StartPage(c, http.StatusBadRequest), page)
	}
	w := c.Response()
	w.Header().Set(echo.HeaderContentType, "text/csv; charset=utf-8")
	w.Header().Set(echo.HeaderContentDisposition, `attachment; filename="`+csvName(rep.Query)+`"`)
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(http.StatusOK)
	return writeCSV(w, rep)
}

// load reads the query and, when it is good, fetches its report. A bad
// query is a page with messages and a nil report, not an error.
func (h *Handler) load(c echo.Context) (templates.UsagePage, *usage.Report, error) {
	ctx := c.Request().Context()
	clients, err := h.Clients(ctx)
	if err != nil {
		return templates.UsagePage{}, nil, err
	}
	sel := parseSelection(c.QueryParams(), h.Now().UTC(), clients)
	// The links stay on the group the caller mounted the pages on.
	base := strings.TrimSuffix(strings.TrimSuffix(c.Path(), PathCSV), PathDashboard)
	page := templates.UsagePage{
		Action: base + PathDashboard, Period: sel.Period, From: sel.From, To: sel.To,
		ClientID: sel.ClientID, Errors: sel.Errors,
	}
	if h.Nav != nil {
		page.Nav = h.Nav(c)
	}
	for _, cl := range clients {
		page.Clients = append(page.Clients, templates.UsageClient{ID: cl.ID, Name: clientName(cl)})
	}
	if len(sel.Errors) > 0 {
		h.Logger.DebugContext(ctx, "usage query refused", "fields", slices.Sorted(maps.Keys(sel.Errors)))
		return page, nil, nil
	}
	rep, err := h.Report(ctx, sel.Query)
	if err != nil {
		return page, nil, err
	}
	page.CSVURL = base + PathCSV + "?" + sel.values().Encode()
	page.Range = rangeText(rep.Query, clientLabel(clients, rep.Query.ClientID))
	return page, rep, nil
}

func clientName(c ClientOption) string {
	if c.Name == "" {
		return c.ID
	}
	return c.Name
}

// clientLabel names the filter's client for the range line.
func clientLabel(clients []ClientOption, id string) string {
	if id == "" {
		return "every client"
	}
	for _, c := range clients {
		if c.ID == id {
			return clientName(c)
		}
	}
	return id
}

// rangeText says which days (inclusive) and clients the figures cover.
func rangeText(q usage.Query, client string) string {
	last := q.To.AddDate(0, 0, -1)
	if !last.After(q.From) {
		return "Figures for " + q.From.Format(time.DateOnly) + " (UTC), " + client
	}
	return "Figures from " + q.From.Format(time.DateOnly) + " to " + last.Format(time.DateOnly) + " (UTC), " + client
}

// values is the query string that selects sel again, for the download.
func (s selection) values() url.Values {
	v := url.Values{"period": {s.Period}}
	if s.Period == templates.UsagePeriodCustom {
		v.Set("from", s.From)
		v.Set("to", s.To)
	}
	if s.ClientID != "" {
		v.Set("client", s.ClientID)
	}
	return v
}
