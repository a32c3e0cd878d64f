package sqlstore

import (
	"context"
	"encoding/json"
	"fmt"
	"time"

	"gorm.io/gorm"

	"gatehouse/migrations/dbtime"
	"gatehouse/migrations/dbtx"
	"gatehouse/oidc/authflow"
)

// Flows keeps the sign-in flows in progress (login_flows).
type Flows struct {
	db *gorm.DB
}

var _ authflow.FlowStore = (*Flows)(nil)

// NewFlows returns the flow storage over db.
func NewFlows(db *gorm.DB) *Flows { return &Flows{db: mustPool(db)} }

// A flow is stored as one JSON document (data). The columns beside it are
// what is looked up: the ID, the expiry, and the browser binding with the
// time the flow was held for e-mail verification, which is how a
// browser's verification page finds its flow (FlowStore.HeldFlow).

// heldAt is the held_at column of f: NULL unless f is held.
func heldAt(f *authflow.Flow) dbtime.Time {
	if f.Held == nil {
		return dbtime.Time{}
	}
	return dbtime.New(f.HeldAt) // the zero time is NULL
}

// CreateFlow implements authflow.FlowStore.
func (s *Flows) CreateFlow(ctx context.Context, f *authflow.Flow) error {
	data, err := json.Marshal(f)
	if err != nil {
		return fmt.Errorf("sqlstore: encode flow: %w", err)
	}
	err = dbtx.DB(ctx, s.db).Exec(`INSERT INTO login_flows (id, client_id, version, data, expires_at, binding, held_at) VALUES (?, ?, ?, ?, ?, ?, ?)`,
		f.ID, f.ClientID, f.Version, string(data), dbtime.New(f.ExpiresAt), f.Binding, heldAt(f)).Error
	if err != nil {
		return fmt.Errorf("sqlstore: create flow: %w", err)
	}
	return nil
}

// GetFlow implements authflow.FlowStore.
func (s *Flows) GetFlow(ctx context.Context, id string, now time.Time) (*authflow.Flow, error) {
	return s.findFlow(ctx, `SELECT data FROM login_flows WHERE id = ? AND expires_at > ?`, id, dbtime.New(now))
}

// HeldFlow implements authflow.FlowStore.
func (s *Flows) HeldFlow(ctx context.Context, binding string, now time.Time) (*authflow.Flow, error) {
	return s.findFlow(ctx, `SELECT data FROM login_flows WHERE binding = ? AND held_at IS NOT NULL AND expires_at > ?
		ORDER BY held_at DESC, id LIMIT 1`, binding, dbtime.New(now))
}

func (s *Flows) findFlow(ctx context.Context, query string, args ...any) (*authflow.Flow, error) {
	var data string
	res := dbtx.DB(ctx, s.db).Raw(query, args...).Scan(&data)
	if res.Error != nil {
		return nil, fmt.Errorf("sqlstore: get flow: %w", res.Error)
	}
	if res.RowsAffected == 0 {
		return nil, authflow.ErrFlowNotFound
	}
	var f authflow.Flow
	if err := json.Unmarshal([]byte(data), &f); err != nil {
		return nil, fmt.Errorf("sqlstore: decode flow: %w", err)
	}
	return &f, nil
}

// UpdateFlow implements authflow.FlowStore with optimistic locking on
// Version.
func (s *Flows) UpdateFlow(ctx context.Context, f *authflow.Flow) error {
	data, err := json.Marshal(f)
	if err != nil {
		return fmt.Errorf("sqlstore: encode flow: %w", err)
	}
	res := dbtx.DB(ctx, s.db).Exec(`UPDATE login_flows SET version = ?, data = ?, held_at = ? WHERE id = ? AND version = ?`,
		f.Version, string(data), heldAt(f), f.ID, f.Version-1)
	if res.Error != nil {
		return fmt.Errorf("sqlstore: update flow: %w", res.Error)
	}
	if res.RowsAffected == 0 {
		return authflow.ErrFlowConflict
	}
	return nil
}

// DeleteFlow implements authflow.FlowStore.
func (s *Flows) DeleteFlow(ctx context.Context, id string) error {
	if err := dbtx.DB(ctx, s.db).Exec(`DELETE FROM login_flows WHERE id = ?`, id).Error; err != nil {
		return fmt.Errorf("sqlstore: delete flow: %w", err)
	}
	return nil
}
