package sqlstore_test

import (
	"context"
	"crypto/rand"
	"crypto/rsa"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/ory/fosite"
	"github.com/ory/fosite/token/jwt"
	"gorm.io/gorm"

	"gatehouse/migrations/dbtest"
	"gatehouse/oidc"
	"gatehouse/oidc/authflow"
	"gatehouse/oidc/sqlstore"
)

// tokenKind is one kind of fosite-stored request, with its methods.
type tokenKind struct {
	name      string
	expiresOf fosite.TokenType // whose expiry the row takes
	create    func(ctx context.Context, s *stores, sig string, r fosite.Requester) error
	get       func(ctx context.Context, s *stores, sig string) (fosite.Requester, error)
	del       func(ctx context.Context, s *stores, sig string) error // nil: no delete method
	// keptOnDelete: the row deliberately survives Delete (see
	// Tokens.DeletePKCERequestSession).
	keptOnDelete bool
}

var tokenKinds = []tokenKind{
	{
		name:      "authorize code",
		expiresOf: fosite.AuthorizeCode,
		create: func(ctx context.Context, s *stores, sig string, r fosite.Requester) error {
			return s.CreateAuthorizeCodeSession(ctx, sig, r)
		},
		get: func(ctx context.Context, s *stores, sig string) (fosite.Requester, error) {
			return s.GetAuthorizeCodeSession(ctx, sig, oidc.NewSession())
		},
	},
	{
		name:      "access token",
		expiresOf: fosite.AccessToken,
		create: func(ctx context.Context, s *stores, sig string, r fosite.Requester) error {
			return s.CreateAccessTokenSession(ctx, sig, r)
		},
		get: func(ctx context.Context, s *stores, sig string) (fosite.Requester, error) {
			return s.GetAccessTokenSession(ctx, sig, oidc.NewSession())
		},
		del: func(ctx context.Context, s *stores, sig string) error {
			return s.DeleteAccessTokenSession(ctx, sig)
		},
	},
	{
		name:      "refresh token",
		expiresOf: fosite.RefreshToken,
		create: func(ctx context.Context, s *stores, sig string, r fosite.Requester) error {
			return s.CreateRefreshTokenSession(ctx, sig, "access-of-"+sig, r)
		},
		get: func(ctx context.Context, s *stores, sig string) (fosite.Requester, error) {
			return s.GetRefreshTokenSession(ctx, sig, oidc.NewSession())
		},
		del: func(ctx context.Context, s *stores, sig string) error {
			return s.DeleteRefreshTokenSession(ctx, sig)
		},
	},
	{
		name:      "pkce",
		expiresOf: fosite.AuthorizeCode,
		create: func(ctx context.Context, s *stores, sig string, r fosite.Requester) error {
			return s.CreatePKCERequestSession(ctx, sig, r)
		},
		get: func(ctx context.Context, s *stores, sig string) (fosite.Requester, error) {
			return s.GetPKCERequestSession(ctx, sig, oidc.NewSession())
		},
		del: func(ctx context.Context, s *stores, sig string) error {
			return s.DeletePKCERequestSession(ctx, sig)
		},
		keptOnDelete: true,
	},
	{
		name:      "openid connect",
		expiresOf: fosite.AuthorizeCode,
		create: func(ctx context.Context, s *stores, sig string, r fosite.Requester) error {
			return s.CreateOpenIDConnectSession(ctx, sig, r)
		},
		get: func(ctx context.Context, s *stores, sig string) (fosite.Requester, error) {
			return s.GetOpenIDConnectSession(ctx, sig, &fosite.Request{Session: oidc.NewSession()})
		},
		del: func(ctx context.Context, s *stores, sig string) error {
			return s.DeleteOpenIDConnectSession(ctx, sig)
		},
	},
}

func TestTokenSessions(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, db *gorm.DB) {
		s := newStore(t, db)
		client := mustCreateClient(t, s, "app")
		for _, kind := range tokenKinds {
			t.Run(kind.name, func(t *testing.T) {
				ctx := t.Context()
				sig := "sig-" + kind.name
				req := newRequest("req-"+kind.name, client, "alice", "sid-1")
				if err := kind.create(ctx, s, sig, req); err != nil {
					t.Fatalf("create: %v", err)
				}

				got, err := kind.get(ctx, s, sig)
				if err != nil {
					t.Fatalf("get: %v", err)
				}
				if diff := cmp.Diff(view(req), view(got)); diff != "" {
					t.Errorf("get mismatch (-want +got):\n%s", diff)
				}
				if _, ok := got.GetClient().(*oidc.Client); !ok {
					t.Errorf("get: client is %T, want *oidc.Client", got.GetClient())
				}

				// The purge job and logout work on the columns.
				var row struct {
					Subject   string
					SessionID string
					ExpiresAt time.Time
				}
				if err := db.Raw(`SELECT subject, session_id, expires_at FROM oauth_requests WHERE signature = ?`, sig).Scan(&row).Error; err != nil {
					t.Fatal(err)
				}
				wantRow := struct {
					Subject   string
					SessionID string
					ExpiresAt time.Time
				}{"alice", "sid-1", expiries[kind.expiresOf]}
				if diff := cmp.Diff(wantRow, row); diff != "" {
					t.Errorf("stored columns mismatch (-want +got):\n%s", diff)
				}

				if _, err := kind.get(ctx, s, "unknown"); !errors.Is(err, fosite.ErrNotFound) {
					t.Errorf("get(unknown) error = %v, want %v", err, fosite.ErrNotFound)
				}

				if kind.del == nil {
					return
				}
				if err := kind.del(ctx, s, sig); err != nil {
					t.Fatalf("delete: %v", err)
				}
				_, err = kind.get(ctx, s, sig)
				if kind.keptOnDelete {
					if err != nil {
						t.Errorf("get after delete error = %v, want nil (row kept until it expires)", err)
					}
				} else if !errors.Is(err, fosite.ErrNotFound) {
					t.Errorf("get after delete error = %v, want %v", err, fosite.ErrNotFound)
				}
				if err := kind.del(ctx, s, "unknown"); err != nil {
					t.Errorf("delete(unknown) error = %v, want nil", err)
				}
			})
		}
	})
}

func TestAuthorizeCodeInvalidate(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, db *gorm.DB) {
		ctx := t.Context()
		s := newStore(t, db)
		req := newRequest("req-1", mustCreateClient(t, s, "app"), "alice", "sid-1")
		if err := s.CreateAuthorizeCodeSession(ctx, "code-1", req); err != nil {
			t.Fatal(err)
		}
		if err := s.InvalidateAuthorizeCodeSession(ctx, "code-1"); err != nil {
			t.Fatalf("InvalidateAuthorizeCodeSession: %v", err)
		}
		// fosite needs the request of a used code to revoke its tokens.
		got, err := s.GetAuthorizeCodeSession(ctx, "code-1", oidc.NewSession())
		if !errors.Is(err, fosite.ErrInvalidatedAuthorizeCode) {
			t.Errorf("GetAuthorizeCodeSession(used) error = %v, want %v", err, fosite.ErrInvalidatedAuthorizeCode)
		}
		if diff := cmp.Diff(view(req), view(got)); diff != "" {
			t.Errorf("GetAuthorizeCodeSession(used) mismatch (-want +got):\n%s", diff)
		}
		if err := s.InvalidateAuthorizeCodeSession(ctx, "code-1"); !errors.Is(err, oidc.ErrCodeRedeemed) {
			t.Errorf("second InvalidateAuthorizeCodeSession error = %v, want %v", err, oidc.ErrCodeRedeemed)
		}
	})
}

// redeem is the token endpoint's use of a code: one transaction that
// invalidates it.
func redeem(ctx context.Context, s *stores, code string) error {
	txCtx, err := s.BeginTX(ctx)
	if err != nil {
		return fmt.Errorf("begin: %w", err)
	}
	if err := s.InvalidateAuthorizeCodeSession(txCtx, code); err != nil {
		if rbErr := s.Rollback(txCtx); rbErr != nil {
			return errors.Join(err, fmt.Errorf("rollback: %w", rbErr))
		}
		return err
	}
	if err := s.Commit(txCtx); err != nil {
		return fmt.Errorf("commit: %w", err)
	}
	return nil
}

func TestAuthorizeCodeConcurrentRedeem(t *testing.T) {
	const workers, rounds = 8, 3
	dbtest.Each(t, func(t *testing.T, db *gorm.DB) {
		ctx := t.Context()
		s := newStore(t, db)
		client := mustCreateClient(t, s, "app")
		for round := range rounds {
			code := fmt.Sprintf("code-%d", round)
			if err := s.CreateAuthorizeCodeSession(ctx, code, newRequest("req-"+code, client, "alice", "sid-1")); err != nil {
				t.Fatal(err)
			}
			errs := concurrently(workers, func() error { return redeem(ctx, s, code) })
			winners := 0
			for i, err := range errs {
				switch {
				case err == nil:
					winners++
				case errors.Is(err, oidc.ErrCodeRedeemed):
				default:
					t.Errorf("%s: worker %d: unexpected error %v (want nil or %v)", code, i, err, oidc.ErrCodeRedeemed)
				}
			}
			if winners != 1 {
				t.Errorf("%s: %d of %d redemptions succeeded, want exactly 1", code, winners, workers)
			}
			if _, err := s.GetAuthorizeCodeSession(ctx, code, oidc.NewSession()); !errors.Is(err, fosite.ErrInvalidatedAuthorizeCode) {
				t.Errorf("%s: GetAuthorizeCodeSession after redemption error = %v, want %v", code, err, fosite.ErrInvalidatedAuthorizeCode)
			}
		}
	})
}

func TestRefreshRotation(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, db *gorm.DB) {
		ctx := t.Context()
		s := newStore(t, db)
		client := mustCreateClient(t, s, "app")
		req := newRequest("req-1", client, "alice", "sid-1")
		other := newRequest("req-2", client, "bob", "sid-2")
		for _, err := range []error{
			s.CreateAccessTokenSession(ctx, "at-1", req),
			s.CreateRefreshTokenSession(ctx, "rt-1", "at-1", req),
			s.CreateAccessTokenSession(ctx, "at-other", other),
			s.CreateRefreshTokenSession(ctx, "rt-other", "at-other", other),
		} {
			if err != nil {
				t.Fatal(err)
			}
		}

		if err := s.RotateRefreshToken(ctx, "req-1", "rt-1"); err != nil {
			t.Fatalf("RotateRefreshToken: %v", err)
		}
		got, err := s.GetRefreshTokenSession(ctx, "rt-1", oidc.NewSession())
		if !errors.Is(err, fosite.ErrInactiveToken) {
			t.Errorf("GetRefreshTokenSession(rotated) error = %v, want %v", err, fosite.ErrInactiveToken)
		}
		if diff := cmp.Diff(view(req), view(got)); diff != "" {
			t.Errorf("GetRefreshTokenSession(rotated) mismatch (-want +got):\n%s", diff)
		}
		if _, err := s.GetAccessTokenSession(ctx, "at-1", oidc.NewSession()); !errors.Is(err, fosite.ErrNotFound) {
			t.Errorf("GetAccessTokenSession(access of rotated refresh) error = %v, want %v", err, fosite.ErrNotFound)
		}
		if err := s.RotateRefreshToken(ctx, "req-1", "rt-1"); !errors.Is(err, oidc.ErrRefreshRotated) {
			t.Errorf("second RotateRefreshToken error = %v, want %v", err, oidc.ErrRefreshRotated)
		}

		// The other grant is untouched.
		if _, err := s.GetRefreshTokenSession(ctx, "rt-other", oidc.NewSession()); err != nil {
			t.Errorf("GetRefreshTokenSession(other grant) error = %v, want nil", err)
		}
		if _, err := s.GetAccessTokenSession(ctx, "at-other", oidc.NewSession()); err != nil {
			t.Errorf("GetAccessTokenSession(other grant) error = %v, want nil", err)
		}
	})
}

// rotate is the token endpoint's use of a refresh token: one transaction
// that rotates it.
func rotate(ctx context.Context, s *stores, requestID, signature string) error {
	txCtx, err := s.BeginTX(ctx)
	if err != nil {
		return fmt.Errorf("begin: %w", err)
	}
	if err := s.RotateRefreshToken(txCtx, requestID, signature); err != nil {
		if rbErr := s.Rollback(txCtx); rbErr != nil {
			return errors.Join(err, fmt.Errorf("rollback: %w", rbErr))
		}
		return err
	}
	if err := s.Commit(txCtx); err != nil {
		return fmt.Errorf("commit: %w", err)
	}
	return nil
}

func TestRefreshRotationConcurrent(t *testing.T) {
	const workers, rounds = 8, 3
	dbtest.Each(t, func(t *testing.T, db *gorm.DB) {
		ctx := t.Context()
		s := newStore(t, db)
		client := mustCreateClient(t, s, "app")
		for round := range rounds {
			id, rt, at := fmt.Sprintf("req-%d", round), fmt.Sprintf("rt-%d", round), fmt.Sprintf("at-%d", round)
			req := newRequest(id, client, "alice", "sid-1")
			if err := s.CreateAccessTokenSession(ctx, at, req); err != nil {
				t.Fatal(err)
			}
			if err := s.CreateRefreshTokenSession(ctx, rt, at, req); err != nil {
				t.Fatal(err)
			}
			errs := concurrently(workers, func() error { return rotate(ctx, s, id, rt) })
			winners := 0
			for i, err := range errs {
				switch {
				case err == nil:
					winners++
				case errors.Is(err, oidc.ErrRefreshRotated):
				default:
					t.Errorf("%s: worker %d: unexpected error %v (want nil or %v)", rt, i, err, oidc.ErrRefreshRotated)
				}
			}
			if winners != 1 {
				t.Errorf("%s: %d of %d rotations succeeded, want exactly 1", rt, winners, workers)
			}
			if _, err := s.GetRefreshTokenSession(ctx, rt, oidc.NewSession()); !errors.Is(err, fosite.ErrInactiveToken) {
				t.Errorf("%s: GetRefreshTokenSession after rotation error = %v, want %v", rt, err, fosite.ErrInactiveToken)
			}
		}
	})
}

func TestRevokeGrant(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, db *gorm.DB) {
		ctx := t.Context()
		s := newStore(t, db)
		client := mustCreateClient(t, s, "app")
		req := newRequest("req-1", client, "alice", "sid-1")
		other := newRequest("req-2", client, "bob", "sid-2")
		// req-1 has been refreshed once: two refresh and two access tokens.
		for _, err := range []error{
			s.CreateAccessTokenSession(ctx, "at-1", req),
			s.CreateRefreshTokenSession(ctx, "rt-1", "at-1", req),
			s.CreateAccessTokenSession(ctx, "at-2", req),
			s.CreateRefreshTokenSession(ctx, "rt-2", "at-2", req),
			s.CreateAccessTokenSession(ctx, "at-other", other),
			s.CreateRefreshTokenSession(ctx, "rt-other", "at-other", other),
		} {
			if err != nil {
				t.Fatal(err)
			}
		}

		if err := s.RevokeRefreshToken(ctx, "req-1"); err != nil {
			t.Fatalf("RevokeRefreshToken: %v", err)
		}
		if err := s.RevokeAccessToken(ctx, "req-1"); err != nil {
			t.Fatalf("RevokeAccessToken: %v", err)
		}

		for _, tc := range []struct {
			name    string
			get     func() (fosite.Requester, error)
			wantErr error
		}{
			{"refresh rt-1", func() (fosite.Requester, error) { return s.GetRefreshTokenSession(ctx, "rt-1", oidc.NewSession()) }, fosite.ErrInactiveToken},
			{"refresh rt-2", func() (fosite.Requester, error) { return s.GetRefreshTokenSession(ctx, "rt-2", oidc.NewSession()) }, fosite.ErrInactiveToken},
			{"access at-1", func() (fosite.Requester, error) { return s.GetAccessTokenSession(ctx, "at-1", oidc.NewSession()) }, fosite.ErrNotFound},
			{"access at-2", func() (fosite.Requester, error) { return s.GetAccessTokenSession(ctx, "at-2", oidc.NewSession()) }, fosite.ErrNotFound},
			{"other grant's refresh", func() (fosite.Requester, error) {
				return s.GetRefreshTokenSession(ctx, "rt-other", oidc.NewSession())
			}, nil},
			{"other grant's access", func() (fosite.Requester, error) {
				return s.GetAccessTokenSession(ctx, "at-other", oidc.NewSession())
			}, nil},
		} {
			if _, err := tc.get(); !errors.Is(err, tc.wantErr) {
				t.Errorf("%s: error = %v, want %v", tc.name, err, tc.wantErr)
			}
		}
		if n := mustCount(t, db, "oauth_requests", "request_id = ?", "req-1"); n != 2 {
			t.Errorf("rows left of the revoked grant = %d, want 2 (inactive refresh tokens kept for reuse detection)", n)
		}
	})
}

func TestTransactions(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, db *gorm.DB) {
		s := newStore(t, db)
		client := mustCreateClient(t, s, "app")
		for _, tc := range []struct {
			name        string
			finish      func(context.Context) error
			wantErr     error
			wantFlowErr error
		}{
			{"rollback", s.Rollback, fosite.ErrNotFound, authflow.ErrFlowNotFound},
			{"commit", s.Commit, nil, nil},
		} {
			t.Run(tc.name, func(t *testing.T) {
				ctx := t.Context()
				req := newRequest("req-"+tc.name, client, "alice", "sid-1")
				txCtx, err := s.BeginTX(ctx)
				if err != nil {
					t.Fatalf("BeginTX: %v", err)
				}
				for _, err := range []error{
					s.CreateAccessTokenSession(txCtx, "at-"+tc.name, req),
					s.CreateRefreshTokenSession(txCtx, "rt-"+tc.name, "at-"+tc.name, req),
					s.CreateFlow(txCtx, testFlow("flow-"+tc.name)),
				} {
					if err != nil {
						s.Rollback(txCtx)
						t.Fatal(err)
					}
				}
				// The transaction sees its own writes.
				if _, err := s.GetAccessTokenSession(txCtx, "at-"+tc.name, oidc.NewSession()); err != nil {
					t.Errorf("GetAccessTokenSession inside the transaction: %v", err)
				}
				if err := tc.finish(txCtx); err != nil {
					t.Fatalf("%s: %v", tc.name, err)
				}

				if _, err := s.GetAccessTokenSession(ctx, "at-"+tc.name, oidc.NewSession()); !errors.Is(err, tc.wantErr) {
					t.Errorf("GetAccessTokenSession error = %v, want %v", err, tc.wantErr)
				}
				if _, err := s.GetRefreshTokenSession(ctx, "rt-"+tc.name, oidc.NewSession()); !errors.Is(err, tc.wantErr) {
					t.Errorf("GetRefreshTokenSession error = %v, want %v", err, tc.wantErr)
				}
				if _, err := s.GetFlow(ctx, "flow-"+tc.name, base); !errors.Is(err, tc.wantFlowErr) {
					t.Errorf("GetFlow error = %v, want %v", err, tc.wantFlowErr)
				}
			})
		}
	})
}

func TestClientAssertionJWT(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, db *gorm.DB) {
		ctx := t.Context()
		now := base
		s := newStoreWith(t, db, sqlstore.Settings{Now: func() time.Time { return now }})
		live, expired := base.Add(time.Minute), base.Add(-time.Second)
		steps := []struct {
			name    string
			set     bool          // SetClientAssertionJWT(jti, exp); otherwise ClientAssertionJWTValid(jti)
			advance time.Duration // the store's clock moves on by this first
			jti     string
			exp     time.Time
			wantErr error
		}{
			{name: "unknown is valid", jti: "jti-1"},
			{name: "record", set: true, jti: "jti-1", exp: live},
			{name: "recorded is known", jti: "jti-1", wantErr: fosite.ErrJTIKnown},
			{name: "record again", set: true, jti: "jti-1", exp: live, wantErr: fosite.ErrJTIKnown},
			{name: "other jti is valid", jti: "jti-2"},
			{name: "record already expired", set: true, jti: "jti-old", exp: expired},
			{name: "expired is valid", jti: "jti-old"},
			{name: "expired can be reused", set: true, jti: "jti-old", exp: live},
			{name: "reused is known", jti: "jti-old", wantErr: fosite.ErrJTIKnown},
			{name: "known just before its exp", advance: time.Minute - time.Microsecond, jti: "jti-1", wantErr: fosite.ErrJTIKnown},
			{name: "valid from its exp", advance: time.Microsecond, jti: "jti-1"},
		}
		for _, st := range steps {
			now = now.Add(st.advance)
			var err error
			if st.set {
				err = s.SetClientAssertionJWT(ctx, st.jti, st.exp)
			} else {
				err = s.ClientAssertionJWTValid(ctx, st.jti)
			}
			if !errors.Is(err, st.wantErr) {
				t.Errorf("%s: error = %v, want %v", st.name, err, st.wantErr)
			}
		}
	})
}

// TestSessionClaimsKeepIntegers: a numeric claim in a stored session comes
// back as the integer it was. Read back as a float64 it was signed as
// "updated_at":1.796309221e+09, which clients that parse an int64 refuse.
func TestSessionClaimsKeepIntegers(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, db *gorm.DB) {
		s := newStore(t, db)
		client := mustCreateClient(t, s, "app")
		req := newRequest("req-numbers", client, "alice", "sid-1")
		req.Session.(*oidc.Session).Claims.Extra["updated_at"] = int64(1796309221)
		if err := s.CreateOpenIDConnectSession(t.Context(), "sig-numbers", req); err != nil {
			t.Fatal(err)
		}
		got, err := s.GetOpenIDConnectSession(t.Context(), "sig-numbers", &fosite.Request{Session: oidc.NewSession()})
		if err != nil {
			t.Fatal(err)
		}
		// Signed the way fosite signs an ID token.
		key, err := rsa.GenerateKey(rand.Reader, 2048)
		if err != nil {
			t.Fatal(err)
		}
		signer := &jwt.DefaultSigner{GetPrivateKey: func(context.Context) (interface{}, error) { return key, nil }}
		token, _, err := signer.Generate(t.Context(), got.GetSession().(*oidc.Session).IDTokenClaims().ToMapClaims(), &jwt.Headers{})
		if err != nil {
			t.Fatal(err)
		}
		payload, err := base64.RawURLEncoding.DecodeString(strings.Split(token, ".")[1])
		if err != nil {
			t.Fatal(err)
		}
		var signed map[string]json.RawMessage
		if err := json.Unmarshal(payload, &signed); err != nil {
			t.Fatal(err)
		}
		if string(signed["updated_at"]) != "1796309221" {
			t.Errorf("updated_at is signed as %s, want the integer 1796309221", signed["updated_at"])
		}
	})
}
