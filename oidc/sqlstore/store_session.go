package sqlstore

import (
	"context"
	"encoding/json"
	"fmt"
	"time"

	"gorm.io/gorm"

	"gatehouse/identity"
	"gatehouse/migrations/dbtime"
	"gatehouse/migrations/dbtx"
	"gatehouse/oidc"
)

// BrowserSessions keeps the signed-in browsers (browser_sessions). Ending
// sessions also ends the refresh and access tokens issued through them,
// in the same transaction, so it writes oauth_requests too.
type BrowserSessions struct {
	db       *gorm.DB
	settings Settings
}

var (
	_ oidc.SessionStore       = (*BrowserSessions)(nil)
	_ oidc.LogoutStore        = (*BrowserSessions)(nil)
	_ identity.SessionRevoker = (*BrowserSessions)(nil)
)

// NewBrowserSessions returns the browser-session storage over db.
func NewBrowserSessions(db *gorm.DB, settings Settings) *BrowserSessions {
	return &BrowserSessions{db: mustPool(db), settings: settings}
}

type sessionRow struct {
	ID          string
	SecretHash  string
	UserID      string
	AuthTime    dbtime.Time
	AMR         string `gorm:"column:amr"`
	ACR         string `gorm:"column:acr"`
	IP          string `gorm:"column:ip"`
	UserAgent   string
	CreatedAt   dbtime.Time
	LastSeenAt  dbtime.Time
	ExpiresAt   dbtime.Time
	IdleSeconds int64
}

const sessionColumns = `id, secret_hash, user_id, auth_time, amr, acr, ip, user_agent, created_at, last_seen_at, expires_at, idle_seconds`

func (r *sessionRow) toSession() *oidc.BrowserSession {
	s := &oidc.BrowserSession{
		ID: r.ID, SecretHash: r.SecretHash, UserID: r.UserID, AuthTime: r.AuthTime.Time(), ACR: r.ACR,
		IP: r.IP, UserAgent: r.UserAgent, CreatedAt: r.CreatedAt.Time(), LastSeenAt: r.LastSeenAt.Time(),
		ExpiresAt: r.ExpiresAt.Time(), IdleTimeout: time.Duration(r.IdleSeconds) * time.Second,
	}
	_ = json.Unmarshal([]byte(r.AMR), &s.AMR) // written by us; an empty list is the safe reading
	return s
}

// CreateSession implements oidc.SessionStore.
func (s *BrowserSessions) CreateSession(ctx context.Context, bs *oidc.BrowserSession) error {
	amr, err := json.Marshal(bs.AMR)
	if err != nil {
		return fmt.Errorf("sqlstore: encode amr: %w", err)
	}
	err = dbtx.DB(ctx, s.db).Exec(`INSERT INTO browser_sessions (`+sessionColumns+`) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
		bs.ID, bs.SecretHash, bs.UserID, dbtime.New(bs.AuthTime), string(amr), bs.ACR, bs.IP, bs.UserAgent,
		dbtime.New(bs.CreatedAt), dbtime.New(bs.LastSeenAt), dbtime.New(bs.ExpiresAt), int64(bs.IdleTimeout/time.Second)).Error
	if err != nil {
		return fmt.Errorf("sqlstore: create session: %w", err)
	}
	return nil
}

func (s *BrowserSessions) getSession(ctx context.Context, where string, arg string) (*oidc.BrowserSession, error) {
	var row sessionRow
	res := dbtx.DB(ctx, s.db).Raw(`SELECT `+sessionColumns+` FROM browser_sessions WHERE `+where+` = ?`, arg).Scan(&row)
	if res.Error != nil {
		return nil, fmt.Errorf("sqlstore: get session: %w", res.Error)
	}
	if res.RowsAffected == 0 {
		return nil, oidc.ErrSessionNotFound
	}
	return row.toSession(), nil
}

// GetSessionBySecretHash implements oidc.SessionStore.
func (s *BrowserSessions) GetSessionBySecretHash(ctx context.Context, hash string) (*oidc.BrowserSession, error) {
	return s.getSession(ctx, "secret_hash", hash)
}

// GetSession implements oidc.SessionStore.
func (s *BrowserSessions) GetSession(ctx context.Context, id string) (*oidc.BrowserSession, error) {
	return s.getSession(ctx, "id", id)
}

// TouchSession implements oidc.SessionStore.
func (s *BrowserSessions) TouchSession(ctx context.Context, id string, t time.Time) error {
	if err := dbtx.DB(ctx, s.db).Exec(`UPDATE browser_sessions SET last_seen_at = ? WHERE id = ?`, dbtime.New(t), id).Error; err != nil {
		return fmt.Errorf("sqlstore: touch session: %w", err)
	}
	return nil
}

// DeleteSession implements oidc.SessionStore.
func (s *BrowserSessions) DeleteSession(ctx context.Context, id string) error {
	if err := dbtx.DB(ctx, s.db).Exec(`DELETE FROM browser_sessions WHERE id = ?`, id).Error; err != nil {
		return fmt.Errorf("sqlstore: delete session: %w", err)
	}
	return nil
}

// ListUserSessions implements oidc.SessionStore.
func (s *BrowserSessions) ListUserSessions(ctx context.Context, userID string) ([]*oidc.BrowserSession, error) {
	var rows []sessionRow
	err := dbtx.DB(ctx, s.db).Raw(`SELECT `+sessionColumns+` FROM browser_sessions WHERE user_id = ? ORDER BY created_at DESC`, userID).Scan(&rows).Error
	if err != nil {
		return nil, fmt.Errorf("sqlstore: list sessions: %w", err)
	}
	out := make([]*oidc.BrowserSession, 0, len(rows))
	for i := range rows {
		out = append(out, rows[i].toSession())
	}
	return out, nil
}

// RevokeUserSessions implements identity.SessionRevoker: every browser
// session of the user except keep ends, and so does every refresh and
// access token issued to the user outside the kept session, in one
// transaction.
func (s *BrowserSessions) RevokeUserSessions(ctx context.Context, userID, keep string) error {
	err := inTx(ctx, s.db, func(tx *gorm.DB) error {
		if err := tx.Exec(`DELETE FROM browser_sessions WHERE user_id = ? AND id <> ?`, userID, keep).Error; err != nil {
			return err
		}
		set, args := s.settings.endRefresh()
		if err := tx.Exec(`UPDATE oauth_requests SET `+set+` WHERE kind = ? AND subject = ? AND active = ? AND (session_id <> ? OR ? = '')`,
			append(args, kindRefresh, userID, true, keep, keep)...).Error; err != nil {
			return err
		}
		return tx.Exec(`DELETE FROM oauth_requests WHERE kind IN (?, ?) AND subject = ? AND (session_id <> ? OR ? = '')`,
			kindAccess, kindCode, userID, keep, keep).Error
	})
	if err != nil {
		return fmt.Errorf("sqlstore: revoke sessions of user: %w", err)
	}
	return nil
}

// RevokeSession implements oidc.SessionStore: the session ends, and so do
// the refresh and access tokens issued through it.
func (s *BrowserSessions) RevokeSession(ctx context.Context, id string) error {
	err := inTx(ctx, s.db, func(tx *gorm.DB) error {
		if err := tx.Exec(`DELETE FROM browser_sessions WHERE id = ?`, id).Error; err != nil {
			return err
		}
		set, args := s.settings.endRefresh()
		if err := tx.Exec(`UPDATE oauth_requests SET `+set+` WHERE kind = ? AND session_id = ? AND active = ?`,
			append(args, kindRefresh, id, true)...).Error; err != nil {
			return err
		}
		return tx.Exec(`DELETE FROM oauth_requests WHERE kind IN (?, ?) AND session_id = ?`, kindAccess, kindCode, id).Error
	})
	if err != nil {
		return fmt.Errorf("sqlstore: revoke session: %w", err)
	}
	return nil
}

// SessionClients implements oidc.LogoutStore: the clients that hold
// tokens issued through the user's sessions (only session sessionID when
// it is not empty), as (session, client) pairs.
func (s *BrowserSessions) SessionClients(ctx context.Context, userID, sessionID string) ([]oidc.SessionClient, error) {
	var rows []struct {
		SessionID string
		ClientID  string
	}
	err := dbtx.DB(ctx, s.db).Raw(`SELECT DISTINCT session_id, client_id FROM oauth_requests
		WHERE subject = ? AND session_id <> '' AND (session_id = ? OR ? = '') AND kind IN (?, ?)`,
		userID, sessionID, sessionID, kindAccess, kindRefresh).Scan(&rows).Error
	if err != nil {
		return nil, fmt.Errorf("sqlstore: session clients: %w", err)
	}
	out := make([]oidc.SessionClient, 0, len(rows))
	for _, r := range rows {
		out = append(out, oidc.SessionClient{SessionID: r.SessionID, ClientID: r.ClientID})
	}
	return out, nil
}
