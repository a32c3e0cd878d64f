package sqlstore

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"gorm.io/gorm"

	"gatehouse/identity/audit"
	"gatehouse/migrations"
	"gatehouse/migrations/dberr"
	"gatehouse/migrations/dbpurge"
	"gatehouse/migrations/dbtx"
)

// Store is the gorm implementation of audit.Store.
type Store struct {
	db *gorm.DB
	// Now is the clock for a checkpoint's creation time; nil means the
	// database handle's clock (gorm's NowFunc).
	Now func() time.Time
	// PruneBatch is how many entries one Prune transaction deletes at
	// most; zero means dbpurge.Batch.
	PruneBatch int
}

var _ audit.Store = (*Store)(nil)

// New returns a Store on db, whose schema must be migrated.
func New(db *gorm.DB) *Store { return &Store{db: db} }

// entryRow is a row of audit_entries.
type entryRow struct {
	Seq        int64 `gorm:"primaryKey;autoIncrement:false"`
	OccurredAt timestamp
	ActorType  string
	ActorID    string
	Subject    string
	Action     string
	Outcome    string
	IP         string `gorm:"column:ip"`
	UserAgent  string
	RequestID  string
	Details    string // JSON object
	PrevHash   string
	Hash       string
}

// TableName tells gorm the table name.
func (entryRow) TableName() string { return "audit_entries" }

// headRow is the one row of audit_head.
type headRow struct {
	ID   int `gorm:"primaryKey"`
	Seq  int64
	Hash string
}

// TableName tells gorm the table name.
func (headRow) TableName() string { return "audit_head" }

// checkpointRow is a row of audit_checkpoints.
type checkpointRow struct {
	Seq          int64 `gorm:"primaryKey;autoIncrement:false"`
	Hash         string
	PrunedBefore timestamp
	CreatedAt    timestamp `gorm:"autoCreateTime:false"`
}

// TableName tells gorm the table name.
func (checkpointRow) TableName() string { return "audit_checkpoints" }

func toRow(e *audit.Entry) (*entryRow, error) {
	details := e.Details
	if details == nil {
		details = audit.Details{}
	}
	js, err := json.Marshal(details) // map keys come out sorted
	if err != nil {
		return nil, fmt.Errorf("audit sqlstore: encode details: %w", err)
	}
	return &entryRow{
		Seq: e.Seq, OccurredAt: timestamp(e.Time), ActorType: e.ActorType, ActorID: e.ActorID,
		Subject: e.Subject, Action: e.Action, Outcome: e.Outcome, IP: e.IP, UserAgent: e.UserAgent,
		RequestID: e.RequestID, Details: string(js), PrevHash: e.PrevHash, Hash: e.Hash,
	}, nil
}

func (r *entryRow) entry() (audit.Entry, error) {
	var details audit.Details
	if err := json.Unmarshal([]byte(r.Details), &details); err != nil {
		return audit.Entry{}, fmt.Errorf("audit sqlstore: decode details of seq %d: %w", r.Seq, err)
	}
	if len(details) == 0 {
		details = nil
	}
	return audit.Entry{
		Seq: r.Seq, Time: r.OccurredAt.Time(), ActorType: r.ActorType, ActorID: r.ActorID,
		Subject: r.Subject, Action: r.Action, Outcome: r.Outcome, IP: r.IP, UserAgent: r.UserAgent,
		RequestID: r.RequestID, Details: details, PrevHash: r.PrevHash, Hash: r.Hash,
	}, nil
}

func entries(rows []entryRow) ([]audit.Entry, error) {
	out := make([]audit.Entry, 0, len(rows))
	for i := range rows {
		e, err := rows[i].entry()
		if err != nil {
			return nil, err
		}
		out = append(out, e)
	}
	return out, nil
}

func (s *Store) now() time.Time {
	if s.Now != nil {
		return s.Now()
	}
	return s.db.NowFunc()
}

// lockHead reads the chain head inside tx, locking it against other
// appenders until tx ends.
func lockHead(tx *gorm.DB) (audit.Link, error) {
	q := `SELECT seq, hash FROM audit_head WHERE id = 1`
	if migrations.IsPostgres(tx) {
		q += ` FOR UPDATE`
	}
	var h headRow
	res := tx.Raw(q).Scan(&h)
	if res.Error != nil {
		return audit.Link{}, fmt.Errorf("audit sqlstore: lock head: %w", res.Error)
	}
	if res.RowsAffected != 1 {
		return audit.Link{}, errors.New("audit sqlstore: audit_head row missing (schema not migrated?)")
	}
	return audit.Link{Seq: h.Seq, Hash: h.Hash}, nil
}

// Append implements audit.Store.
func (s *Store) Append(ctx context.Context, e *audit.Entry) error {
	if err := e.Validate(); err != nil {
		return err
	}
	if err := e.Details.Check(); err != nil {
		return err
	}
	sealed := *e
	err := dbtx.DB(ctx, s.db).Transaction(func(tx *gorm.DB) error {
		head, err := lockHead(tx)
		if err != nil {
			return err
		}
		audit.Seal(&sealed, head.Seq, head.Hash)
		row, err := toRow(&sealed)
		if err != nil {
			return err
		}
		if err := tx.Create(row).Error; err != nil {
			return fmt.Errorf("audit sqlstore: insert seq %d: %w", sealed.Seq, err)
		}
		res := tx.Exec(`UPDATE audit_head SET seq = ?, hash = ? WHERE id = 1`, sealed.Seq, sealed.Hash)
		if res.Error != nil {
			return fmt.Errorf("audit sqlstore: move head: %w", res.Error)
		}
		return nil
	})
	if err != nil {
		return dberr.Mark(err) // BEGIN and COMMIT errors are not marked by gorm
	}
	*e = sealed
	return nil
}

// List implements audit.Store.
func (s *Store) List(ctx context.Context, f audit.Filter) ([]audit.Entry, error) {
	q := dbtx.DB(ctx, s.db).Model(&entryRow{})
	if f.UserID != "" {
		q = q.Where("(subject = ? OR actor_id = ?)", f.UserID, f.UserID)
	}
	if f.ActorID != "" {
		q = q.Where("actor_id = ?", f.ActorID)
	}
	if f.Action != "" {
		q = q.Where("action = ?", f.Action)
	}
	if !f.Since.IsZero() {
		q = q.Where("occurred_at >= ?", timestamp(f.Since))
	}
	if !f.Until.IsZero() {
		q = q.Where("occurred_at < ?", timestamp(f.Until))
	}
	if f.BeforeSeq > 0 {
		q = q.Where("seq < ?", f.BeforeSeq)
	}
	var rows []entryRow
	if err := q.Order("seq DESC").Limit(f.PageLimit()).Find(&rows).Error; err != nil {
		return nil, fmt.Errorf("audit sqlstore: list: %w", err)
	}
	return entries(rows)
}

// Chain implements audit.Store.
func (s *Store) Chain(ctx context.Context, afterSeq int64, limit int) ([]audit.Entry, error) {
	var rows []entryRow
	err := dbtx.DB(ctx, s.db).Where("seq > ?", afterSeq).Order("seq").Limit(limit).Find(&rows).Error
	if err != nil {
		return nil, fmt.Errorf("audit sqlstore: read chain after %d: %w", afterSeq, err)
	}
	return entries(rows)
}

// Head implements audit.Store.
func (s *Store) Head(ctx context.Context) (audit.Link, error) {
	var h headRow
	if err := dbtx.DB(ctx, s.db).Take(&h, "id = 1").Error; err != nil {
		return audit.Link{}, fmt.Errorf("audit sqlstore: read head: %w", err)
	}
	return audit.Link{Seq: h.Seq, Hash: h.Hash}, nil
}

// Checkpoint implements audit.Store.
func (s *Store) Checkpoint(ctx context.Context) (audit.Link, error) {
	var rows []checkpointRow
	if err := dbtx.DB(ctx, s.db).Order("seq DESC").Limit(1).Find(&rows).Error; err != nil {
		return audit.Link{}, fmt.Errorf("audit sqlstore: read checkpoint: %w", err)
	}
	if len(rows) == 0 {
		return audit.Link{}, nil
	}
	return audit.Link{Seq: rows[0].Seq, Hash: rows[0].Hash}, nil
}

// Prune implements audit.Store. The prefix ends just before the first entry
// stamped at or after before: with several instances, clocks may disagree
// slightly and Seq order is not strictly time order, and deleting only a
// prefix keeps both rules: nothing newer than before goes, and what stays is
// one contiguous chain. It deletes at most PruneBatch entries per
// transaction, each batch with its checkpoint, so that a first prune of a
// long trail does not hold the chain's head, which every append needs, for
// long.
func (s *Store) Prune(ctx context.Context, before time.Time) (int64, error) {
	batch := int64(s.PruneBatch)
	if batch <= 0 {
		batch = dbpurge.Batch
	}
	var total int64
	for {
		n, err := s.pruneBatch(ctx, before, batch)
		total += n
		if err != nil || n < batch {
			return total, err
		}
	}
}

// pruneBatch deletes the next at most batch entries of the prefix.
func (s *Store) pruneBatch(ctx context.Context, before time.Time, batch int64) (int64, error) {
	var deleted int64
	err := dbtx.DB(ctx, s.db).Transaction(func(tx *gorm.DB) error {
		head, err := lockHead(tx)
		if err != nil {
			return err
		}
		var cut, first struct{ Seq *int64 }
		if err := tx.Raw(`SELECT MIN(seq) AS seq FROM audit_entries WHERE occurred_at >= ?`, timestamp(before)).Scan(&cut).Error; err != nil {
			return fmt.Errorf("audit sqlstore: prune: %w", err)
		}
		if err := tx.Raw(`SELECT MIN(seq) AS seq FROM audit_entries`).Scan(&first).Error; err != nil {
			return fmt.Errorf("audit sqlstore: prune: %w", err)
		}
		if first.Seq == nil {
			return nil // no entries
		}
		last := head.Seq // every entry is older than before
		if cut.Seq != nil {
			last = *cut.Seq - 1
		}
		last = min(last, *first.Seq+batch-1)
		var rows []entryRow
		if err := tx.Where("seq = ?", last).Limit(1).Find(&rows).Error; err != nil {
			return fmt.Errorf("audit sqlstore: prune: %w", err)
		}
		if len(rows) == 0 {
			return nil // nothing left to prune, or last was pruned already
		}
		cp := checkpointRow{Seq: last, Hash: rows[0].Hash, PrunedBefore: timestamp(before), CreatedAt: timestamp(s.now())}
		if err := tx.Create(&cp).Error; err != nil {
			return fmt.Errorf("audit sqlstore: record checkpoint: %w", err)
		}
		res := tx.Where("seq <= ?", last).Delete(&entryRow{})
		if res.Error != nil {
			return fmt.Errorf("audit sqlstore: prune: %w", res.Error)
		}
		deleted = res.RowsAffected
		return nil
	})
	return deleted, dberr.Mark(err)
}
