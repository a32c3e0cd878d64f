package sqlstore

import (
	"context"
	"fmt"
	"time"

	"gorm.io/gorm"

	"gatehouse/migrations/dbpurge"
	"gatehouse/migrations/dbtime"
	"gatehouse/migrations/dbtx"
	"gatehouse/migrations/janitor"
)

// Purge deletes what has expired, in bounded batches, from every table of
// this package: the janitor's tasks (migrations/janitor) and the unused
// dynamically registered clients.
type Purge struct {
	db *gorm.DB
}

// NewPurge returns the purges over db.
func NewPurge(db *gorm.DB) *Purge { return &Purge{db: mustPool(db)} }

// DefaultInactiveRefreshRetention is how long a rotated or revoked
// refresh token's row is kept when Settings.InactiveRefreshRetention is
// zero.
const DefaultInactiveRefreshRetention = 24 * time.Hour

// DeleteExpired purges, in batches, the codes, tokens, JTIs, flows and
// browser sessions that expired before t, sessions that idled out
// included. A rotated or revoked refresh token expires
// InactiveRefreshRetention after that (see Settings.endRefresh). It stops
// at the first table's error; the janitor runs ExpiryTasks instead.
func (s *Purge) DeleteExpired(ctx context.Context, t time.Time) (int64, error) {
	var total int64
	for _, task := range s.ExpiryTasks() {
		n, err := task.Purge(ctx, t)
		total += n
		if err != nil {
			return total, err
		}
	}
	return total, nil
}

// ExpiryTasks are DeleteExpired's purges as janitor tasks, one per table:
// oauth_requests (codes, access and refresh tokens, PKCE and OpenID
// Connect state), oauth_jtis, login_flows, and browser_sessions (expired
// or idled out).
func (s *Purge) ExpiryTasks() []janitor.Task {
	byExpiry := func(table, key string) janitor.Task {
		return janitor.Task{Table: table, Purge: func(ctx context.Context, t time.Time) (int64, error) {
			n, err := dbpurge.Delete(ctx, s.db, table, key, "expires_at < ?", 0, dbtime.New(t))
			if err != nil {
				return n, fmt.Errorf("sqlstore: %w", err)
			}
			return n, nil
		}}
	}
	sessions := byExpiry("browser_sessions", "id")
	return []janitor.Task{
		byExpiry("oauth_requests", "kind, signature"),
		byExpiry("oauth_jtis", "jti"),
		byExpiry("login_flows", "id"),
		{Table: "browser_sessions", Purge: func(ctx context.Context, t time.Time) (int64, error) {
			n, err := sessions.Purge(ctx, t)
			if err != nil {
				return n, err
			}
			idle, err := s.deleteIdleSessions(ctx, t)
			return n + idle, err
		}},
	}
}

// deleteIdleSessions purges the sessions not seen for their idle lifetime
// before t. Sessions carry the idle lifetime they were made with, and
// there are few distinct ones (a configuration change adds one), so each
// gets one range of the (idle_seconds, last_seen_at) index.
func (s *Purge) deleteIdleSessions(ctx context.Context, t time.Time) (int64, error) {
	var idles []int64
	if err := dbtx.DB(ctx, s.db).Raw(`SELECT DISTINCT idle_seconds FROM browser_sessions`).Scan(&idles).Error; err != nil {
		return 0, fmt.Errorf("sqlstore: purge idle sessions: %w", err)
	}
	var total int64
	for _, idle := range idles {
		before := dbtime.New(t.Add(-time.Duration(idle) * time.Second))
		n, err := dbpurge.Delete(ctx, s.db, "browser_sessions", "id", "idle_seconds = ? AND last_seen_at < ?", 0, idle, before)
		total += n
		if err != nil {
			return total, fmt.Errorf("sqlstore: %w", err)
		}
	}
	return total, nil
}

// DeleteUnusedClients deletes, in batches, the dynamically registered
// clients (those with a registration access token) last used before
// before, with their codes, tokens and consents, as Clients.DeleteClient
// does.
// Clients made by an administrator never expire this way.
func (s *Purge) DeleteUnusedClients(ctx context.Context, before time.Time) (int64, error) {
	var total int64
	for {
		var ids []string
		err := dbtx.DB(ctx, s.db).Raw(`SELECT id FROM oauth_clients WHERE registration_token_hash <> '' AND last_used_at < ? LIMIT ?`,
			dbtime.New(before), dbpurge.Batch).Scan(&ids).Error
		if err != nil {
			return total, fmt.Errorf("sqlstore: purge unused clients: %w", err)
		}
		if len(ids) == 0 {
			return total, nil
		}
		var n int64
		err = inTx(ctx, s.db, func(tx *gorm.DB) error {
			// Checked again inside: a client used since the SELECT stays.
			res := tx.Exec(`DELETE FROM oauth_clients WHERE id IN ? AND last_used_at < ?`, ids, dbtime.New(before))
			if res.Error != nil {
				return res.Error
			}
			n = res.RowsAffected
			if err := tx.Exec(`DELETE FROM oauth_requests WHERE client_id IN ? AND client_id NOT IN (SELECT id FROM oauth_clients)`, ids).Error; err != nil {
				return err
			}
			return tx.Exec(`DELETE FROM consents WHERE client_id IN ? AND client_id NOT IN (SELECT id FROM oauth_clients)`, ids).Error
		})
		total += n
		if err != nil {
			return total, fmt.Errorf("sqlstore: purge unused clients: %w", err)
		}
		if len(ids) < dbpurge.Batch {
			return total, nil
		}
	}
}
