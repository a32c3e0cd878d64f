package usagepage_test

import (
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"golang.org/x/net/html/atom"

	"gatehouse/identity/usage"
)

// chartSeries maps each chart's table to the CSV series of its columns.
var chartSeries = map[string][]string{
	"sign-ups":        {"sign_ups"},
	"sign-ins":        {"sign_ins", "sign_ins_failed"},
	"daily-active":    {"daily_active_users"},
	"lockouts":        {"lockouts"},
	"password-resets": {"password_resets"},
	"emails-verified": {"emails_verified"},
	"tokens-issued":   {"tokens_issued"},
	"weekly-active":   {"weekly_active_users"},
	"monthly-active":  {"monthly_active_users"},
	"by-client":       {"sign_ins_by_client"},
	"by-method":       {"sign_ins_by_method"},
	"by-grant":        {"tokens_by_grant"},
}

// shown is how a count must appear: its value, or "< 5" when suppressed.
func shown(c usage.Count) string {
	if c.Suppressed {
		return "< 5"
	}
	return strconv.FormatInt(c.Value, 10)
}

// wantTables are the tables the page must show for r, straight from the
// report: the table id, then its rows.
func wantTables(r *usage.Report) map[string][][]string {
	want := map[string][][]string{}
	daily := func(id string, ms ...usage.Metric) {
		want[id] = [][]string{}
		for i, p := range r.Daily[ms[0]] {
			row := []string{p.Start.Format(time.DateOnly)}
			for _, m := range ms {
				row = append(row, shown(r.Daily[m][i].Count))
			}
			want[id] = append(want[id], row)
		}
	}
	daily("sign-ups", usage.SignUps)
	daily("sign-ins", usage.SignIns, usage.SignInsFailed)
	daily("daily-active", usage.DailyActiveUsers)
	daily("lockouts", usage.Lockouts)
	daily("password-resets", usage.PasswordResets)
	daily("emails-verified", usage.EmailsVerified)
	daily("tokens-issued", usage.TokensIssued)
	points := func(id, layout string, ps []usage.Point) {
		want[id] = [][]string{}
		for _, p := range ps {
			want[id] = append(want[id], []string{p.Start.Format(layout), shown(p.Count)})
		}
	}
	points("weekly-active", time.DateOnly, r.WeeklyActiveUsers)
	points("monthly-active", "2006-01", r.MonthlyActiveUsers)
	shares := func(id string, ss []usage.Share) {
		want[id] = [][]string{}
		for _, s := range ss {
			want[id] = append(want[id], []string{s.Label, shown(s.Count)})
		}
	}
	shares("by-client", r.SignInsByClient)
	shares("by-method", r.SignInsByMethod)
	shares("by-grant", r.TokensByGrant)
	for id, rows := range want {
		if len(rows) == 0 {
			want[id] = [][]string{{"No data for this period"}}
		}
	}
	var summary [][]string
	names := map[usage.Metric]string{usage.SignUps: "Sign-ups", usage.SignIns: "Sign-ins", usage.SignInsFailed: "Failed sign-ins",
		usage.Lockouts: "Lockouts", usage.PasswordResets: "Password resets", usage.EmailsVerified: "Emails verified", usage.TokensIssued: "Tokens issued"}
	for _, m := range usage.Metrics() {
		if m != usage.DailyActiveUsers {
			summary = append(summary, []string{names[m], shown(r.Totals[m])})
		}
	}
	want["summary"] = append(summary, []string{"Active users", shown(r.ActiveUsers)})
	return want
}

// TestDashboardTables: for reports of every shape, each table holds
// exactly the report's numbers ("< 5" where suppressed), the CSV holds
// the same, and every chart is well-formed SVG with an accessible name.
func TestDashboardTables(t *testing.T) {
	tests := []struct {
		name      string
		f         fixture
		query     string
		wantDays  int
		wantRange string
	}{
		{"30 days by default", fixture{clients: 3}, "", 30, "Figures from 2026-05-17 to 2026-06-15 (UTC), every client"},
		{"suppressed cells", fixture{clients: 8, suppressed: true}, "?period=7", 7, "Figures from 2026-06-09 to 2026-06-15 (UTC), every client"},
		{"empty period", fixture{empty: true}, "?period=custom&from=2026-01-01&to=2026-01-31", 0, "Figures from 2026-01-01 to 2026-01-31 (UTC), every client"},
		{"single day", fixture{clients: 1}, "?period=custom&from=2026-03-04&to=2026-03-04", 1, "Figures for 2026-03-04 (UTC), every client"},
		{"90 days", fixture{clients: 2, exact: true}, "?period=90", 90, "Figures from 2026-03-18 to 2026-06-15 (UTC), every client"},
		{"many clients", fixture{clients: 60, suppressed: true, evil: true}, "?period=30&client=client-007", 30, "Figures from 2026-05-17 to 2026-06-15 (UTC), Application 7"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			s := newServer(t, tc.f, nil)
			rec := s.get(t, "/admin/usage"+tc.query)
			if rec.Code != http.StatusOK {
				t.Fatalf("GET: status %d, want 200:\n%s", rec.Code, rec.Body)
			}
			if got := rec.Header().Get("Cache-Control"); got != "no-store" {
				t.Errorf("Cache-Control = %q, want no-store", got)
			}
			r := s.reports[0]
			if got := len(r.Daily[usage.SignUps]); got != tc.wantDays {
				t.Fatalf("report has %d days, want %d (query %+v)", got, tc.wantDays, r.Query)
			}
			p := mustParse(t, rec.Body.String())
			if got := text(p.ids["usage-range"]); !strings.HasPrefix(got, tc.wantRange) {
				t.Errorf("range line = %q, want it to start with %q", got, tc.wantRange)
			}
			got := map[string][][]string{}
			for id := range wantTables(r) {
				n, ok := p.ids[id+"-table"]
				if !ok {
					t.Errorf("no table %q", id+"-table")
					continue
				}
				got[id] = tableRows(n)
			}
			if diff := cmp.Diff(wantTables(r), got); diff != "" {
				t.Errorf("tables mismatch (-want +got):\n%s", diff)
			}
			wantMFA := []string{shown(r.UsersTotal), shown(r.UsersWithMFA)}
			if gotMFA := []string{text(p.ids["mfa-users"]), text(p.ids["mfa-with"])}; !slices.Equal(gotMFA, wantMFA) {
				t.Errorf("MFA table = %q, want %q", gotMFA, wantMFA)
			}
			if n := checkSVG(t, p); n != len(chartSeries)+1 {
				t.Errorf("page has %d charts, want %d", n, len(chartSeries)+1)
			}
			notes := text(p.ids["usage-notes"])
			wantNote := "Weekly and monthly active users are estimates."
			if tc.f.exact {
				wantNote = "Weekly and monthly active users are exact."
			}
			for _, w := range []string{wantNote, "exact for each day", "Counts from 1 to 4 are hidden"} {
				if !strings.Contains(notes, w) {
					t.Errorf("notes %q do not say %q", notes, w)
				}
			}

			csvURL := attr(p.ids["usage-csv"], "href")
			crec := s.get(t, csvURL)
			if crec.Code != http.StatusOK {
				t.Fatalf("GET %s: status %d", csvURL, crec.Code)
			}
			if len(s.queries) != 2 || s.queries[1] != s.queries[0] {
				t.Errorf("the download asked for %v, the page for %v: want the same period", s.queries[1:], s.queries[0])
			}
			checkCSVMatchesTables(t, parseCSV(t, crec.Body.String()), got, p)
		})
	}
}

// checkCSVMatchesTables rebuilds each table from the CSV and compares.
func checkCSVMatchesTables(t *testing.T, rows [][]string, tables map[string][][]string, p parsed) {
	t.Helper()
	if diff := cmp.Diff([]string{"series", "key", "label", "start", "value"}, rows[0]); diff != "" {
		t.Fatalf("CSV header mismatch (-want +got):\n%s", diff)
	}
	bySeries := map[string][][]string{}
	for _, r := range rows[1:] {
		bySeries[r[0]] = append(bySeries[r[0]], r[1:])
	}
	cellOf := func(v string) string { return strings.Replace(v, "<", "< ", 1) }
	for id, series := range chartSeries {
		want := tables[id]
		var got [][]string
		for i, r := range bySeries[series[0]] {
			var key string
			switch {
			case id == "by-client":
				key = strings.TrimPrefix(r[1], "'")
			case strings.HasPrefix(id, "by-"):
				key = r[0]
			case id == "monthly-active":
				key = r[2][:7]
			default:
				key = r[2]
			}
			row := []string{key, cellOf(r[3])}
			for _, more := range series[1:] {
				row = append(row, cellOf(bySeries[more][i][3]))
			}
			got = append(got, row)
		}
		if len(got) == 0 {
			got = [][]string{{"No data for this period"}}
		}
		if diff := cmp.Diff(want, got); diff != "" {
			t.Errorf("CSV of %s differs from its table (-table +csv):\n%s", id, diff)
		}
	}
	var summary [][]string
	for _, r := range bySeries["total"] {
		summary = append(summary, []string{r[0], cellOf(r[3])})
	}
	var table [][]string
	for _, r := range tables["summary"] {
		table = append(table, []string{"", r[1]})
	}
	for i := range summary {
		summary[i][0] = ""
	}
	if diff := cmp.Diff(table, summary); diff != "" {
		t.Errorf("CSV totals differ from the summary table (-table +csv):\n%s", diff)
	}
	users := bySeries["users"]
	if len(users) != 2 || cellOf(users[0][3]) != text(p.ids["mfa-users"]) || cellOf(users[1][3]) != text(p.ids["mfa-with"]) {
		t.Errorf("CSV users = %q, want the MFA table's %q, %q", users, text(p.ids["mfa-users"]), text(p.ids["mfa-with"]))
	}
}

// TestDashboardBadQuery: a bad period, date or client gets the form again
// with a message under the field and 400; no report is made.
func TestDashboardBadQuery(t *testing.T) {
	tests := []struct {
		name    string
		query   url.Values
		field   string
		message string
	}{
		{"from after to", url.Values{"period": {"custom"}, "from": {"2026-05-10"}, "to": {"2026-05-01"}}, "to", "must not be before the first day"},
		{"unparseable from", url.Values{"period": {"custom"}, "from": {"10/05/2026"}, "to": {"2026-05-01"}}, "from", "YYYY-MM-DD"},
		{"impossible date", url.Values{"period": {"custom"}, "from": {"2026-02-30"}, "to": {"2026-03-01"}}, "from", "YYYY-MM-DD"},
		{"missing to", url.Values{"period": {"custom"}, "from": {"2026-02-01"}}, "to", "Enter a date"},
		{"range over 400 days", url.Values{"period": {"custom"}, "from": {"2025-01-01"}, "to": {"2026-06-01"}}, "to", "at most 400 days"},
		{"unknown period", url.Values{"period": {"365"}}, "period", "Choose one of the periods"},
		{"unknown client", url.Values{"period": {"7"}, "client": {"no-such-client"}}, "client", "no such client"},
		{"long junk", url.Values{"from": {strings.Repeat("9", 5000)}, "to": {"2026-01-01"}}, "from", "YYYY-MM-DD"},
	}
	for _, tc := range tests {
		for _, path := range []string{"/admin/usage", "/admin/usage.csv"} {
			t.Run(tc.name+" "+path, func(t *testing.T) {
				s := newServer(t, fixture{clients: 2}, nil)
				rec := s.get(t, path+"?"+tc.query.Encode())
				if rec.Code != http.StatusBadRequest {
					t.Fatalf("status %d, want 400:\n%s", rec.Code, rec.Body)
				}
				if ct := rec.Header().Get("Content-Type"); !strings.HasPrefix(ct, "text/html") {
					t.Errorf("Content-Type = %q, want the page", ct)
				}
				if len(s.queries) != 0 {
					t.Errorf("a report was made for a bad query: %v", s.queries)
				}
				p := mustParse(t, rec.Body.String())
				errEl, ok := p.ids[tc.field+"-error"]
				if !ok || !strings.Contains(text(errEl), tc.message) {
					t.Errorf("error under %s = %q, want it to say %q", tc.field, text(errEl), tc.message)
				}
				forms := elements(p.doc, atom.Form)
				if len(forms) != 1 || attr(forms[0], "action") != "/admin/usage" || attr(forms[0], "method") != "get" {
					t.Error("the form (GET /admin/usage) is missing")
				}
				for _, id := range []string{"summary-table", "sign-ups-chart", "usage-csv"} {
					if _, ok := p.ids[id]; ok {
						t.Errorf("a refused query shows %q", id)
					}
				}
				if strings.Contains(rec.Body.String(), strings.Repeat("9", 33)) {
					t.Error("the long value is shown in full")
				}
			})
		}
	}
}

// TestDashboardQuery: the form's choices become the report's query: whole
// UTC days, presets ending today, a custom range with its last day
// included, the client filter.
func TestDashboardQuery(t *testing.T) {
	day := func(m time.Month, d int) time.Time { return time.Date(2026, m, d, 0, 0, 0, 0, time.UTC) }
	tests := []struct {
		query string
		want  usage.Query
	}{
		{"", usage.Query{From: day(5, 17), To: day(6, 16)}},
		{"?period=7", usage.Query{From: day(6, 9), To: day(6, 16)}},
		{"?period=90&client=client-001", usage.Query{From: day(3, 18), To: day(6, 16), ClientID: "client-001"}},
		{"?from=2026-01-01&to=2026-01-31", usage.Query{From: day(1, 1), To: day(2, 1)}},
		{"?period=custom&from=2025-05-12&to=2026-06-15", usage.Query{From: time.Date(2025, 5, 12, 0, 0, 0, 0, time.UTC), To: day(6, 16)}},
	}
	for _, tc := range tests {
		t.Run(tc.query, func(t *testing.T) {
			s := newServer(t, fixture{clients: 2}, nil)
			if rec := s.get(t, "/admin/usage"+tc.query); rec.Code != http.StatusOK {
				t.Fatalf("status %d:\n%s", rec.Code, rec.Body)
			}
			if diff := cmp.Diff([]usage.Query{tc.want}, s.queries); diff != "" {
				t.Errorf("report queries mismatch (-want +got):\n%s", diff)
			}
		})
	}
}

// TestSuppressedValueNeverShown: were a report to carry a suppressed
// count's value by mistake, the page and the CSV still could not tell it:
// they are the same byte for byte whatever the value.
func TestSuppressedValueNeverShown(t *testing.T) {
	for _, path := range []string{"/admin/usage?period=30", "/admin/usage.csv?period=30"} {
		var bodies []string
		for _, leak := range []int64{0, 1, 4} {
			s := newServer(t, fixture{clients: 6, suppressed: true, leak: leak}, nil)
			rec := s.get(t, path)
			if rec.Code != http.StatusOK {
				t.Fatalf("GET %s: status %d", path, rec.Code)
			}
			bodies = append(bodies, rec.Body.String())
		}
		if bodies[0] != bodies[1] || bodies[0] != bodies[2] {
			t.Errorf("GET %s differs with the hidden value of suppressed counts", path)
		}
	}
}

// TestCSVDownload: the download is a CSV attachment that is not stored,
// and a client's name or ID that a spreadsheet would run as a formula
// (anyone may register a client with dynamic registration) stays text.
func TestCSVDownload(t *testing.T) {
	s := newServer(t, fixture{clients: 2, evil: true}, nil)
	rec := s.get(t, "/admin/usage.csv?period=custom&from=2026-04-01&to=2026-04-30")
	if rec.Code != http.StatusOK {
		t.Fatalf("status %d:\n%s", rec.Code, rec.Body)
	}
	for k, want := range map[string]string{
		"Content-Type":        "text/csv; charset=utf-8",
		"Content-Disposition": `attachment; filename="usage-2026-04-01-to-2026-04-30.csv"`,
		"Cache-Control":       "no-store",
	} {
		if got := rec.Header().Get(k); got != want {
			t.Errorf("%s = %q, want %q", k, got, want)
		}
	}
	var found bool
	for _, r := range parseCSV(t, rec.Body.String()) {
		for _, cell := range r {
			if strings.HasPrefix(cell, "=") || strings.HasPrefix(cell, "+") || strings.HasPrefix(cell, "@") {
				t.Errorf("CSV cell %q would run as a formula", cell)
			}
		}
		if r[0] == "sign_ins_by_client" && r[1] == "'"+evilID {
			found = true
			if r[2] != "'"+evilName {
				t.Errorf("evil client label = %q, want it quoted", r[2])
			}
		}
	}
	if !found {
		t.Error("the evil client's row is missing")
	}
}

// TestReportFailure: a failing report source is the error page (500),
// logged by the error handler, not a half-written page.
func TestReportFailure(t *testing.T) {
	for _, path := range []string{"/admin/usage", "/admin/usage.csv"} {
		s := newServer(t, fixture{}, errReport)
		rec := s.get(t, path)
		if rec.Code != http.StatusInternalServerError {
			t.Errorf("GET %s: status %d, want 500", path, rec.Code)
		}
		if strings.Contains(rec.Body.String(), errReport.Error()) {
			t.Errorf("GET %s shows the cause", path)
		}
	}
}

// BenchmarkDashboard365 renders the page of a 365-day report with many
// clients.
func BenchmarkDashboard365(b *testing.B) {
	s := newServer(b, fixture{clients: 40, suppressed: true}, nil)
	target := "/admin/usage?period=custom&from=2025-06-16&to=2026-06-15"
	if rec := s.get(b, target); rec.Code != http.StatusOK {
		b.Fatalf("status %d", rec.Code)
	}
	b.ReportAllocs()
	for b.Loop() {
		s.queries, s.reports = s.queries[:0], s.reports[:0]
		s.get(b, target)
	}
}
