package usagepage

import (
	"strconv"
	"time"

	"gatehouse/identity/usage"
	"gatehouse/templates"
)

// metricNames are the daily metrics' names on the page; the CSV names
// them by their Metric values.
var metricNames = map[usage.Metric]string{
	usage.SignUps:          "Sign-ups",
	usage.SignIns:          "Sign-ins",
	usage.SignInsFailed:    "Failed sign-ins",
	usage.DailyActiveUsers: "Daily active users",
	usage.Lockouts:         "Lockouts",
	usage.PasswordResets:   "Password resets",
	usage.EmailsVerified:   "Emails verified",
	usage.TokensIssued:     "Tokens issued",
}

// dailyCharts groups the daily metrics into charts: sign-ins are drawn
// with the failed ones, to compare them; every other metric alone.
var dailyCharts = []struct {
	id      string
	title   string
	metrics []usage.Metric
}{
	{"sign-ups", "Sign-ups per day", []usage.Metric{usage.SignUps}},
	{"sign-ins", "Sign-ins and failed sign-ins per day", []usage.Metric{usage.SignIns, usage.SignInsFailed}},
	{"daily-active", "Daily active users", []usage.Metric{usage.DailyActiveUsers}},
	{"lockouts", "Lockouts per day", []usage.Metric{usage.Lockouts}},
	{"password-resets", "Password resets per day", []usage.Metric{usage.PasswordResets}},
	{"emails-verified", "Emails verified per day", []usage.Metric{usage.EmailsVerified}},
	{"tokens-issued", "Tokens issued per day", []usage.Metric{usage.TokensIssued}},
}

// fillReport puts the report's figures on the page.
func fillReport(p *templates.UsagePage, r *usage.Report) {
	p.MinCell = minCell(r)
	for _, m := range usage.Metrics() {
		if m == usage.DailyActiveUsers {
			continue // not a sum: the distinct users of the period stand for it
		}
		p.Summary = append(p.Summary, templates.UsageFigure{ID: "total-" + string(m), Label: metricNames[m], Count: r.Totals[m]})
	}
	p.Summary = append(p.Summary,
		templates.UsageFigure{ID: "total-active_users", Label: "Active users", Count: r.ActiveUsers})
	for _, c := range dailyCharts {
		p.Charts = append(p.Charts, dailyChart(c.id, c.title, r, c.metrics))
	}
	p.Charts = append(p.Charts,
		pointChart("weekly-active", "Weekly active users", "Week starting", time.DateOnly, r.WeeklyActiveUsers),
		pointChart("monthly-active", "Monthly active users", "Month", "2006-01", r.MonthlyActiveUsers),
		shareChart("by-client", "Sign-ins by client", "Client", r.SignInsByClient),
		shareChart("by-method", "Sign-ins by method", "Method", r.SignInsByMethod),
		shareChart("by-grant", "Tokens by grant type", "Grant type", r.TokensByGrant),
	)
	p.UsersTotal, p.UsersWithMFA = r.UsersTotal, r.UsersWithMFA
	active := "Weekly and monthly active users are estimates."
	if r.ActiveUsersExact {
		active = "Weekly and monthly active users are exact."
	}
	p.Notes = []string{
		"Active users are the distinct people who signed in: exact for each day. " + active +
			" Weeks are ISO weeks from Monday and months calendar months; the first and last may begin before or end after the period.",
		"Counts from 1 to " + strconv.Itoa(p.MinCell-1) + " are hidden, shown as “< " + strconv.Itoa(p.MinCell) +
			"” and drawn hatched, so that no one can be singled out. All days are UTC.",
	}
}

func minCell(r *usage.Report) int {
	if r.MinCell <= 0 {
		return 5
	}
	return r.MinCell
}

// dailyChart is a timeline of one or more daily metrics. The days are
// those of the first metric, which the report gives for every day.
func dailyChart(id, title string, r *usage.Report, metrics []usage.Metric) templates.UsageChart {
	c := templates.UsageChart{ID: id, Title: title, Kind: templates.UsageTimeline, KeyHeader: "Day"}
	for _, m := range metrics {
		c.Series = append(c.Series, metricNames[m])
	}
	for i, p := range r.Daily[metrics[0]] {
		row := templates.UsageRow{Key: p.Start.UTC().Format(time.DateOnly)}
		for _, m := range metrics {
			row.Counts = append(row.Counts, pointAt(r.Daily[m], i, p.Start))
		}
		c.Rows = append(c.Rows, row)
	}
	return c
}

// pointAt is the count of points on day start, looked up by index first
// as the series are aligned; zero when missing.
func pointAt(points []usage.Point, i int, start time.Time) usage.Count {
	if i < len(points) && points[i].Start.Equal(start) {
		return points[i].Count
	}
	for _, p := range points {
		if p.Start.Equal(start) {
			return p.Count
		}
	}
	return usage.Count{}
}

func pointChart(id, title, keyHeader, layout string, points []usage.Point) templates.UsageChart {
	c := templates.UsageChart{ID: id, Title: title, Kind: templates.UsageTimeline, KeyHeader: keyHeader, Series: []string{title}}
	for _, p := range points {
		c.Rows = append(c.Rows, templates.UsageRow{Key: p.Start.UTC().Format(layout), Counts: []usage.Count{p.Count}})
	}
	return c
}

func shareChart(id, title, keyHeader string, shares []usage.Share) templates.UsageChart {
	c := templates.UsageChart{ID: id, Title: title, Kind: templates.UsageBreakdown, KeyHeader: keyHeader, Series: []string{"Count"}}
	for _, s := range shares {
		c.Rows = append(c.Rows, templates.UsageRow{Key: shareLabel(s), Counts: []usage.Count{s.Count}})
	}
	return c
}

func shareLabel(s usage.Share) string {
	if s.Label == "" {
		return s.Key
	}
	return s.Label
}
