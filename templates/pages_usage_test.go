package templates

import (
	"io"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"golang.org/x/net/html/atom"

	"gatehouse/identity/usage"
)

// testUsagePage is a dashboard with a timeline of two series, one with a
// suppressed day, and a breakdown.
func testUsagePage() UsagePage {
	return UsagePage{
		Action: "/admin/usage", CSVURL: "/admin/usage.csv?period=7", Period: UsagePeriod7, ClientID: "b",
		Clients: []UsageClient{{ID: "a", Name: "Shop"}, {ID: "b", Name: "Blog"}},
		Range:   "Figures from 2026-06-09 to 2026-06-15 (UTC), every client", MinCell: 5,
		Summary:    []UsageFigure{{ID: "total-sign_ups", Label: "Sign-ups", Count: usage.Count{Value: 40}}},
		UsersTotal: usage.Count{Value: 200}, UsersWithMFA: usage.Count{Value: 50},
		Charts: []UsageChart{
			{ID: "sign-ins", Title: "Sign-ins per day", Kind: UsageTimeline, KeyHeader: "Day", Series: []string{"Sign-ins", "Failed"},
				Rows: []UsageRow{
					{Key: "2026-06-09", Counts: []usage.Count{{Value: 12}, {Suppressed: true}}},
					{Key: "2026-06-10", Counts: []usage.Count{{Value: 30}, {Value: 0}}},
					{Key: "2026-06-11", Counts: []usage.Count{{Value: 18}, {Value: 7}}},
				}},
			{ID: "by-client", Title: "Sign-ins by client", Kind: UsageBreakdown, KeyHeader: "Client", Series: []string{"Count"},
				Rows: []UsageRow{{Key: "Shop", Counts: []usage.Count{{Value: 50}}}, {Key: "<Blog>", Counts: []usage.Count{{Suppressed: true}}}}},
		},
		Notes: []string{"Counts from 1 to 4 are hidden."},
	}
}

// TestUsagePage: the dashboard has the shared layout, labelled fields,
// no script and no style attribute (the CSP refuses both), and draws a
// suppressed count as a hatched band, never as a line or a plain bar.
func TestUsagePage(t *testing.T) {
	r := MustNew(t, testTheme)
	p := mustRender(t, func(w io.Writer) error { return r.Usage(w, testUsagePage()) })
	checkLayout(t, r, p, "Usage – Acme ID")
	checkInputs(t, p, map[string]string{"usage-period": "off", "usage-client": "off", "usage-from": "off", "usage-to": "off"})
	checkNoScript(t, p)
	checkARIA(t, p)
	for _, el := range elements(p.doc, 0) {
		if _, ok := attr(el, "style"); ok {
			t.Errorf("<%s> has a style attribute", el.Data)
		}
	}
	if got, _ := attr(p.first(t, atom.Form), "method"); got != "get" {
		t.Errorf("form method = %q, want get (the page works as a link)", got)
	}
	if got := text(p.byID(t, "usage-client")); !strings.Contains(got, "All clients") {
		t.Errorf("client select = %q, want an All clients choice", got)
	}
	var selected []string
	for _, o := range elements(p.doc, atom.Option) {
		if _, ok := attr(o, "selected"); ok {
			v, _ := attr(o, "value")
			selected = append(selected, v)
		}
	}
	if diff := cmp.Diff([]string{UsagePeriod7, "b"}, selected); diff != "" {
		t.Errorf("selected options mismatch (-want +got):\n%s", diff)
	}

	chart := p.byID(t, "sign-ins-chart")
	if got, _ := attr(chart, "aria-labelledby"); got != "sign-ins-title" || text(p.byID(t, got)) != "Sign-ins per day" {
		t.Errorf("chart aria-labelledby = %q, want the heading", got)
	}
	// The suppressed failed sign-in of the first day is one band; the
	// failed line starts on the second day.
	var bands, lines int
	for _, el := range elements(chart, 0) {
		class, _ := attr(el, "class")
		switch {
		case class == "band":
			bands++
			if fill, _ := attr(el, "fill"); fill != "url(#sign-ins-hatch)" {
				t.Errorf("band fill = %q, want the chart's hatching", fill)
			}
		case el.Data == "polyline":
			lines++
			if class == "series series-1" {
				if pts, _ := attr(el, "points"); len(strings.Fields(pts)) != 2 {
					t.Errorf("failed line points = %q, want the two unsuppressed days", pts)
				}
			}
		}
	}
	if bands != 1 || lines != 2 {
		t.Errorf("sign-ins chart has %d bands and %d lines, want 1 and 2", bands, lines)
	}
	cells := elements(p.byID(t, "by-client-table"), atom.Td)
	if got := text(cells[1]); got != "< 5" {
		t.Errorf("suppressed cell = %q, want < 5", got)
	}
	if !strings.Contains(p.raw, "&lt;Blog&gt;") {
		t.Error("a client's name is not escaped in the chart")
	}
	if got := text(p.byID(t, "mfa-figure")); got != "25.0% of users have a second factor" {
		t.Errorf("MFA figure = %q", got)
	}
}

// TestUsagePageErrors: with errors the form comes back with each message
// under its field and no figures.
func TestUsagePageErrors(t *testing.T) {
	r := MustNew(t, testTheme)
	in := testUsagePage()
	in.Errors = map[string]string{"to": "The last day must not be before the first day.", "other": "Something else."}
	p := mustRender(t, func(w io.Writer) error { return r.Usage(w, in) })
	checkARIA(t, p)
	if got, _ := attr(p.byID(t, "usage-to"), "aria-invalid"); got != "true" {
		t.Errorf("usage-to aria-invalid = %q, want true", got)
	}
	if got := text(p.byID(t, "usage-errors")); got != "Something else." {
		t.Errorf("alert = %q", got)
	}
	checkAbsent(t, p, "usage-range", "usage-csv", "summary-table", "sign-ins-chart", "mfa-chart")
}
