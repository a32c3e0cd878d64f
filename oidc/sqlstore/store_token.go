package sqlstore

import (
	"context"
	"fmt"
	"time"

	"github.com/ory/fosite"
	"gorm.io/gorm"

	"gatehouse/migrations/dbtime"
	"gatehouse/migrations/dbtx"
	"gatehouse/oidc"
)

// Tokens is fosite's storage (oidc.TokenStore): authorization codes,
// access and refresh tokens, PKCE and OpenID Connect request state, their
// revocation, used client-assertion JWT IDs, and the transactions fosite
// begins around them. Every row but the JTIs is in oauth_requests.
type Tokens struct {
	db       *gorm.DB
	requests requests
	settings Settings
}

var _ oidc.TokenStore = (*Tokens)(nil)

// NewTokens returns the token storage over db. clients resolves the client
// of a stored request when it is read back; the provider passes its
// cached lookup (oidc.ClientCache over Clients).
func NewTokens(db *gorm.DB, clients oidc.ClientLookup, settings Settings) *Tokens {
	mustPool(db)
	return &Tokens{db: db, requests: requests{db: db, clients: clients}, settings: settings}
}

// BeginTX implements storage.Transactional: the transaction is dbtx's, so
// every store (the audit trail's and the message queue's included) joins
// it through the returned context.
func (s *Tokens) BeginTX(ctx context.Context) (context.Context, error) {
	return dbtx.Begin(ctx, s.db)
}

// Commit implements storage.Transactional.
func (s *Tokens) Commit(ctx context.Context) error { return dbtx.Commit(ctx) }

// Rollback implements storage.Transactional.
func (s *Tokens) Rollback(ctx context.Context) error { return dbtx.Rollback(ctx) }

// CreateAuthorizeCodeSession implements oauth2.AuthorizeCodeStorage.
func (s *Tokens) CreateAuthorizeCodeSession(ctx context.Context, code string, r fosite.Requester) error {
	return s.requests.create(ctx, kindCode, code, "", r, fosite.AuthorizeCode)
}

// GetAuthorizeCodeSession implements oauth2.AuthorizeCodeStorage.
func (s *Tokens) GetAuthorizeCodeSession(ctx context.Context, code string, session fosite.Session) (fosite.Requester, error) {
	req, active, err := s.requests.get(ctx, kindCode, code, session)
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
func (s *Tokens) InvalidateAuthorizeCodeSession(ctx context.Context, code string) error {
	res := dbtx.DB(ctx, s.db).Exec(`UPDATE oauth_requests SET active = ? WHERE kind = ? AND signature = ? AND active = ?`,
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
func (s *Tokens) CreateAccessTokenSession(ctx context.Context, signature string, r fosite.Requester) error {
	return s.requests.create(ctx, kindAccess, signature, "", r, fosite.AccessToken)
}

// GetAccessTokenSession implements oauth2.AccessTokenStorage.
func (s *Tokens) GetAccessTokenSession(ctx context.Context, signature string, session fosite.Session) (fosite.Requester, error) {
	req, active, err := s.requests.get(ctx, kindAccess, signature, session)
	if err != nil {
		return nil, err
	}
	if !active {
		return nil, fosite.ErrNotFound
	}
	return req, nil
}

// DeleteAccessTokenSession implements oauth2.AccessTokenStorage.
func (s *Tokens) DeleteAccessTokenSession(ctx context.Context, signature string) error {
	return s.requests.delete(ctx, kindAccess, signature)
}

// CreateRefreshTokenSession implements oauth2.RefreshTokenStorage.
func (s *Tokens) CreateRefreshTokenSession(ctx context.Context, signature, accessSignature string, r fosite.Requester) error {
	return s.requests.create(ctx, kindRefresh, signature, accessSignature, r, fosite.RefreshToken)
}

// GetRefreshTokenSession implements oauth2.RefreshTokenStorage. A rotated
// token comes back with fosite.ErrInactiveToken so that fosite detects
// reuse and revokes the grant.
func (s *Tokens) GetRefreshTokenSession(ctx context.Context, signature string, session fosite.Session) (fosite.Requester, error) {
	req, active, err := s.requests.get(ctx, kindRefresh, signature, session)
	if err != nil {
		return nil, err
	}
	if !active {
		return req, fosite.ErrInactiveToken
	}
	return req, nil
}

// DeleteRefreshTokenSession implements oauth2.RefreshTokenStorage.
func (s *Tokens) DeleteRefreshTokenSession(ctx context.Context, signature string) error {
	return s.requests.delete(ctx, kindRefresh, signature)
}

// RotateRefreshToken implements oauth2.RefreshTokenStorage: the used
// refresh token becomes inactive (kept for InactiveRefreshRetention, so
// that a reuse meanwhile is detected) and the access token issued with it
// is revoked.
func (s *Tokens) RotateRefreshToken(ctx context.Context, requestID, signature string) error {
	return inTx(ctx, s.db, func(tx *gorm.DB) error {
		var access string
		res := tx.Raw(`SELECT access_signature FROM oauth_requests WHERE kind = ? AND signature = ?`, kindRefresh, signature).Scan(&access)
		if res.Error != nil {
			return fmt.Errorf("sqlstore: rotate: %w", res.Error)
		}
		set, args := s.settings.endRefresh()
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
func (s *Tokens) RevokeRefreshToken(ctx context.Context, requestID string) error {
	set, args := s.settings.endRefresh()
	err := dbtx.DB(ctx, s.db).Exec(`UPDATE oauth_requests SET `+set+` WHERE kind = ? AND request_id = ?`, append(args, kindRefresh, requestID)...).Error
	if err != nil {
		return fmt.Errorf("sqlstore: revoke refresh: %w", err)
	}
	return nil
}

// RevokeAccessToken implements oauth2.TokenRevocationStorage.
func (s *Tokens) RevokeAccessToken(ctx context.Context, requestID string) error {
	err := dbtx.DB(ctx, s.db).Exec(`DELETE FROM oauth_requests WHERE kind = ? AND request_id = ?`, kindAccess, requestID).Error
	if err != nil {
		return fmt.Errorf("sqlstore: revoke access: %w", err)
	}
	return nil
}

// CreatePKCERequestSession implements pkce.PKCERequestStorage.
func (s *Tokens) CreatePKCERequestSession(ctx context.Context, signature string, r fosite.Requester) error {
	return s.requests.create(ctx, kindPKCE, signature, "", r, fosite.AuthorizeCode)
}

// GetPKCERequestSession implements pkce.PKCERequestStorage.
func (s *Tokens) GetPKCERequestSession(ctx context.Context, signature string, session fosite.Session) (fosite.Requester, error) {
	req, _, err := s.requests.get(ctx, kindPKCE, signature, session)
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
func (s *Tokens) DeletePKCERequestSession(ctx context.Context, signature string) error {
	return nil
}

// CreateOpenIDConnectSession implements openid.OpenIDConnectRequestStorage.
func (s *Tokens) CreateOpenIDConnectSession(ctx context.Context, code string, r fosite.Requester) error {
	return s.requests.create(ctx, kindOIDC, code, "", r, fosite.AuthorizeCode)
}

// GetOpenIDConnectSession implements openid.OpenIDConnectRequestStorage.
func (s *Tokens) GetOpenIDConnectSession(ctx context.Context, code string, r fosite.Requester) (fosite.Requester, error) {
	req, _, err := s.requests.get(ctx, kindOIDC, code, r.GetSession())
	if err != nil {
		return nil, err
	}
	return req, nil
}

// DeleteOpenIDConnectSession implements openid.OpenIDConnectRequestStorage.
func (s *Tokens) DeleteOpenIDConnectSession(ctx context.Context, code string) error {
	return s.requests.delete(ctx, kindOIDC, code)
}

// ClientAssertionJWTValid implements fosite.ClientManager's JTI check.
func (s *Tokens) ClientAssertionJWTValid(ctx context.Context, jti string) error {
	var n int64
	err := dbtx.DB(ctx, s.db).Raw(`SELECT count(*) FROM oauth_jtis WHERE jti = ? AND expires_at > ?`, jti, dbtime.New(s.settings.now())).Scan(&n).Error
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
func (s *Tokens) SetClientAssertionJWT(ctx context.Context, jti string, exp time.Time) error {
	return inTx(ctx, s.db, func(tx *gorm.DB) error {
		if err := tx.Exec(`DELETE FROM oauth_jtis WHERE jti = ? AND expires_at <= ?`, jti, dbtime.New(s.settings.now())).Error; err != nil {
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
