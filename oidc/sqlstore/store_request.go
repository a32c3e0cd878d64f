package sqlstore

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"net/url"
	"strings"
	"time"

	"github.com/ory/fosite"
	"gorm.io/gorm"

	"gatehouse/migrations/dberr"
	"gatehouse/migrations/dbtime"
	"gatehouse/migrations/dbtx"
	"gatehouse/oidc"
)

// Kinds of rows in oauth_requests.
const (
	kindCode    = "code"
	kindAccess  = "access"
	kindRefresh = "refresh"
	kindPKCE    = "pkce"
	kindOIDC    = "oidc"
)

const insertRequest = `INSERT INTO oauth_requests
	(kind, signature, request_id, client_id, subject, session_id, access_signature, active, requested_at, expires_at,
	 requested_scope, granted_scope, requested_audience, granted_audience, form, session)
	VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16)`

const selectRequest = `SELECT request_id, client_id, active, requested_at, requested_scope, granted_scope,
	requested_audience, granted_audience, form, session FROM oauth_requests WHERE kind = $1 AND signature = $2`

// fallbackLifetime bounds rows whose session carries no expiry, so the
// purge job can still remove them.
const fallbackLifetime = 24 * time.Hour

// querier is what both *sql.DB and *sql.Tx offer. The token rows are on
// the hot paths, so they go through database/sql directly, without gorm's
// reflection; the $n placeholders work in PostgreSQL and SQLite alike.
// Their errors are marked with dberr.Mark here, as gorm marks its own.
type querier interface {
	ExecContext(ctx context.Context, query string, args ...any) (sql.Result, error)
	QueryRowContext(ctx context.Context, query string, args ...any) *sql.Row
}

// requests reads and writes the rows of oauth_requests, one per code,
// token or request state fosite stores, keyed by kind and signature.
type requests struct {
	db *gorm.DB
	// clients resolves the client ID of a row read back.
	clients oidc.ClientLookup
}

// sqlConn returns the transaction carried by ctx (dbtx), or the pool.
func (s requests) sqlConn(ctx context.Context) (querier, error) {
	return dbtx.Conn(ctx, s.db)
}

func (s requests) create(ctx context.Context, kind, signature, accessSignature string, r fosite.Requester, expiryOf fosite.TokenType) error {
	sess, err := json.Marshal(r.GetSession())
	if err != nil {
		return fmt.Errorf("sqlstore: encode session: %w", err)
	}
	requestedAt := r.GetRequestedAt().UTC()
	expires := time.Time{}
	subject, sid := "", ""
	if se := r.GetSession(); se != nil {
		expires = se.GetExpiresAt(expiryOf)
		subject = se.GetSubject()
		if os, ok := se.(*oidc.Session); ok {
			sid = os.BrowserSessionID
		}
	}
	if expires.IsZero() {
		expires = requestedAt.Add(fallbackLifetime)
		if expiryOf == fosite.RefreshToken {
			expires = requestedAt.Add(10 * 365 * 24 * time.Hour)
		}
	}
	conn, err := s.sqlConn(ctx)
	if err != nil {
		return fmt.Errorf("sqlstore: insert %s: %w", kind, err)
	}
	_, err = conn.ExecContext(ctx, insertRequest, kind, signature, r.GetID(), r.GetClient().GetID(), subject, sid,
		accessSignature, true, dbtime.New(requestedAt), dbtime.New(expires),
		strings.Join(r.GetRequestedScopes(), " "), strings.Join(r.GetGrantedScopes(), " "),
		strings.Join(r.GetRequestedAudience(), " "), strings.Join(r.GetGrantedAudience(), " "),
		r.GetRequestForm().Encode(), string(sess))
	if err != nil {
		return fmt.Errorf("sqlstore: insert %s: %w", kind, dberr.Mark(err))
	}
	return nil
}

// get reads a row and rehydrates it into a fosite.Request whose session is
// decoded into session. It returns the request even when the row is
// inactive, together with active=false, as fosite's reuse detection needs.
func (s requests) get(ctx context.Context, kind, signature string, session fosite.Session) (*fosite.Request, bool, error) {
	var (
		req                                    fosite.Request
		clientID, form, sess                   string
		reqScope, grantScope, reqAud, grantAud string
		active                                 bool
	)
	conn, err := s.sqlConn(ctx)
	if err != nil {
		return nil, false, fmt.Errorf("sqlstore: get %s: %w", kind, err)
	}
	var requestedAt dbtime.Time
	err = conn.QueryRowContext(ctx, selectRequest, kind, signature).Scan(
		&req.ID, &clientID, &active, &requestedAt, &reqScope, &grantScope, &reqAud, &grantAud, &form, &sess)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, false, fosite.ErrNotFound
	}
	if err != nil {
		return nil, false, fmt.Errorf("sqlstore: get %s: %w", kind, dberr.Mark(err))
	}
	if session != nil {
		if err := json.Unmarshal([]byte(sess), session); err != nil {
			return nil, false, fmt.Errorf("sqlstore: decode session: %w", err)
		}
	}
	client, err := s.clients(ctx, clientID)
	if err != nil {
		// A deleted client's tokens are dead.
		if errors.Is(err, fosite.ErrNotFound) || errors.Is(err, oidc.ErrClientNotFound) {
			return nil, false, fosite.ErrNotFound
		}
		return nil, false, err
	}
	if req.Form, err = url.ParseQuery(form); err != nil {
		return nil, false, fmt.Errorf("sqlstore: decode form: %w", err)
	}
	req.RequestedAt = requestedAt.Time()
	req.Client = client
	req.Session = session
	req.RequestedScope = strings.Fields(reqScope)
	req.GrantedScope = strings.Fields(grantScope)
	req.RequestedAudience = strings.Fields(reqAud)
	req.GrantedAudience = strings.Fields(grantAud)
	return &req, active, nil
}

func (s requests) delete(ctx context.Context, kind, signature string) error {
	if err := dbtx.DB(ctx, s.db).Exec(`DELETE FROM oauth_requests WHERE kind = ? AND signature = ?`, kind, signature).Error; err != nil {
		return fmt.Errorf("sqlstore: delete %s: %w", kind, err)
	}
	return nil
}
