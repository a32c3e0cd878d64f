package templates

import (
	"math"
	"strconv"
	"strings"
	"unicode/utf8"

	"gatehouse/identity/usage"
)

// The charts' coordinate space; the SVG scales to its box by viewBox.
const (
	chartWidth     = 640.0
	timelineHeight = 200.0
	plotLeft       = 48.0 // room for the y-axis labels
	plotRight      = chartWidth - 12
	plotTop        = 10.0
	plotBottom     = timelineHeight - 30 // room for the x-axis labels
	barRowHeight   = 26.0
	barLabelWidth  = 180.0 // a breakdown's labels, left of its bars
	barValueRoom   = 56.0  // its values, right of its bars
	maxBarLabel    = 26    // characters of a label drawn; the table has all of it
	maxBandWidth   = 24.0  // a suppressed count's band, at most
)

// chartView is a chart with its SVG geometry worked out: every number the
// template writes into an attribute is formatted here.
type chartView struct {
	UsageChart
	Height    string
	Columns   int // the table's, for its empty row
	Empty     bool
	Lines     []lineView
	Dots      []dotView
	Bands     []rectView // suppressed counts: hatched, up to MinCell
	Bars      []barView
	Grid      []tickView
	XLabels   []textView
	TableRows []tableRow
}

type lineView struct{ Class, Points string }
type dotView struct{ Class, X, Y string }
type rectView struct{ X, Y, W, H string }
type tickView struct{ Y, Text string }
type textView struct{ X, Y, Anchor, Text string }

type barView struct {
	Rect       rectView
	Label      textView
	Value      textView
	Suppressed bool
}

type tableRow struct {
	Key   string
	Cells []cellView
}

// mfaView is the MFA adoption figure: a bar filled to the share of users
// with a second factor, unknown when either count is suppressed.
type mfaView struct {
	Users, WithMFA string
	Percent        string // "" when unknown
	Fill           string // the filled bar's width
}

func newChartView(c UsageChart, minCell int) chartView {
	if len(c.Series) == 0 {
		c.Series = []string{"Count"}
	}
	// Every row has a count per series, so drawing never runs short.
	rows := make([]UsageRow, len(c.Rows))
	for i, r := range c.Rows {
		rows[i] = UsageRow{Key: r.Key, Counts: make([]usage.Count, len(c.Series))}
		copy(rows[i].Counts, r.Counts)
	}
	c.Rows = rows
	v := chartView{UsageChart: c, Empty: len(c.Rows) == 0, Columns: len(c.Series) + 1}
	for _, r := range c.Rows {
		row := tableRow{Key: r.Key}
		for _, n := range r.Counts {
			row.Cells = append(row.Cells, cellView{Text: CountText(n, minCell), Suppressed: n.Suppressed})
		}
		v.TableRows = append(v.TableRows, row)
	}
	if c.Kind == UsageBreakdown {
		v.layoutBars(minCell)
	} else {
		v.layoutTimeline(minCell)
	}
	return v
}

// scaleMax is the top of a chart's scale: the largest count, at least
// minCell when a count is suppressed (its band must fit), rounded up to 1,
// 2 or 5 times a power of ten so the axis reads well.
func scaleMax(rows []UsageRow, minCell int) float64 {
	top := 1.0
	for _, r := range rows {
		for _, n := range r.Counts {
			v := float64(n.Value)
			if n.Suppressed {
				v = float64(minCell)
			}
			top = math.Max(top, v)
		}
	}
	p := math.Pow(10, math.Floor(math.Log10(top)))
	for _, m := range []float64{1, 2, 5, 10} {
		if m*p >= top {
			return m * p
		}
	}
	return top
}

func (v *chartView) layoutTimeline(minCell int) {
	v.Height = num(timelineHeight)
	top := scaleMax(v.Rows, minCell)
	y := func(n float64) float64 { return plotBottom - n/top*(plotBottom-plotTop) }
	for _, f := range []float64{0, 0.5, 1} {
		v.Grid = append(v.Grid, tickView{Y: num(y(top * f)), Text: strconv.FormatFloat(top*f, 'f', -1, 64)})
	}
	n := len(v.Rows)
	if n == 0 {
		return
	}
	step := (plotRight - plotLeft) / float64(n)
	x := func(i int) float64 { return plotLeft + step*(float64(i)+0.5) }
	for _, i := range labelledPoints(n) {
		anchor := "middle"
		if n > 1 && i == 0 {
			anchor = "start"
		} else if n > 1 && i == n-1 {
			anchor = "end"
		}
		v.XLabels = append(v.XLabels, textView{X: num(x(i)), Y: num(plotBottom + 18), Anchor: anchor, Text: v.Rows[i].Key})
	}
	banded := make([]bool, n)
	for s := range v.Series {
		class := "series series-" + strconv.Itoa(s%3)
		var run []string
		flush := func() {
			switch len(run) {
			case 0:
			case 1:
				px, py, _ := strings.Cut(run[0], ",")
				v.Dots = append(v.Dots, dotView{Class: class, X: px, Y: py})
			default:
				v.Lines = append(v.Lines, lineView{Class: class, Points: strings.Join(run, " ")})
			}
			run = run[:0]
		}
		for i, r := range v.Rows {
			c := r.Counts[s]
			if c.Suppressed {
				flush()
				if !banded[i] {
					banded[i] = true
					// A band is a day's width, but no wider than a
					// bar would be: one hidden count must not fill the
					// chart of a single day.
					w := math.Min(step, maxBandWidth)
					v.Bands = append(v.Bands, rectView{X: num(x(i) - w/2), Y: num(y(float64(minCell))),
						W: num(w), H: num(plotBottom - y(float64(minCell)))})
				}
				continue
			}
			run = append(run, num(x(i))+","+num(y(float64(c.Value))))
		}
		flush()
	}
}

// labelledPoints picks the points whose key the x axis shows: the first,
// the last and the middle one.
func labelledPoints(n int) []int {
	switch {
	case n == 1:
		return []int{0}
	case n < 5:
		return []int{0, n - 1}
	}
	return []int{0, n / 2, n - 1}
}

func (v *chartView) layoutBars(minCell int) {
	v.Height = num(math.Max(1, float64(len(v.Rows))) * barRowHeight)
	top := scaleMax(v.Rows, minCell)
	room := chartWidth - barLabelWidth - barValueRoom
	for i, r := range v.Rows {
		c := r.Counts[0]
		value := float64(c.Value)
		if c.Suppressed {
			value = float64(minCell)
		}
		w := math.Max(1, value/top*room)
		rowY := float64(i) * barRowHeight
		v.Bars = append(v.Bars, barView{
			Rect:       rectView{X: num(barLabelWidth), Y: num(rowY + 4), W: num(w), H: num(barRowHeight - 8)},
			Label:      textView{X: num(barLabelWidth - 8), Y: num(rowY + barRowHeight/2 + 4), Anchor: "end", Text: shorten(r.Key, maxBarLabel)},
			Value:      textView{X: num(barLabelWidth + w + 6), Y: num(rowY + barRowHeight/2 + 4), Anchor: "start", Text: CountText(c, minCell)},
			Suppressed: c.Suppressed,
		})
	}
}

func newMFAView(users, withMFA usage.Count, minCell int) mfaView {
	v := mfaView{Users: CountText(users, minCell), WithMFA: CountText(withMFA, minCell), Fill: "0"}
	if users.Suppressed || withMFA.Suppressed || users.Value <= 0 {
		return v
	}
	share := math.Min(1, float64(withMFA.Value)/float64(users.Value))
	v.Percent = strconv.FormatFloat(share*100, 'f', 1, 64) + "%"
	v.Fill = num(share * chartWidth)
	return v
}

// shorten cuts s to at most n characters, marking the cut.
func shorten(s string, n int) string {
	if utf8.RuneCountInString(s) <= n {
		return s
	}
	return string([]rune(s)[:n-1]) + "…"
}

// num formats a coordinate with at most one decimal.
func num(f float64) string { return strconv.FormatFloat(math.Round(f*10)/10, 'f', -1, 64) }
