package usagepage

import (
	"net/url"
	"time"

	"gatehouse/identity/usage"
	"gatehouse/oidc"
	"gatehouse/templates"
)

// maxValue is the longest form value shown again.
const maxValue = 32

// selection is the dashboard's query as read from the form: what to show
// it again with, and the report query when it is good.
type selection struct {
	Period, From, To, ClientID string
	Errors                     map[string]string
	Query                      usage.Query
}

// presetDays are the days of each preset period.
var presetDays = map[string]int{templates.UsagePeriod7: 7, templates.UsagePeriod30: 30, templates.UsagePeriod90: 90}

// parseSelection reads the form. A preset period ends with today (UTC),
// which is counted so far; a custom range runs from its first to its last
// day, both included. Dates are whole UTC days.
func parseSelection(q url.Values, now time.Time, clients []ClientOption) selection {
	// The values are shown again in the form: a long one is cut, and is
	// refused anyway.
	s := selection{Period: oidc.Truncate(q.Get("period"), maxValue), From: oidc.Truncate(q.Get("from"), maxValue),
		To: oidc.Truncate(q.Get("to"), maxValue), ClientID: q.Get("client"), Errors: map[string]string{}}
	today := time.Date(now.Year(), now.Month(), now.Day(), 0, 0, 0, 0, time.UTC)
	switch {
	case s.Period == "" && s.From == "" && s.To == "":
		s.Period = templates.UsagePeriod30
	case s.Period == "":
		s.Period = templates.UsagePeriodCustom
	}
	if days, ok := presetDays[s.Period]; ok {
		s.Query.From, s.Query.To = today.AddDate(0, 0, 1-days), today.AddDate(0, 0, 1)
		// The date fields show the preset's days, a start for a
		// custom range.
		s.From, s.To = s.Query.From.Format(time.DateOnly), today.Format(time.DateOnly)
	} else if s.Period == templates.UsagePeriodCustom {
		s.parseRange()
	} else {
		s.Errors["period"] = "Choose one of the periods offered."
		s.Period = templates.UsagePeriod30
	}
	if s.ClientID != "" && !hasClient(clients, s.ClientID) {
		s.Errors["client"] = "There is no such client. Choose one from the list."
		s.ClientID = ""
	}
	s.Query.ClientID = s.ClientID
	return s
}

// parseRange checks the custom range's dates.
func (s *selection) parseRange() {
	from, fromErr := parseDay(s.From)
	to, toErr := parseDay(s.To)
	if fromErr != "" {
		s.Errors["from"] = fromErr
	}
	if toErr != "" {
		s.Errors["to"] = toErr
	}
	if fromErr != "" || toErr != "" {
		return
	}
	switch days := int(to.Sub(from).Hours()/24) + 1; {
	case to.Before(from):
		s.Errors["to"] = "The last day must not be before the first day."
	case days > maxDays:
		s.Errors["to"] = "The range is too long: choose at most 400 days."
	}
	s.Query.From, s.Query.To = from, to.AddDate(0, 0, 1)
}

// parseDay reads a date input's value, or says what is wrong with it.
func parseDay(v string) (time.Time, string) {
	if v == "" {
		return time.Time{}, "Enter a date for a custom range."
	}
	if len(v) > len(time.DateOnly) {
		return time.Time{}, "Enter the date as YYYY-MM-DD."
	}
	d, err := time.Parse(time.DateOnly, v)
	if err != nil || d.Year() < 2000 {
		return time.Time{}, "Enter the date as YYYY-MM-DD."
	}
	return d, ""
}

func hasClient(clients []ClientOption, id string) bool {
	for _, c := range clients {
		if c.ID == id {
			return true
		}
	}
	return false
}
