package usage

import (
	"errors"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

func TestQueryValidate(t *testing.T) {
	day := time.Date(2026, 3, 2, 0, 0, 0, 0, time.UTC)
	paris := time.FixedZone("CET", 3600)
	tests := []struct {
		name string
		q    Query
		want []string // fields named
	}{
		{name: "a week", q: Query{From: day, To: day.AddDate(0, 0, 7)}},
		{name: "one day of one client", q: Query{From: day, To: day.AddDate(0, 0, 1), ClientID: "app"}},
		{name: "the longest period", q: Query{From: day, To: day.AddDate(0, 0, MaxDays)}},
		{name: "nothing", q: Query{}, want: []string{"from", "to"}},
		{name: "empty period", q: Query{From: day, To: day}, want: []string{"to"}},
		{name: "backwards", q: Query{From: day, To: day.AddDate(0, 0, -3)}, want: []string{"to"}},
		{name: "too long", q: Query{From: day, To: day.AddDate(0, 0, MaxDays+1)}, want: []string{"to"}},
		{name: "not midnight", q: Query{From: day.Add(time.Hour), To: day.AddDate(0, 0, 1).Add(time.Second)}, want: []string{"from", "to"}},
		{name: "midnight elsewhere", q: Query{From: time.Date(2026, 3, 2, 0, 0, 0, 0, paris), To: day.AddDate(0, 0, 3)}, want: []string{"from"}},
		{name: "client id too long", q: Query{From: day, To: day.AddDate(0, 0, 1), ClientID: string(make([]byte, 300))}, want: []string{"client_id"}},
		{name: "client id with a newline", q: Query{From: day, To: day.AddDate(0, 0, 1), ClientID: "a\nb"}, want: []string{"client_id"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			err := tc.q.Validate()
			var got []string
			var ve *ValidationError
			if errors.As(err, &ve) {
				for _, f := range ve.Fields {
					got = append(got, f.Field)
				}
			} else if err != nil {
				t.Fatalf("Validate() = %v, not a *ValidationError", err)
			}
			if diff := cmp.Diff(tc.want, got); diff != "" {
				t.Errorf("Validate() fields mismatch (-want +got):\n%s", diff)
			}
		})
	}
}

func TestGroupSuppression(t *testing.T) {
	s := Count{Suppressed: true}
	c := func(n int64) Count { return Count{Value: n} }
	tests := []struct {
		name      string
		values    []int64
		wantCells []Count
		wantTotal Count
	}{
		{name: "all large", values: []int64{10, 20, 0}, wantCells: []Count{c(10), c(20), c(0)}, wantTotal: c(30)},
		// 100 - 10 - 20 would give the 3 away: the 10 goes too.
		{name: "one small", values: []int64{3, 10, 87}, wantCells: []Count{s, s, c(87)}, wantTotal: c(100)},
		{name: "two small adding up", values: []int64{4, 4, 50}, wantCells: []Count{s, s, c(50)}, wantTotal: c(58)},
		{name: "two small too few", values: []int64{1, 2, 50, 9}, wantCells: []Count{s, s, c(50), s}, wantTotal: c(62)},
		{name: "small total", values: []int64{1, 0, 2}, wantCells: []Count{s, c(0), s}, wantTotal: s},
		{name: "zeros stay", values: []int64{0, 0}, wantCells: []Count{c(0), c(0)}, wantTotal: c(0)},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			cells, total := group(tc.values, sum(tc.values), 5)
			if diff := cmp.Diff(tc.wantCells, cells); diff != "" {
				t.Errorf("cells mismatch (-want +got):\n%s", diff)
			}
			if total != tc.wantTotal {
				t.Errorf("total = %v, want %v", total, tc.wantTotal)
			}
			// From the attacker's side: the total less what is shown is
			// either 0 or at least the minimum cell.
			if !total.Suppressed {
				rest := total.Value
				for _, x := range cells {
					rest -= x.Value
				}
				if rest != 0 && rest < 5 {
					t.Errorf("total less the shown cells = %d, a small count given away", rest)
				}
			}
		})
	}
}

func TestTokensKeepCountsWhenFlushFails(t *testing.T) {
	now := time.Date(2026, 3, 2, 23, 59, 0, 0, time.UTC)
	store := &fakeAdder{err: errors.New("down")}
	tk := &Tokens{Store: store, Now: func() time.Time { return now }}
	tk.Issued("app", "authorization_code")
	now = now.Add(2 * time.Minute)
	tk.Issued("app", "authorization_code")
	if err := tk.Flush(t.Context()); err == nil {
		t.Fatal("Flush() with the store down = nil")
	}
	store.err = nil
	if err := tk.Flush(t.Context()); err != nil {
		t.Fatal(err)
	}
	got := map[Delta]bool{}
	for _, d := range store.got {
		got[d] = true
	}
	want := map[Delta]bool{
		{Day: "2026-03-02", Metric: TokensIssued, N: 1}: true, {Day: "2026-03-03", Metric: TokensIssued, N: 1}: true,
		{Day: "2026-03-02", Metric: TokensIssued, ClientID: "app", N: 1}: true, {Day: "2026-03-03", Metric: TokensIssued, ClientID: "app", N: 1}: true,
		{Day: "2026-03-02", Metric: TokensByGrantMetric, Dimension: "authorization_code", N: 1}:                  true,
		{Day: "2026-03-03", Metric: TokensByGrantMetric, Dimension: "authorization_code", N: 1}:                  true,
		{Day: "2026-03-02", Metric: TokensByGrantMetric, ClientID: "app", Dimension: "authorization_code", N: 1}: true,
		{Day: "2026-03-03", Metric: TokensByGrantMetric, ClientID: "app", Dimension: "authorization_code", N: 1}: true,
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("flushed deltas mismatch (-want +got):\n%s", diff)
	}
}
