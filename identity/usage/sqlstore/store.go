package sqlstore

import (
	"context"
	"errors"
	"fmt"
	"sort"
	"strings"
	"time"

	"gorm.io/gorm"

	"gatehouse/identity/audit"
	"gatehouse/identity/usage"
	"gatehouse/migrations"
	"gatehouse/migrations/dberr"
	"gatehouse/migrations/dbtx"
)

// AuditChain reads the audit trail in seq order (audit.Store.Chain).
type AuditChain interface {
	// Chain returns up to limit entries with Seq > afterSeq, ascending;
	// with a transaction in ctx (dbtx), inside it.
	Chain(ctx context.Context, afterSeq int64, limit int) ([]audit.Entry, error)
}

// Store is the gorm implementation of usage.Aggregator and usage.Reader.
type Store struct {
	db    *gorm.DB
	audit AuditChain
}

var (
	_ usage.Aggregator = (*Store)(nil)
	_ usage.Reader     = (*Store)(nil)
)

// New returns a Store on db, whose schema must be migrated, counting the
// entries of trail (an audit store on the same db).
func New(db *gorm.DB, trail AuditChain) *Store { return &Store{db: db, audit: trail} }

// keepActiveDays is how many days of usage_active_days stay: a late
// entry of yesterday still finds yesterday's first sign-ins.
const keepActiveDays = 2

// Aggregate implements usage.Aggregator.
func (s *Store) Aggregate(ctx context.Context, limit int) (int, error) {
	n := 0
	err := dbtx.New(s.db).Run(ctx, func(ctx context.Context) error {
		tx := dbtx.DB(ctx, s.db)
		cursor, err := lockCursor(tx)
		if err != nil {
			return err
		}
		entries, err := s.audit.Chain(ctx, cursor, limit)
		if err != nil {
			return err
		}
		if len(entries) == 0 {
			return nil
		}
		n = len(entries)
		b := usage.Tally(entries)
		if err := addCounts(tx, b.Deltas); err != nil {
			return err
		}
		if err := s.addActivity(tx, b.Activity); err != nil {
			return err
		}
		last := entries[len(entries)-1]
		if err := tx.Exec(`UPDATE usage_cursor SET seq = ? WHERE id = 1`, last.Seq).Error; err != nil {
			return fmt.Errorf("usage sqlstore: move cursor: %w", err)
		}
		old := usage.DayKey(last.Time.AddDate(0, 0, -keepActiveDays))
		if err := tx.Exec(`DELETE FROM usage_active_days WHERE day < ?`, old).Error; err != nil {
			return fmt.Errorf("usage sqlstore: forget old active days: %w", err)
		}
		return nil
	})
	if err != nil {
		return 0, dberr.Mark(err)
	}
	return n, nil
}

// Cursor returns the seq of the last audit entry counted.
func (s *Store) Cursor(ctx context.Context) (int64, error) {
	var seq int64
	if err := dbtx.DB(ctx, s.db).Raw(`SELECT seq FROM usage_cursor WHERE id = 1`).Scan(&seq).Error; err != nil {
		return 0, fmt.Errorf("usage sqlstore: read cursor: %w", err)
	}
	return seq, nil
}

func lockCursor(tx *gorm.DB) (int64, error) {
	q := `SELECT seq FROM usage_cursor WHERE id = 1`
	if migrations.IsPostgres(tx) {
		q += ` FOR UPDATE`
	}
	var seqs []int64
	if err := tx.Raw(q).Scan(&seqs).Error; err != nil {
		return 0, fmt.Errorf("usage sqlstore: lock cursor: %w", err)
	}
	if len(seqs) != 1 {
		return 0, errors.New("usage sqlstore: usage_cursor row missing (schema not migrated?)")
	}
	return seqs[0], nil
}

// AddCounts implements usage.Adder, in one transaction.
func (s *Store) AddCounts(ctx context.Context, ds []usage.Delta) error {
	err := dbtx.New(s.db).Run(ctx, func(ctx context.Context) error {
		return addCounts(dbtx.DB(ctx, s.db), ds)
	})
	return dberr.Mark(err)
}

// addCounts upserts ds in a fixed order, so that two transactions adding
// to the same rows never wait on each other crosswise.
func addCounts(tx *gorm.DB, ds []usage.Delta) error {
	ds = append([]usage.Delta(nil), ds...)
	sort.Slice(ds, func(a, b int) bool { return key(ds[a]) < key(ds[b]) })
	for _, d := range ds {
		err := tx.Exec(`INSERT INTO usage_counts (day, metric, client_id, dimension, count) VALUES (?, ?, ?, ?, ?)
			ON CONFLICT (day, metric, client_id, dimension) DO UPDATE SET count = usage_counts.count + excluded.count`,
			d.Day, string(d.Metric), d.ClientID, d.Dimension, d.N).Error
		if err != nil {
			return fmt.Errorf("usage sqlstore: add to %s of %s: %w", d.Metric, d.Day, err)
		}
	}
	return nil
}

func key(d usage.Delta) string {
	return d.Day + "\x00" + string(d.Metric) + "\x00" + d.ClientID + "\x00" + d.Dimension
}

// addActivity records each first sign-in of a (day, client, user),
// counts it into daily_active_users and adds the new users to the day's
// sketch.
func (s *Store) addActivity(tx *gorm.DB, as []usage.Activity) error {
	type bucket struct{ day, client string }
	fresh := map[bucket][]string{}
	for _, a := range as {
		res := tx.Exec(`INSERT INTO usage_active_days (day, client_id, user_id) VALUES (?, ?, ?) ON CONFLICT DO NOTHING`,
			a.Day, a.ClientID, a.UserID)
		if res.Error != nil {
			return fmt.Errorf("usage sqlstore: record active user: %w", res.Error)
		}
		if res.RowsAffected == 1 {
			b := bucket{a.Day, a.ClientID}
			fresh[b] = append(fresh[b], a.UserID)
		}
	}
	buckets := make([]bucket, 0, len(fresh))
	for b := range fresh {
		buckets = append(buckets, b)
	}
	sort.Slice(buckets, func(i, j int) bool {
		return buckets[i].day+"\x00"+buckets[i].client < buckets[j].day+"\x00"+buckets[j].client
	})
	var ds []usage.Delta
	for _, b := range buckets {
		users := fresh[b]
		ds = append(ds, usage.Delta{Day: b.day, Metric: usage.DailyActiveUsers, ClientID: b.client, N: int64(len(users))})
		day, err := time.Parse(time.DateOnly, b.day)
		if err != nil {
			return fmt.Errorf("usage sqlstore: bad day %q", b.day)
		}
		for _, sp := range []struct {
			span  usage.Span
			start time.Time
		}{{usage.SpanDay, day}, {usage.SpanWeek, usage.WeekStart(day)}, {usage.SpanMonth, usage.MonthStart(day)}} {
			if err := addToSketch(tx, sp.span, b.client, usage.DayKey(sp.start), users); err != nil {
				return err
			}
		}
	}
	return addCounts(tx, ds)
}

// addToSketch adds users to one sketch.
func addToSketch(tx *gorm.DB, span usage.Span, client, start string, users []string) error {
	var old []struct{ Sketch []byte }
	if err := tx.Raw(`SELECT sketch FROM usage_sketches WHERE span = ? AND client_id = ? AND start = ?`,
		string(span), client, start).Scan(&old).Error; err != nil {
		return fmt.Errorf("usage sqlstore: read sketch: %w", err)
	}
	var enc []byte
	if len(old) == 1 {
		enc = old[0].Sketch
	}
	sk, estimate, err := usage.AddToSketch(enc, users)
	if err != nil {
		return err
	}
	err = tx.Exec(`INSERT INTO usage_sketches (span, client_id, start, sketch, estimate) VALUES (?, ?, ?, ?, ?)
		ON CONFLICT (span, client_id, start) DO UPDATE SET sketch = excluded.sketch, estimate = excluded.estimate`,
		string(span), client, start, sk, estimate).Error
	if err != nil {
		return fmt.Errorf("usage sqlstore: write sketch: %w", err)
	}
	return nil
}

// Snapshot implements usage.Aggregator: two counts over users and
// mfa_factors, taken by the worker now and then, never per report.
func (s *Store) Snapshot(ctx context.Context, day time.Time) error {
	d := usage.DayKey(day)
	db := dbtx.DB(ctx, s.db)
	var c struct{ Total, WithMFA int64 }
	if err := db.Raw(`SELECT (SELECT COUNT(*) FROM users) AS total,
		(SELECT COUNT(DISTINCT user_id) FROM mfa_factors WHERE confirmed_at IS NOT NULL) AS with_mfa`).Scan(&c).Error; err != nil {
		return dberr.Mark(fmt.Errorf("usage sqlstore: count users: %w", err))
	}
	// Two instances may snapshot at once: the last one stays.
	for _, g := range []struct {
		m usage.Metric
		n int64
	}{{usage.UsersTotalGauge, c.Total}, {usage.UsersWithMFAGauge, c.WithMFA}} {
		if err := db.Exec(`INSERT INTO usage_counts (day, metric, client_id, dimension, count) VALUES (?, ?, '', '', ?)
			ON CONFLICT (day, metric, client_id, dimension) DO UPDATE SET count = excluded.count`, d, string(g.m), g.n).Error; err != nil {
			return dberr.Mark(fmt.Errorf("usage sqlstore: write snapshot: %w", err))
		}
	}
	return nil
}

type countRow struct {
	Day       string
	Metric    string
	ClientID  string
	Dimension string
	Count     int64
}

// Counts implements usage.Reader.
func (s *Store) Counts(ctx context.Context, from, to, clientID string) ([]usage.Delta, error) {
	var rows []countRow
	err := dbtx.DB(ctx, s.db).Raw(`SELECT day, metric, dimension, count FROM usage_counts
		WHERE client_id = ? AND day >= ? AND day < ? AND metric NOT IN (?, ?)`,
		clientID, from, to, string(usage.UsersTotalGauge), string(usage.UsersWithMFAGauge)).Scan(&rows).Error
	if err != nil {
		return nil, dberr.Mark(fmt.Errorf("usage sqlstore: read counts: %w", err))
	}
	out := make([]usage.Delta, len(rows))
	for i, r := range rows {
		out[i] = usage.Delta{Day: dayOf(r.Day), Metric: usage.Metric(r.Metric), ClientID: clientID, Dimension: r.Dimension, N: r.Count}
	}
	return out, nil
}

// CountsByClient implements usage.Reader.
func (s *Store) CountsByClient(ctx context.Context, from, to string, m usage.Metric) (map[string]int64, error) {
	var rows []countRow
	err := dbtx.DB(ctx, s.db).Raw(`SELECT client_id, SUM(count) AS count FROM usage_counts
		WHERE metric = ? AND day >= ? AND day < ? AND client_id <> '' AND dimension = ''
		GROUP BY client_id`, string(m), from, to).Scan(&rows).Error
	if err != nil {
		return nil, dberr.Mark(fmt.Errorf("usage sqlstore: read counts by client: %w", err))
	}
	out := make(map[string]int64, len(rows))
	for _, r := range rows {
		out[r.ClientID] = r.Count
	}
	return out, nil
}

// Sketches implements usage.Reader.
func (s *Store) Sketches(ctx context.Context, span usage.Span, from, to, clientID string, withSketch bool) ([]usage.DaySketch, error) {
	var rows []struct {
		Day      string
		Sketch   []byte
		Estimate int64
	}
	cols := `start AS day, estimate`
	if withSketch {
		cols += `, sketch`
	}
	err := dbtx.DB(ctx, s.db).Raw(`SELECT `+cols+` FROM usage_sketches
		WHERE span = ? AND client_id = ? AND start >= ? AND start < ?`,
		string(span), clientID, from, to).Scan(&rows).Error
	if err != nil {
		return nil, dberr.Mark(fmt.Errorf("usage sqlstore: read sketches: %w", err))
	}
	out := make([]usage.DaySketch, len(rows))
	for i, r := range rows {
		out[i] = usage.DaySketch{Day: dayOf(r.Day), Sketch: r.Sketch, Estimate: r.Estimate}
	}
	return out, nil
}

// Gauges implements usage.Reader.
func (s *Store) Gauges(ctx context.Context, before string) (total, withMFA int64, err error) {
	var rows []countRow
	err = dbtx.DB(ctx, s.db).Raw(`SELECT metric, count FROM usage_counts WHERE client_id = '' AND dimension = ''
		AND metric IN (?, ?) AND day = (SELECT MAX(day) FROM usage_counts WHERE metric = ? AND client_id = '' AND day < ?)`,
		string(usage.UsersTotalGauge), string(usage.UsersWithMFAGauge), string(usage.UsersTotalGauge), before).Scan(&rows).Error
	if err != nil {
		return 0, 0, dberr.Mark(fmt.Errorf("usage sqlstore: read snapshot: %w", err))
	}
	for _, r := range rows {
		switch usage.Metric(r.Metric) {
		case usage.UsersTotalGauge:
			total = r.Count
		case usage.UsersWithMFAGauge:
			withMFA = r.Count
		}
	}
	return total, withMFA, nil
}

// dayOf is the DayKey of a day column's text (a date may come back as a
// timestamp's text).
func dayOf(s string) string {
	s, _, _ = strings.Cut(s, "T")
	return s
}
