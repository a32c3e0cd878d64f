package oidc

import (
	"context"
	"errors"
	"time"

	"github.com/google/uuid"
	"github.com/ory/fosite/token/jwt"

	"gatehouse/identity"
)

// SessionClient is a client that holds tokens issued through a session.
type SessionClient struct {
	SessionID string
	ClientID  string
}

// LogoutStore is what ending sessions with back-channel logout needs.
type LogoutStore interface {
	SessionStore
	// SessionClients lists the clients with tokens from the user's
	// sessions (only sessionID's when not empty).
	SessionClients(ctx context.Context, userID, sessionID string) ([]SessionClient, error)
	// RevokeUserSessions ends every session of the user but keep.
	RevokeUserSessions(ctx context.Context, userID, keep string) error
}

// LogoutQueue delivers logout tokens with retries.
type LogoutQueue interface {
	SendLogout(ctx context.Context, uri, logoutToken string) error
}

// BackchannelSessions is the session store as the rest of Gatehouse sees
// it: ending a session (logout, "sign out other sessions", a password
// reset) also tells every client that got tokens through it, with an
// OpenID Connect Back-Channel Logout 1.0 logout token.
//
// Ending sessions and queueing their logout tokens is one transaction
// when Tx is set and the store and the queue join it (migrations/dbtx):
// no session ends without its relying parties being told, and no logout
// token goes out for a session that did not end.
type BackchannelSessions struct {
	LogoutStore
	Provider *Provider
	Queue    LogoutQueue
	Now      func() time.Time
	// Tx runs each revocation with its notifications in one transaction;
	// nil writes them one by one.
	Tx Transactor
}

// Transactor runs fn in one database transaction, carried by the context
// it passes fn, which the stores join (migrations/dbtx implements it).
type Transactor interface {
	Run(ctx context.Context, fn func(ctx context.Context) error) error
}

func (b *BackchannelSessions) inTx(ctx context.Context, fn func(ctx context.Context) error) error {
	if b.Tx == nil {
		return fn(ctx)
	}
	return b.Tx.Run(ctx, fn)
}

var (
	_ SessionStore            = (*BackchannelSessions)(nil)
	_ identity.SessionRevoker = (*BackchannelSessions)(nil)
)

// logoutTokenLifetime covers the queue's first retries; a relying party
// rejects the token after that (Back-Channel Logout §2.6 wants it short).
const logoutTokenLifetime = 10 * time.Minute

// RevokeSession ends one session and notifies its clients.
func (b *BackchannelSessions) RevokeSession(ctx context.Context, id string) error {
	return b.inTx(ctx, func(ctx context.Context) error { return b.revokeSession(ctx, id) })
}

func (b *BackchannelSessions) revokeSession(ctx context.Context, id string) error {
	s, err := b.LogoutStore.GetSession(ctx, id)
	if errors.Is(err, ErrSessionNotFound) {
		return nil
	}
	if err != nil {
		return err
	}
	clients, err := b.SessionClients(ctx, s.UserID, id)
	if err != nil {
		return err
	}
	if err := b.LogoutStore.RevokeSession(ctx, id); err != nil {
		return err
	}
	return b.notify(ctx, s.UserID, clients)
}

// RevokeUserSessions implements identity.SessionRevoker with
// notifications for every session that ends.
func (b *BackchannelSessions) RevokeUserSessions(ctx context.Context, userID, keep string) error {
	return b.inTx(ctx, func(ctx context.Context) error { return b.revokeUserSessions(ctx, userID, keep) })
}

func (b *BackchannelSessions) revokeUserSessions(ctx context.Context, userID, keep string) error {
	all, err := b.SessionClients(ctx, userID, "")
	if err != nil {
		return err
	}
	var ending []SessionClient
	for _, sc := range all {
		if sc.SessionID != keep {
			ending = append(ending, sc)
		}
	}
	if err := b.LogoutStore.RevokeUserSessions(ctx, userID, keep); err != nil {
		return err
	}
	return b.notify(ctx, userID, ending)
}

// notify queues one logout token per (session, client) whose client
// registered a backchannel_logout_uri.
func (b *BackchannelSessions) notify(ctx context.Context, userID string, pairs []SessionClient) error {
	now := b.Now().UTC()
	for _, sc := range pairs {
		c, err := b.Provider.Clients.Get(ctx, sc.ClientID)
		if Unavailable(ctx, err) {
			return err // not "deleted": its logout token would be lost
		}
		if err != nil || c.BackchannelLogoutURI == "" {
			continue // deleted, or not interested
		}
		claims := jwt.MapClaims{
			"iss": b.Provider.Issuer, "aud": []string{c.ID}, "iat": now.Unix(),
			"exp": now.Add(logoutTokenLifetime).Unix(), "jti": uuid.NewString(),
			"sub": userID, "sid": sc.SessionID,
			"events": map[string]interface{}{"http://schemas.openid.net/event/backchannel-logout": map[string]interface{}{}},
		}
		// §2.4: typ "logout+jwt" tells it apart from an ID token.
		token, _, err := b.Provider.Signer.Generate(ctx, claims, &jwt.Headers{Extra: map[string]interface{}{"typ": "logout+jwt"}})
		if err != nil {
			return err
		}
		if err := b.Queue.SendLogout(ctx, c.BackchannelLogoutURI, token); err != nil {
			return err
		}
	}
	return nil
}
