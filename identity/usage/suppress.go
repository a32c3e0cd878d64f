package usage

import "sort"

// Small-cell suppression. A count from 1 to minCell-1 could single a
// person out ("the one user of the payroll app who signed in with a
// recovery code on Tuesday"), so it is reported as Suppressed. Zero
// stays 0: it singles nobody out.
//
// A suppressed cell must not be recomputable from the others: when a
// group of cells is shown with its sum (a metric's days and its total,
// a breakdown's shares and the period's total), a single suppressed cell
// would be the total less the shown ones. So within such a group, while
// the suppressed cells sum to less than minCell, the smallest shown
// non-zero cell is suppressed too (complementary suppression): the total
// then gives away only a sum of at least minCell, never a small count.
// Active users are distinct counts, not sums, and are suppressed cell by
// cell.
//
// What this does not prevent: two reports whose periods differ by one
// day give that day's count as the difference of their totals, as they
// would through any report that shows totals. The usage:read permission
// is for managers; the counts carry no identities.

// cell suppresses one count.
func cell(v int64, minCell int) Count {
	if v > 0 && v < int64(minCell) {
		return Count{Suppressed: true}
	}
	return Count{Value: v}
}

// group suppresses values and their sum total together (see above).
func group(values []int64, total int64, minCell int) ([]Count, Count) {
	out := make([]Count, len(values))
	for i, v := range values {
		out[i] = cell(v, minCell)
	}
	t := cell(total, minCell)
	if t.Suppressed {
		// Every cell is at most the total: all of them are small.
		return out, t
	}
	var hidden int64
	any := false
	for i, c := range out {
		if c.Suppressed {
			hidden += values[i]
			any = true
		}
	}
	if !any {
		return out, t
	}
	order := make([]int, len(values))
	for i := range order {
		order[i] = i
	}
	sort.SliceStable(order, func(a, b int) bool { return values[order[a]] < values[order[b]] })
	for _, i := range order {
		if hidden >= int64(minCell) {
			break
		}
		if out[i].Suppressed || values[i] == 0 {
			continue
		}
		out[i] = Count{Suppressed: true}
		hidden += values[i]
	}
	return out, t
}
