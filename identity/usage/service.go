package usage

import (
	"context"
	"fmt"
	"sort"
	"time"
)

// Reader reads the aggregates (implementation: usage/sqlstore). Days
// are DayKeys; [from, to).
type Reader interface {
	// Counts returns the summed counts of every metric and dimension of
	// the days in [from, to) for clientID ("" every client), one Delta
	// per (day, metric, dimension).
	Counts(ctx context.Context, from, to, clientID string) ([]Delta, error)
	// CountsByClient returns metric's count over [from, to) per client,
	// every client but "".
	CountsByClient(ctx context.Context, from, to string, metric Metric) (map[string]int64, error)
	// Sketches returns the active-user sketches of span (days, weeks or
	// months) that start in [from, to), for clientID; without their
	// encoded sketch unless withSketch.
	Sketches(ctx context.Context, span Span, from, to, clientID string, withSketch bool) ([]DaySketch, error)
	// Gauges returns the newest user snapshot taken on a day before
	// `before`: all users and users with a second factor.
	Gauges(ctx context.Context, before string) (total, withMFA int64, err error)
}

// ClientNamer names clients for the by-client breakdown.
type ClientNamer interface {
	// ClientName returns the client's display name, or "" when there is
	// no such client (any more).
	ClientName(ctx context.Context, id string) (string, error)
}

// DefaultMinCell is the smallest count shown as it is unless configured.
const DefaultMinCell = 5

// NoClient is the Share key of sign-ins on Gatehouse's own pages, which
// no client asked for.
const NoClient = ""

// Service makes reports from the aggregates: a few hundred rows and the
// sketches of the period, whatever the number of users.
type Service struct {
	Store   Reader
	Clients ClientNamer // may be nil: labels are then the client IDs
	MinCell int         // 0 means DefaultMinCell
	Now     func() time.Time
}

// Report returns the usage of q's period, every count suppressed as
// suppress.go says. A bad query is a *ValidationError.
func (s *Service) Report(ctx context.Context, q Query) (*Report, error) {
	if err := q.Validate(); err != nil {
		return nil, err
	}
	minCell := s.MinCell
	if minCell <= 0 {
		minCell = DefaultMinCell
	}
	from, to := DayKey(q.From), DayKey(q.To)
	rows, err := s.Store.Counts(ctx, from, to, q.ClientID)
	if err != nil {
		return nil, fmt.Errorf("usage: report: %w", err)
	}
	r := &Report{Query: q, MinCell: minCell, Daily: map[Metric][]Point{}, Totals: map[Metric]Count{}, Generated: s.Now().UTC()}
	days := q.Days()
	daily := map[Metric][]int64{}
	for _, m := range Metrics() {
		daily[m] = make([]int64, days)
	}
	byMethod, byGrant := map[string]int64{}, map[string]int64{}
	for _, d := range rows {
		day, err := time.Parse(time.DateOnly, d.Day)
		if err != nil {
			return nil, fmt.Errorf("usage: report: bad day %q", d.Day)
		}
		i := int(day.Sub(q.From) / (24 * time.Hour))
		switch {
		case i < 0 || i >= days:
		case d.Metric == SignInsByMethodMetric:
			byMethod[d.Dimension] += d.N
		case d.Metric == TokensByGrantMetric:
			byGrant[d.Dimension] += d.N
		case daily[d.Metric] != nil:
			daily[d.Metric][i] += d.N
		}
	}
	for _, m := range Metrics() {
		if m == DailyActiveUsers {
			continue
		}
		cells, total := group(daily[m], sum(daily[m]), minCell)
		r.Daily[m] = points(q.From, cells)
		r.Totals[m] = total
	}
	dau := make([]Count, days)
	for i, v := range daily[DailyActiveUsers] {
		dau[i] = cell(v, minCell)
	}
	r.Daily[DailyActiveUsers] = points(q.From, dau)
	if err := s.activeUsers(ctx, r, minCell); err != nil {
		return nil, err
	}
	r.Totals[DailyActiveUsers] = r.ActiveUsers
	signIns := sum(daily[SignIns])
	r.SignInsByMethod = shares(byMethod, signIns, minCell)
	r.TokensByGrant = shares(byGrant, sum(daily[TokensIssued]), minCell)
	if r.SignInsByClient, err = s.byClient(ctx, q, signIns, minCell); err != nil {
		return nil, err
	}
	total, withMFA, err := s.Store.Gauges(ctx, to)
	if err != nil {
		return nil, fmt.Errorf("usage: report: %w", err)
	}
	r.UsersTotal, r.UsersWithMFA = cell(total, minCell), cell(withMFA, minCell)
	return r, nil
}

// activeUsers fills the weekly, monthly and period active users from the
// sketches: each ISO week and calendar month that overlaps the period,
// whole, and the period from its whole weeks and the days at its edges.
func (s *Service) activeUsers(ctx context.Context, r *Report, minCell int) error {
	q := r.Query
	read := func(span Span, from, to time.Time, withSketch bool) ([]DaySketch, error) {
		if !from.Before(to) {
			return nil, nil
		}
		raw, err := s.Store.Sketches(ctx, span, DayKey(from), DayKey(to), q.ClientID, withSketch)
		if err != nil {
			return nil, fmt.Errorf("usage: report: %w", err)
		}
		return raw, nil
	}
	estimates := func(span Span, from time.Time, next func(time.Time) time.Time) ([]Point, error) {
		raw, err := read(span, from, q.To, false)
		if err != nil {
			return nil, err
		}
		byStart := make(map[string]int64, len(raw))
		for _, s := range raw {
			byStart[s.Day] = s.Estimate
		}
		var out []Point
		for t := from; t.Before(q.To); t = next(t) {
			out = append(out, Point{Start: t, Count: cell(byStart[DayKey(t)], minCell)})
		}
		return out, nil
	}
	var err error
	if r.WeeklyActiveUsers, err = estimates(SpanWeek, WeekStart(q.From), func(t time.Time) time.Time { return t.AddDate(0, 0, 7) }); err != nil {
		return err
	}
	if r.MonthlyActiveUsers, err = estimates(SpanMonth, MonthStart(q.From), func(t time.Time) time.Time { return t.AddDate(0, 1, 0) }); err != nil {
		return err
	}
	// The whole weeks [first, end) inside the period, and its edge days.
	first := WeekStart(q.From)
	if first.Before(q.From) {
		first = first.AddDate(0, 0, 7)
	}
	end := first
	for !end.AddDate(0, 0, 7).After(q.To) {
		end = end.AddDate(0, 0, 7)
	}
	if end.Equal(first) {
		first, end = q.To, q.To // no whole week: every day is an edge day
	}
	var parts []DaySketch
	for _, p := range []struct {
		span     Span
		from, to time.Time
	}{{SpanWeek, first, end}, {SpanDay, q.From, first}, {SpanDay, end, q.To}} {
		raw, err := read(p.span, p.from, p.to, true)
		if err != nil {
			return err
		}
		parts = append(parts, raw...)
	}
	decoded, err := decode(parts)
	if err != nil {
		return err
	}
	n, err := distinct(decoded...)
	r.ActiveUsers = cell(n, minCell)
	r.ActiveUsersExact = false
	return err
}

// byClient breaks the period's sign-ins down by client, with the
// sign-ins on Gatehouse's own pages as the share NoClient so that the
// shares add up to the total (see group).
func (s *Service) byClient(ctx context.Context, q Query, signIns int64, minCell int) ([]Share, error) {
	var counts map[string]int64
	if q.ClientID != "" {
		counts = map[string]int64{q.ClientID: signIns}
	} else {
		var err error
		counts, err = s.Store.CountsByClient(ctx, DayKey(q.From), DayKey(q.To), SignIns)
		if err != nil {
			return nil, fmt.Errorf("usage: report: %w", err)
		}
		var viaClients int64
		for _, n := range counts {
			viaClients += n
		}
		if direct := signIns - viaClients; direct > 0 {
			counts[NoClient] = direct
		}
	}
	out := shares(counts, signIns, minCell)
	for i := range out {
		if out[i].Key == NoClient {
			out[i].Label = "Gatehouse pages"
			continue
		}
		if s.Clients != nil {
			name, err := s.Clients.ClientName(ctx, out[i].Key)
			if err != nil {
				return nil, fmt.Errorf("usage: report: client name: %w", err)
			}
			if name != "" {
				out[i].Label = name
			}
		}
	}
	return out, nil
}

// shares turns counts into a breakdown, largest first (ties by key),
// suppressed with total as their sum.
func shares(counts map[string]int64, total int64, minCell int) []Share {
	keys := make([]string, 0, len(counts))
	for k, n := range counts {
		if n != 0 {
			keys = append(keys, k)
		}
	}
	sort.Slice(keys, func(a, b int) bool {
		if counts[keys[a]] != counts[keys[b]] {
			return counts[keys[a]] > counts[keys[b]]
		}
		return keys[a] < keys[b]
	})
	values := make([]int64, len(keys))
	for i, k := range keys {
		values[i] = counts[k]
	}
	cells, _ := group(values, total, minCell)
	out := make([]Share, len(keys))
	for i, k := range keys {
		out[i] = Share{Key: k, Label: k, Count: cells[i]}
	}
	return out
}

func points(from time.Time, cells []Count) []Point {
	out := make([]Point, len(cells))
	for i, c := range cells {
		out[i] = Point{Start: from.AddDate(0, 0, i), Count: c}
	}
	return out
}

func sum(vs []int64) int64 {
	var n int64
	for _, v := range vs {
		n += v
	}
	return n
}
