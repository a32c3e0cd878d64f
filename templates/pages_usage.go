package templates

import (
	"io"
	"strconv"

	"gatehouse/identity/usage"
)

// Periods of UsagePage.Period, as the period select posts them.
const (
	UsagePeriod7      = "7"
	UsagePeriod30     = "30"
	UsagePeriod90     = "90"
	UsagePeriodCustom = "custom"
)

// Kinds of UsageChart.
const (
	UsageTimeline  = "timeline"  // one point per day, week or month, drawn as lines
	UsageBreakdown = "breakdown" // one bar per client, method or grant
)

// UsagePage is the managers' usage dashboard: a period form, headline
// figures, and for each series a chart drawn as inline SVG beside a table
// of its numbers. The table is the truth: a suppressed count is drawn as
// a hatched band up to MinCell and written "< MinCell", never its value.
type UsagePage struct {
	// Nav is the admin console's navigation, when the page is shown
	// inside the console.
	Nav      *ConsoleNav
	Action   string // the form's action (GET): the page itself
	CSVURL   string // download of every series of the period shown; hidden when empty
	Period   string // one of the UsagePeriod* constants; anything else selects UsagePeriod30
	From, To string // the custom range as "2006-01-02"; To is the last day shown
	ClientID string // "" for every client
	Clients  []UsageClient
	// Errors maps a form field (period, from, to, client) to the message
	// shown under it; a page with errors shows the form only.
	Errors map[string]string
	// Range says which period the figures cover, e.g. "2026-05-01 to
	// 2026-05-30, every client"; the page shows no figures without it.
	Range   string
	MinCell int
	Summary []UsageFigure
	Charts  []UsageChart
	// UsersTotal and UsersWithMFA make the MFA adoption figure.
	UsersTotal, UsersWithMFA usage.Count
	Notes                    []string // footnotes: how users are counted, small counts hidden
}

// UsageClient is one choice of the client filter.
type UsageClient struct{ ID, Name string }

// UsageFigure is one headline figure of the period.
type UsageFigure struct {
	ID    string // the row's id
	Label string
	Count usage.Count
}

// UsageChart is one chart and its table.
type UsageChart struct {
	// ID is the base of the chart's ids: ID+"-title" (its heading, the
	// chart's accessible name), ID+"-chart" (the SVG), ID+"-table".
	ID        string
	Title     string
	Kind      string   // UsageTimeline or UsageBreakdown
	KeyHeader string   // the first column's header: "Day", "Week starting", "Client"
	Series    []string // one line (and one column) each; a breakdown has one
	Rows      []UsageRow
}

// UsageRow is one day, week, month, client, method or grant.
type UsageRow struct {
	Key    string        // shown in the first column and on the axis
	Counts []usage.Count // one per series
}

// Usage renders the usage dashboard.
func (r *Renderer) Usage(w io.Writer, p UsagePage) error {
	return r.render(w, "usage", newUsageView(p))
}

type usageView struct {
	UsagePage
	Fields  []field
	Selects []selectField
	Alert   alert
	Figures []cellView
	Charts  []chartView
	MFA     mfaView
}

// cellView is a count as a table shows it.
type cellView struct {
	ID, Label, Text string
	Suppressed      bool
}

func newUsageView(p UsagePage) usageView {
	if p.MinCell <= 0 {
		p.MinCell = 5
	}
	switch p.Period {
	case UsagePeriod7, UsagePeriod90, UsagePeriodCustom:
	default:
		p.Period = UsagePeriod30
	}
	v := usageView{UsagePage: p}
	periods := []option{
		{Value: UsagePeriod7, Label: "Last 7 days"}, {Value: UsagePeriod30, Label: "Last 30 days"},
		{Value: UsagePeriod90, Label: "Last 90 days"}, {Value: UsagePeriodCustom, Label: "Custom range"},
	}
	for i := range periods {
		periods[i].Selected = periods[i].Value == p.Period
	}
	clients := []option{{Value: "", Label: "All clients", Selected: p.ClientID == ""}}
	for _, c := range p.Clients {
		clients = append(clients, option{Value: c.ID, Label: c.Name, Selected: c.ID == p.ClientID})
	}
	period := selectField{field: field{ID: "usage-period", Name: "period", Label: "Period", Autocomplete: "off"}, Options: periods}
	client := selectField{field: field{ID: "usage-client", Name: "client", Label: "Client", Autocomplete: "off"}, Options: clients}
	v.Fields = withErrors([]field{
		{ID: "usage-from", Name: "from", Label: "From", Type: "date", Autocomplete: "off", Value: p.From,
			Hint: "First day of a custom range (UTC)"},
		{ID: "usage-to", Name: "to", Label: "To", Type: "date", Autocomplete: "off", Value: p.To,
			Hint: "Last day of a custom range (UTC)"},
	}, p.Errors)
	period.Error, client.Error = p.Errors["period"], p.Errors["client"]
	v.Selects = []selectField{period, client}
	v.Alert = alert{ID: "usage-errors", Messages: otherErrors(p.Errors, period.field, client.field, v.Fields[0], v.Fields[1])}
	if p.Range == "" || len(p.Errors) > 0 {
		v.Range = ""
		return v
	}
	for _, f := range p.Summary {
		v.Figures = append(v.Figures, cellView{ID: f.ID, Label: f.Label, Text: CountText(f.Count, p.MinCell), Suppressed: f.Count.Suppressed})
	}
	for _, c := range p.Charts {
		v.Charts = append(v.Charts, newChartView(c, p.MinCell))
	}
	v.MFA = newMFAView(p.UsersTotal, p.UsersWithMFA, p.MinCell)
	return v
}

// CountText is how a table and the CSV download write a count: its value,
// or "< minCell" when suppressed.
func CountText(c usage.Count, minCell int) string {
	if c.Suppressed {
		return "< " + strconv.Itoa(minCell)
	}
	return strconv.FormatInt(c.Value, 10)
}
