package usagepage

import (
	"encoding/csv"
	"fmt"
	"io"
	"strconv"
	"strings"
	"time"

	"gatehouse/identity/usage"
)

// The CSV's series besides the daily metrics (whose series is the
// usage.Metric).
const (
	seriesTotal         = "total"               // key: the metric, or active_users
	seriesWeeklyActive  = "weekly_active_users" // start: the week's Monday
	seriesMonthlyActive = "monthly_active_users"
	seriesByClient      = "sign_ins_by_client" // key: client ID, label: its name
	seriesByMethod      = "sign_ins_by_method"
	seriesByGrant       = "tokens_by_grant"
	seriesUsers         = "users" // key: total or with_mfa
)

// csvHeader names the columns: a row is one count of one series, on one
// day (start) or for one key.
var csvHeader = []string{"series", "key", "label", "start", "value"}

// writeCSV writes every series of r. Suppressed counts are "<MinCell",
// as on the page; no row holds a suppressed count's value.
func writeCSV(w io.Writer, r *usage.Report) error {
	cw := csv.NewWriter(w)
	minCell := minCell(r)
	from := day(r.Query.From)
	rows := [][]string{csvHeader}
	add := func(series, key, label, start string, c usage.Count) {
		rows = append(rows, []string{series, cell(key), cell(label), start, csvCount(c, minCell)})
	}
	for _, m := range usage.Metrics() {
		for _, p := range r.Daily[m] {
			add(string(m), "", "", day(p.Start), p.Count)
		}
	}
	for _, m := range usage.Metrics() {
		if m != usage.DailyActiveUsers {
			add(seriesTotal, string(m), "", from, r.Totals[m])
		}
	}
	add(seriesTotal, "active_users", "", from, r.ActiveUsers)
	for _, p := range r.WeeklyActiveUsers {
		add(seriesWeeklyActive, "", "", day(p.Start), p.Count)
	}
	for _, p := range r.MonthlyActiveUsers {
		add(seriesMonthlyActive, "", "", day(p.Start), p.Count)
	}
	for _, s := range r.SignInsByClient {
		add(seriesByClient, s.Key, shareLabel(s), from, s.Count)
	}
	for _, s := range r.SignInsByMethod {
		add(seriesByMethod, s.Key, "", from, s.Count)
	}
	for _, s := range r.TokensByGrant {
		add(seriesByGrant, s.Key, "", from, s.Count)
	}
	add(seriesUsers, "total", "", from, r.UsersTotal)
	add(seriesUsers, "with_mfa", "", from, r.UsersWithMFA)
	if err := cw.WriteAll(rows); err != nil {
		return fmt.Errorf("usagepage: write csv: %w", err)
	}
	return nil
}

func csvCount(c usage.Count, minCell int) string {
	if c.Suppressed {
		return "<" + strconv.Itoa(minCell)
	}
	return strconv.FormatInt(c.Value, 10)
}

// cell keeps a text a spreadsheet would run as a formula (a client's name
// is chosen by whoever registered it) as text, by a leading apostrophe
// (OWASP, CSV injection).
func cell(s string) string {
	if s != "" && strings.ContainsRune("=+-@\t\r", rune(s[0])) {
		return "'" + s
	}
	return s
}

func day(t time.Time) string { return t.UTC().Format(time.DateOnly) }

// csvName is the download's file name: the period's first and last day.
func csvName(q usage.Query) string {
	name := "usage-" + day(q.From) + "-to-" + day(q.To.AddDate(0, 0, -1))
	if q.ClientID == "" {
		return name + ".csv"
	}
	return name + "-client.csv"
}
