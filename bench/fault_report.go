package main

import (
	"fmt"
	"io"
	"maps"
	"slices"
	"strconv"
	"strings"
	"time"
)

// A check is one target of a fault scenario and what the run gave.
type check struct {
	name string // what is checked
	got  string
	want string
	ok   bool
}

// faultReport is the outcome of one fault scenario: figures to read and
// checks against the targets. A scenario that could not be run to the end
// has err set and fails, whatever its checks say.
type faultReport struct {
	scenario string
	figures  []string
	checks   []check
	err      error
	logDir   string // where the server logs are
}

// figure adds a line of figures; the label is padded so the values align.
func (r *faultReport) figure(label, format string, args ...any) {
	r.figures = append(r.figures, fmt.Sprintf("%-13s ", label)+fmt.Sprintf(format, args...))
}

// checkAtMost checks that got did not exceed limit. A negative got means
// it never happened, which fails.
func (r *faultReport) checkAtMost(name string, got, limit time.Duration) {
	c := check{name: name, got: seconds(got), want: "≤ " + seconds(limit), ok: got >= 0 && got <= limit}
	if got < 0 {
		c.got = "never"
	}
	r.checks = append(r.checks, c)
}

// checkCount checks that a count is want.
func (r *faultReport) checkCount(name string, got, want int) {
	r.checks = append(r.checks, check{name: name, got: strconv.Itoa(got), want: strconv.Itoa(want), ok: got == want})
}

// checkThat adds a check whose verdict the caller worked out.
func (r *faultReport) checkThat(name string, ok bool, got, want string) {
	r.checks = append(r.checks, check{name: name, got: got, want: want, ok: ok})
}

// passed reports whether the scenario ran to the end and met every target.
func (r *faultReport) passed() bool {
	if r.err != nil || len(r.checks) == 0 {
		return false
	}
	for _, c := range r.checks {
		if !c.ok {
			return false
		}
	}
	return true
}

func verdict(ok bool) string {
	if ok {
		return "PASS"
	}
	return "FAIL"
}

// write prints the report: a heading with the verdict, the figures, then
// one line per check.
func (r *faultReport) write(w io.Writer) error {
	var b strings.Builder
	fmt.Fprintf(&b, "== %s: %s ==\n", r.scenario, verdict(r.passed()))
	for _, f := range r.figures {
		fmt.Fprintf(&b, "  %s\n", f)
	}
	for _, c := range r.checks {
		fmt.Fprintf(&b, "  [%s] %s: %s (want %s)\n", verdict(c.ok), c.name, c.got, c.want)
	}
	if r.err != nil {
		fmt.Fprintf(&b, "  [FAIL] not run to the end: %v\n", r.err)
	}
	if !r.passed() && r.logDir != "" {
		fmt.Fprintf(&b, "  server logs in %s\n", r.logDir)
	}
	_, err := io.WriteString(w, b.String())
	return err
}

// writeSummary prints one line per scenario, the failed checks named.
func writeSummary(w io.Writer, reports []*faultReport) error {
	var b strings.Builder
	b.WriteString("== summary ==\n")
	for _, r := range reports {
		var failed []string
		for _, c := range r.checks {
			if !c.ok {
				failed = append(failed, c.name)
			}
		}
		if r.err != nil {
			failed = append(failed, "not run to the end")
		}
		line := fmt.Sprintf("  %-17s %s", r.scenario, verdict(r.passed()))
		if len(failed) > 0 {
			line += " (" + strings.Join(failed, "; ") + ")"
		}
		b.WriteString(line + "\n")
	}
	_, err := io.WriteString(w, b.String())
	return err
}

// seconds formats d in seconds with millisecond precision.
func seconds(d time.Duration) string {
	return strconv.FormatFloat(d.Seconds(), 'f', 3, 64) + "s"
}

// statusLabel names an HTTP status for counting; 0 is a request that got
// no answer (refused, reset or dropped connection).
func statusLabel(status int) string {
	if status == 0 {
		return "no answer"
	}
	return strconv.Itoa(status)
}

// formatCounts prints counts by label, largest first, as "503×12, 200×3";
// "none" when empty.
func formatCounts(counts map[string]int) string {
	labels := slices.Collect(maps.Keys(counts))
	slices.SortFunc(labels, func(a, b string) int {
		if counts[a] != counts[b] {
			return counts[b] - counts[a]
		}
		return strings.Compare(a, b)
	})
	parts := make([]string, 0, len(labels))
	for _, l := range labels {
		if counts[l] > 0 {
			parts = append(parts, fmt.Sprintf("%s×%d", l, counts[l]))
		}
	}
	if len(parts) == 0 {
		return "none"
	}
	return strings.Join(parts, ", ")
}

// countOther sums the counts whose label is not among want.
func countOther(counts map[string]int, want ...string) int {
	n := 0
	for l, c := range counts {
		if !slices.Contains(want, l) {
			n += c
		}
	}
	return n
}
