package sqlstore

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"time"

	"gorm.io/gorm"

	"gatehouse/migrations"
	"gatehouse/migrations/dbtime"
	"gatehouse/migrations/dbtx"
	"gatehouse/oidc"
)

// Clients keeps the registered clients (oauth_clients), each as its RFC
// 7591 metadata document with the secret hash and internal flags beside it.
type Clients struct {
	db       *gorm.DB
	settings Settings
}

var (
	_ oidc.ClientStore       = (*Clients)(nil)
	_ oidc.ClientUseRecorder = (*Clients)(nil)
)

// NewClients returns the client storage over db.
func NewClients(db *gorm.DB, settings Settings) *Clients {
	return &Clients{db: mustPool(db), settings: settings}
}

// clientRow is one row of oauth_clients; the RFC 7591 metadata is JSON.
type clientRow struct {
	ID                    string
	SecretHash            string
	RegistrationTokenHash string
	Metadata              string
	FirstParty            bool
	ResourceServer        bool
	ResourceAudience      string
	CreatedAt             dbtime.Time
	UpdatedAt             dbtime.Time
	LastUsedAt            dbtime.Time
}

// storedMetadata is the metadata column: the client's RFC 7591 document
// (oidc.ClientMetadata, the same type registration validates and echoes)
// with the administrator's audience beside it.
type storedMetadata struct {
	oidc.ClientMetadata
	Audience []string `json:"audience,omitempty"`
	// Scopes is how rows written before the column held the RFC document
	// kept the scope: a list. It is read, never written.
	Scopes []string `json:"scopes,omitempty"`
}

func toClientRow(c *oidc.Client) (*clientRow, error) {
	md, err := json.Marshal(storedMetadata{ClientMetadata: c.ClientMetadata, Audience: c.Audience})
	if err != nil {
		return nil, fmt.Errorf("sqlstore: encode client: %w", err)
	}
	return &clientRow{
		ID: c.ID, SecretHash: string(c.SecretHash), RegistrationTokenHash: string(c.RegistrationTokenHash),
		Metadata: string(md), FirstParty: c.FirstParty,
		ResourceServer: c.ResourceServer, ResourceAudience: strings.Join(c.ResourceAudience, " "),
		CreatedAt: dbtime.New(c.CreatedAt), UpdatedAt: dbtime.New(c.UpdatedAt), LastUsedAt: dbtime.New(c.LastUsedAt),
	}, nil
}

func (r *clientRow) toClient() (*oidc.Client, error) {
	var md storedMetadata
	if err := json.Unmarshal([]byte(r.Metadata), &md); err != nil {
		return nil, fmt.Errorf("sqlstore: decode client %s: %w", r.ID, err)
	}
	if md.Scope == "" && len(md.Scopes) > 0 {
		md.Scope = strings.Join(md.Scopes, " ")
	}
	c := &oidc.Client{
		ID: r.ID, ClientMetadata: md.ClientMetadata, Audience: md.Audience,
		FirstParty: r.FirstParty, CreatedAt: r.CreatedAt.Time(), UpdatedAt: r.UpdatedAt.Time(),
		ResourceServer: r.ResourceServer, ResourceAudience: strings.Fields(r.ResourceAudience), LastUsedAt: r.LastUsedAt.Time(),
	}
	if r.SecretHash != "" {
		c.SecretHash = []byte(r.SecretHash)
	}
	if r.RegistrationTokenHash != "" {
		c.RegistrationTokenHash = []byte(r.RegistrationTokenHash)
	}
	return c, nil
}

// CreateClient implements oidc.ClientStore.
func (s *Clients) CreateClient(ctx context.Context, c *oidc.Client) error {
	row, err := toClientRow(c)
	if err != nil {
		return err
	}
	if row.CreatedAt.Time().IsZero() {
		row.CreatedAt = dbtime.New(s.settings.now())
	}
	if row.UpdatedAt.Time().IsZero() {
		row.UpdatedAt = row.CreatedAt
	}
	if row.LastUsedAt.Time().IsZero() {
		row.LastUsedAt = row.CreatedAt // creation counts as use
	}
	if row.LastUsedAt.Time().IsZero() {
		row.LastUsedAt = dbtime.New(s.settings.now())
	}
	err = dbtx.DB(ctx, s.db).Exec(`INSERT INTO oauth_clients (id, secret_hash, registration_token_hash, metadata, first_party,
		resource_server, resource_audience, created_at, updated_at, last_used_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
		row.ID, row.SecretHash, row.RegistrationTokenHash, row.Metadata, row.FirstParty, row.ResourceServer, row.ResourceAudience,
		row.CreatedAt, row.UpdatedAt, row.LastUsedAt).Error
	if err != nil {
		return fmt.Errorf("sqlstore: create client: %w", err)
	}
	return nil
}

// GetClient implements oidc.ClientStore.
func (s *Clients) GetClient(ctx context.Context, id string) (*oidc.Client, error) {
	return s.getClient(ctx, id, false)
}

// LockClient is GetClient that also locks the client's row (FOR UPDATE on
// PostgreSQL) until the transaction ctx carries ends, so that of two
// concurrent read-modify-write changes (an update and a secret rotation)
// the second reads what the first wrote instead of writing back the old
// secret. SQLite runs one writer at a time.
func (s *Clients) LockClient(ctx context.Context, id string) (*oidc.Client, error) {
	return s.getClient(ctx, id, true)
}

func (s *Clients) getClient(ctx context.Context, id string, lock bool) (*oidc.Client, error) {
	var row clientRow
	db := dbtx.DB(ctx, s.db)
	q := `SELECT id, secret_hash, registration_token_hash, metadata, first_party, resource_server, resource_audience, created_at, updated_at, last_used_at
		FROM oauth_clients WHERE id = ?`
	if lock && migrations.IsPostgres(db) {
		q += ` FOR UPDATE`
	}
	res := db.Raw(q, id).Scan(&row)
	if res.Error != nil {
		return nil, fmt.Errorf("sqlstore: get client: %w", res.Error)
	}
	if res.RowsAffected == 0 {
		return nil, oidc.ErrClientNotFound
	}
	return row.toClient()
}

// RecordClientUse implements oidc.ClientUseRecorder: last_used_at moves
// to at only if it is older than since, so however many instances and
// requests see the same stale value, the row is written once.
func (s *Clients) RecordClientUse(ctx context.Context, id string, at, since time.Time) error {
	err := dbtx.DB(ctx, s.db).Exec(`UPDATE oauth_clients SET last_used_at = ? WHERE id = ? AND last_used_at < ?`,
		dbtime.New(at), id, dbtime.New(since)).Error
	if err != nil {
		return fmt.Errorf("sqlstore: record client use: %w", err)
	}
	return nil
}

// UpdateClient implements oidc.ClientStore.
func (s *Clients) UpdateClient(ctx context.Context, c *oidc.Client) error {
	row, err := toClientRow(c)
	if err != nil {
		return err
	}
	res := dbtx.DB(ctx, s.db).Exec(`UPDATE oauth_clients SET secret_hash = ?, registration_token_hash = ?, metadata = ?, first_party = ?,
		resource_server = ?, resource_audience = ?, updated_at = ? WHERE id = ?`,
		row.SecretHash, row.RegistrationTokenHash, row.Metadata, row.FirstParty, row.ResourceServer, row.ResourceAudience, row.UpdatedAt, row.ID)
	if res.Error != nil {
		return fmt.Errorf("sqlstore: update client: %w", res.Error)
	}
	if res.RowsAffected == 0 {
		return oidc.ErrClientNotFound
	}
	return nil
}

// DeleteClient implements oidc.ClientStore; the client's codes, tokens and
// consents go with it in one transaction.
func (s *Clients) DeleteClient(ctx context.Context, id string) error {
	var found bool
	err := inTx(ctx, s.db, func(tx *gorm.DB) error {
		res := tx.Exec(`DELETE FROM oauth_clients WHERE id = ?`, id)
		if res.Error != nil {
			return res.Error
		}
		found = res.RowsAffected > 0
		if err := tx.Exec(`DELETE FROM oauth_requests WHERE client_id = ?`, id).Error; err != nil {
			return err
		}
		return tx.Exec(`DELETE FROM consents WHERE client_id = ?`, id).Error
	})
	if err != nil {
		return fmt.Errorf("sqlstore: delete client: %w", err)
	}
	if !found {
		return oidc.ErrClientNotFound
	}
	return nil
}

// ListClients implements oidc.ClientStore.
func (s *Clients) ListClients(ctx context.Context) ([]*oidc.Client, error) {
	var rows []clientRow
	err := dbtx.DB(ctx, s.db).Raw(`SELECT id, secret_hash, registration_token_hash, metadata, first_party, resource_server, resource_audience, created_at, updated_at, last_used_at
		FROM oauth_clients ORDER BY id`).Scan(&rows).Error
	if err != nil {
		return nil, fmt.Errorf("sqlstore: list clients: %w", err)
	}
	out := make([]*oidc.Client, 0, len(rows))
	for i := range rows {
		c, err := rows[i].toClient()
		if err != nil {
			return nil, err
		}
		out = append(out, c)
	}
	return out, nil
}
