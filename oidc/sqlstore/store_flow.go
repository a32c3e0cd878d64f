package sqlstore

import (
	"context"
	"encoding/json"
	"fmt"
	"time"

	"gatehouse/migrations/dbtime"
	"gatehouse/oidc"
)

// CreateFlow implements oidc.FlowStore.
func (s *Store) CreateFlow(ctx context.Context, f *oidc.Flow) error {
	data, err := json.Marshal(f)
	if err != nil {
		return fmt.Errorf("sqlstore: encode flow: %w", err)
	}
	err = s.conn(ctx).Exec(`INSERT INTO login_flows (id, client_id, version, data, expires_at) VALUES (?, ?, ?, ?, ?)`,
		f.ID, f.ClientID, f.Version, string(data), dbtime.New(f.ExpiresAt)).Error
	if err != nil {
		return fmt.Errorf("sqlstore: create flow: %w", err)
	}
	return nil
}

// GetFlow implements oidc.FlowStore.
func (s *Store) GetFlow(ctx context.Context, id string, now time.Time) (*oidc.Flow, error) {
	var data string
	res := s.conn(ctx).Raw(`SELECT data FROM login_flows WHERE id = ? AND expires_at > ?`, id, dbtime.New(now)).Scan(&data)
	if res.Error != nil {
		return nil, fmt.Errorf("sqlstore: get flow: %w", res.Error)
	}
	if res.RowsAffected == 0 {
		return nil, oidc.ErrFlowNotFound
	}
	var f oidc.Flow
	if err := json.Unmarshal([]byte(data), &f); err != nil {
		return nil, fmt.Errorf("sqlstore: decode flow: %w", err)
	}
	return &f, nil
}

// UpdateFlow implements oidc.FlowStore with optimistic locking on Version.
func (s *Store) UpdateFlow(ctx context.Context, f *oidc.Flow) error {
	data, err := json.Marshal(f)
	if err != nil {
		return fmt.Errorf("sqlstore: encode flow: %w", err)
	}
	res := s.conn(ctx).Exec(`UPDATE login_flows SET version = ?, data = ? WHERE id = ? AND version = ?`,
		f.Version, string(data), f.ID, f.Version-1)
	if res.Error != nil {
		return fmt.Errorf("sqlstore: update flow: %w", res.Error)
	}
	if res.RowsAffected == 0 {
		return oidc.ErrFlowConflict
	}
	return nil
}

// DeleteFlow implements oidc.FlowStore.
func (s *Store) DeleteFlow(ctx context.Context, id string) error {
	if err := s.conn(ctx).Exec(`DELETE FROM login_flows WHERE id = ?`, id).Error; err != nil {
		return fmt.Errorf("sqlstore: delete flow: %w", err)
	}
	return nil
}
