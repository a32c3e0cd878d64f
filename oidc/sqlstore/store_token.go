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

// sqlConn returns the transaction carried by ctx (dbtx), or the pool.
func (s *Store) sqlConn(ctx context.Context) (querier, error) {
	return dbtx.Conn(ctx, s.db)
}

func (s *Store) create(ctx context.Context, kind, signature, accessSignature string, r fosite.Requester, expiryOf fosite.TokenType) error {
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
func (s *Store) get(ctx context.Context, kind, signature string, session fosite.Session) (*fosite.Request, bool, error) {
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
	client, err := s.Clients(ctx, clientID)
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

func (s *Store) delete(ctx context.Context, kind, signature string) error {
	if err := s.conn(ctx).Exec(`DELETE FROM oauth_requests WHERE kind = ? AND signature = ?`, kind, signature).Error; err != nil {
		return fmt.Errorf("sqlstore: delete %s: %w", kind, err)
	}
	return nil
}

// CreateAuthorizeCodeSession implements oauth2.AuthorizeCodeStorage.
func (s *Store) CreateAuthorizeCodeSession(ctx context.Context, code string, r fosite.Requester) error {
	return s.create(ctx, kindCode, code, "", r, fosite.AuthorizeCode)
}

// GetAuthorizeCodeSession implements oauth2.AuthorizeCodeStorage.
func (s *Store) GetAuthorizeCodeSession(ctx context.Context, code string, session fosite.Session) (fosite.Requester, error) {
	req, active, err := s.get(ctx, kindCode, code, session)
	if err != nil {
		return nil, err
	}
	if !active {
		return req, fosite.ErrInvalidatedAuthorizeCode
	}
	return req, nil
}

// InvalidateAuthorizeCodeSession implements oauth2.AuthorizeCodeStorage.
// The conditional update makes redemption single-use under concurrency:
// the database lets exactly one caller flip the flag.
func (s *Store) InvalidateAuthorizeCodeSession(ctx context.Context, code string) error {
	res := s.conn(ctx).Exec(`UPDATE oauth_requests SET active = ? WHERE kind = ? AND signature = ? AND active = ?`,
		false, kindCode, code, true)
	if res.Error != nil {
		return fmt.Errorf("sqlstore: invalidate code: %w", res.Error)
	}
	if res.RowsAffected == 0 {
		return oidc.ErrCodeRedeemed
	}
	return nil
}

// CreateAccessTokenSession implements oauth2.AccessTokenStorage.
func (s *Store) CreateAccessTokenSession(ctx context.Context, signature string, r fosite.Requester) error {
	return s.create(ctx, kindAccess, signature, "", r, fosite.AccessToken)
}

// GetAccessTokenSession implements oauth2.AccessTokenStorage.
func (s *Store) GetAccessTokenSession(ctx context.Context, signature string, session fosite.Session) (fosite.Requester, error) {
	req, active, err := s.get(ctx, kindAccess, signature, session)
	if err != nil {
		return nil, err
	}
	if !active {
		return nil, fosite.ErrNotFound
	}
	return req, nil
}

// DeleteAccessTokenSession implements oauth2.AccessTokenStorage.
func (s *Store) DeleteAccessTokenSession(ctx context.Context, signature string) error {
	return s.delete(ctx, kindAccess, signature)
}

// CreateRefreshTokenSession implements oauth2.RefreshTokenStorage.
func (s *Store) CreateRefreshTokenSession(ctx context.Context, signature, accessSignature string, r fosite.Requester) error {
	return s.create(ctx, kindRefresh, signature, accessSignature, r, fosite.RefreshToken)
}

// GetRefreshTokenSession implements oauth2.RefreshTokenStorage. A rotated
// token comes back with fosite.ErrInactiveToken so that fosite detects
// reuse and revokes the grant.
func (s *Store) GetRefreshTokenSession(ctx context.Context, signature string, session fosite.Session) (fosite.Requester, error) {
	req, active, err := s.get(ctx, kindRefresh, signature, session)
	if err != nil {
		return nil, err
	}
	if !active {
		return req, fosite.ErrInactiveToken
	}
	return req, nil
}

// DeleteRefreshTokenSession implements oauth2.RefreshTokenStorage.
func (s *Store) DeleteRefreshTokenSession(ctx context.Context, signature string) error {
	return s.delete(ctx, kindRefresh, signature)
}

// RotateRefreshToken implements oauth2.RefreshTokenStorage: the used
// refresh token becomes inactive (kept for InactiveRefreshRetention, so
// that a reuse meanwhile is detected) and the access token issued with it
// is revoked.
func (s *Store) RotateRefreshToken(ctx context.Context, requestID, signature string) error {
	return s.inTx(ctx, func(tx *gorm.DB) error {
		var access string
		res := tx.Raw(`SELECT access_signature FROM oauth_requests WHERE kind = ? AND signature = ?`, kindRefresh, signature).Scan(&access)
		if res.Error != nil {
			return fmt.Errorf("sqlstore: rotate: %w", res.Error)
		}
		set, args := s.endRefresh()
		res = tx.Exec(`UPDATE oauth_requests SET `+set+` WHERE kind = ? AND signature = ? AND active = ?`,
			append(args, kindRefresh, signature, true)...)
		if res.Error != nil {
			return fmt.Errorf("sqlstore: rotate: %w", res.Error)
		}
		if res.RowsAffected == 0 {
			return oidc.ErrRefreshRotated
		}
		if access != "" {
			if err := tx.Exec(`DELETE FROM oauth_requests WHERE kind = ? AND signature = ?`, kindAccess, access).Error; err != nil {
				return fmt.Errorf("sqlstore: rotate: %w", err)
			}
		}
		return nil
	})
}

// RevokeRefreshToken implements oauth2.TokenRevocationStorage: every
// refresh token of the grant is deactivated.
func (s *Store) RevokeRefreshToken(ctx context.Context, requestID string) error {
	set, args := s.endRefresh()
	err := s.conn(ctx).Exec(`UPDATE oauth_requests SET `+set+` WHERE kind = ? AND request_id = ?`, append(args, kindRefresh, requestID)...).Error
	if err != nil {
		return fmt.Errorf("sqlstore: revoke refresh: %w", err)
	}
	return nil
}

// RevokeAccessToken implements oauth2.TokenRevocationStorage.
func (s *Store) RevokeAccessToken(ctx context.Context, requestID string) error {
	err := s.conn(ctx).Exec(`DELETE FROM oauth_requests WHERE kind = ? AND request_id = ?`, kindAccess, requestID).Error
	if err != nil {
		return fmt.Errorf("sqlstore: revoke access: %w", err)
	}
	return nil
}

// CreatePKCERequestSession implements pkce.PKCERequestStorage.
func (s *Store) CreatePKCERequestSession(ctx context.Context, signature string, r fosite.Requester) error {
	return s.create(ctx, kindPKCE, signature, "", r, fosite.AuthorizeCode)
}

// GetPKCERequestSession implements pkce.PKCERequestStorage.
func (s *Store) GetPKCERequestSession(ctx context.Context, signature string, session fosite.Session) (fosite.Requester, error) {
	req, _, err := s.get(ctx, kindPKCE, signature, session)
	if err != nil {
		return nil, err
	}
	return req, nil
}

// DeletePKCERequestSession implements pkce.PKCERequestStorage. It keeps
// the row: fosite deletes PKCE state before checking the verifier and
// treats missing state as "no PKCE was used", so deleting here would let a
// confidential client's code be redeemed without its verifier after one
// failed attempt. The row expires with its code and is purged then.
func (s *Store) DeletePKCERequestSession(ctx context.Context, signature string) error {
	return nil
}

// CreateOpenIDConnectSession implements openid.OpenIDConnectRequestStorage.
func (s *Store) CreateOpenIDConnectSession(ctx context.Context, code string, r fosite.Requester) error {
	return s.create(ctx, kindOIDC, code, "", r, fosite.AuthorizeCode)
}

// GetOpenIDConnectSession implements openid.OpenIDConnectRequestStorage.
func (s *Store) GetOpenIDConnectSession(ctx context.Context, code string, r fosite.Requester) (fosite.Requester, error) {
	req, _, err := s.get(ctx, kindOIDC, code, r.GetSession())
	if err != nil {
		return nil, err
	}
	return req, nil
}

// DeleteOpenIDConnectSession implements openid.OpenIDConnectRequestStorage.
func (s *Store) DeleteOpenIDConnectSession(ctx context.Context, code string) error {
	return s.delete(ctx, kindOIDC, code)
}

// ClientAssertionJWTValid implements fosite.ClientManager's JTI check.
func (s *Store) ClientAssertionJWTValid(ctx context.Context, jti string) error {
	var n int64
	err := s.conn(ctx).Raw(`SELECT count(*) FROM oauth_jtis WHERE jti = ? AND expires_at > ?`, jti, dbtime.New(s.now())).Scan(&n).Error
	if err != nil {
		return fmt.Errorf("sqlstore: jti: %w", err)
	}
	if n > 0 {
		return fosite.ErrJTIKnown
	}
	return nil
}

// SetClientAssertionJWT implements fosite.ClientManager: it records a
// used client-assertion ID so it cannot be replayed before exp.
func (s *Store) SetClientAssertionJWT(ctx context.Context, jti string, exp time.Time) error {
	return s.inTx(ctx, func(tx *gorm.DB) error {
		if err := tx.Exec(`DELETE FROM oauth_jtis WHERE jti = ? AND expires_at <= ?`, jti, dbtime.New(s.now())).Error; err != nil {
			return fmt.Errorf("sqlstore: jti: %w", err)
		}
		res := tx.Exec(`INSERT INTO oauth_jtis (jti, expires_at) VALUES (?, ?) ON CONFLICT (jti) DO NOTHING`, jti, dbtime.New(exp))
		if res.Error != nil {
			return fmt.Errorf("sqlstore: jti: %w", res.Error)
		}
		if res.RowsAffected == 0 {
			return fosite.ErrJTIKnown
		}
		return nil
	})
}
