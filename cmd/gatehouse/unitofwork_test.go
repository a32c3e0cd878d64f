package main

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"net/url"
	"regexp"
	"testing"
	"time"

	"github.com/google/uuid"

	"gatehouse/identity"
	"gatehouse/identity/audit"
	"gatehouse/identity/message"
	identitysql "gatehouse/identity/sqlstore"
	"gatehouse/migrations/dbtest"
	"gatehouse/migrations/dbtime"
	"gatehouse/migrations/dbtx"
	"gatehouse/oidc"
	captchasql "gatehouse/oidc/captcha/sqlstore"
)

// The unit of work (migrations/dbtx): a change, its audit entry and its
// queued messages commit together or not at all. Each test below makes one
// step of a change fail after the steps before it wrote, and finds none of
// them in the database afterwards; then the same change without the
// failure, to show that the checks see its writes.

var errInjected = errors.New("injected failure")

// openUnitOfWork returns storage wired as the server wires it, on a fresh
// database of dialect.
func openUnitOfWork(t *testing.T, dialect string) *App {
	t.Helper()
	cfg := processConfig(t, dbtest.MustURL(t, dialect))
	a, err := openStorage(t.Context(), cfg, slog.New(slog.DiscardHandler), true)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(a.Close)
	return a
}

// failingUsers makes one RecoveryStore method fail after the call went
// through, so that its write is in the transaction when it fails.
type failingUsers struct {
	identity.RecoveryStore
	method string
}

func (f failingUsers) SetPasswordHash(ctx context.Context, userID, hash string) error {
	if err := f.RecoveryStore.SetPasswordHash(ctx, userID, hash); err != nil || f.method != "SetPasswordHash" {
		return err
	}
	return errInjected
}

func (f failingUsers) UnlockUser(ctx context.Context, userID string) error {
	if err := f.RecoveryStore.UnlockUser(ctx, userID); err != nil || f.method != "UnlockUser" {
		return err
	}
	return errInjected
}

// failingRevoker ends the sessions (and queues their logout tokens), then
// fails.
type failingRevoker struct{ identity.SessionRevoker }

func (f failingRevoker) RevokeUserSessions(ctx context.Context, userID, keep string) error {
	if err := f.SessionRevoker.RevokeUserSessions(ctx, userID, keep); err != nil {
		return err
	}
	return errInjected
}

// resetState is what a password reset changes.
type resetState struct {
	TokenUsable, Locked, SessionLive bool
	PasswordHash                     string
	AuditActions                     []string
	Messages                         int
}

func readResetState(t *testing.T, a *App, users identity.UserStore, userID, token, sessionID string) resetState {
	t.Helper()
	ctx := t.Context()
	var st resetState
	_, err := a.Identity.Recovery.CheckResetToken(ctx, token)
	st.TokenUsable = err == nil
	u, err := users.GetUser(ctx, userID)
	if err != nil {
		t.Fatal(err)
	}
	st.Locked = u.LockedPermanently
	if st.PasswordHash, err = users.PasswordHash(ctx, userID); err != nil {
		t.Fatal(err)
	}
	_, err = a.Store.BrowserSessions.GetSession(ctx, sessionID)
	st.SessionLive = err == nil
	entries, err := a.Audit.List(ctx, audit.Filter{UserID: userID})
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range entries {
		st.AuditActions = append(st.AuditActions, e.Action)
	}
	st.Messages = countRows(t, a, "outbound_messages")
	return st
}

func countRows(t *testing.T, a *App, table string) int {
	t.Helper()
	var n int64
	if err := a.DB.Gorm().Table(table).Count(&n).Error; err != nil {
		t.Fatal(err)
	}
	return int(n)
}

var resetLink = regexp.MustCompile(`reset-password\?token=([A-Za-z0-9_%.~-]+)`)

// mustResetToken requests a reset for login and returns the token of
// the link in the queued mail.
func mustResetToken(t *testing.T, a *App, login string) string {
	t.Helper()
	if err := a.Identity.Recovery.AdminResetPassword(t.Context(), login); err != nil {
		t.Fatal(err)
	}
	var bodies []string
	if err := a.DB.Gorm().Raw(`SELECT body_text FROM outbound_messages`).Scan(&bodies).Error; err != nil {
		t.Fatal(err)
	}
	for _, b := range bodies {
		if m := resetLink.FindStringSubmatch(b); m != nil {
			tok, err := url.QueryUnescape(m[1])
			if err != nil {
				t.Fatal(err)
			}
			return tok
		}
	}
	t.Fatalf("no reset link in the queued mail: %q", bodies)
	return ""
}

// mustLiveSession creates a browser session of userID.
func mustLiveSession(t *testing.T, a *App, userID, id string) {
	t.Helper()
	now := time.Now().UTC()
	if err := a.Store.BrowserSessions.CreateSession(t.Context(), &oidc.BrowserSession{ID: id, SecretHash: "hash-" + id, UserID: userID,
		AuthTime: now, CreatedAt: now, LastSeenAt: now, ExpiresAt: now.Add(time.Hour), IdleTimeout: time.Hour}); err != nil {
		t.Fatal(err)
	}
}

// TestPasswordResetIsOneUnitOfWork: the token's use, the new hash, the
// end of the lockout, the end of the sessions, the notice and the audit
// entry of a password reset are one transaction.
func TestPasswordResetIsOneUnitOfWork(t *testing.T) {
	steps := []struct {
		name   string
		inject func(a *App)
	}{
		{"after the new hash", func(a *App) { a.Identity.Recovery.Users = failingUsers{a.Identity.Recovery.Users, "SetPasswordHash"} }},
		{"after the unlock", func(a *App) { a.Identity.Recovery.Users = failingUsers{a.Identity.Recovery.Users, "UnlockUser"} }},
		{"after the sessions ended", func(a *App) { a.Identity.Recovery.Sessions = failingRevoker{a.Identity.Recovery.Sessions} }},
		{"after the audit entry", func(a *App) {
			record := a.Identity.Recovery.OnPasswordReset
			a.Identity.Recovery.OnPasswordReset = func(ctx context.Context, userID string) error {
				if err := record(ctx, userID); err != nil {
					return err
				}
				return errInjected
			}
		}},
	}
	for _, dialect := range dbtest.Dialects {
		for _, step := range steps {
			t.Run(dialect+"/"+step.name, func(t *testing.T) {
				a := openUnitOfWork(t, dialect)
				ctx := t.Context()
				users := identitysql.NewUserStore(a.DB.Gorm())
				u, err := a.Identity.Accounts.CreateUser(ctx, identity.CreateInput{Username: "ada", Email: "ada@example.com",
					Password: testUserPassword, EmailVerified: true})
				if err != nil {
					t.Fatal(err)
				}
				if ok, err := users.LockUser(ctx, u.ID, identity.Lock{Permanent: true}); err != nil || !ok {
					t.Fatalf("LockUser = %v, %v", ok, err)
				}
				mustLiveSession(t, a, u.ID, "session-1")
				token := mustResetToken(t, a, "ada")
				before := readResetState(t, a, users, u.ID, token, "session-1")
				if !before.TokenUsable || !before.Locked || !before.SessionLive {
					t.Fatalf("set-up state = %+v", before)
				}

				origUsers, origSessions, origHook := a.Identity.Recovery.Users, a.Identity.Recovery.Sessions, a.Identity.Recovery.OnPasswordReset
				step.inject(a)
				if _, err := a.Identity.Recovery.ResetPassword(ctx, token, "a brand new passphrase"); !errors.Is(err, errInjected) {
					t.Fatalf("ResetPassword = %v, want the injected failure", err)
				}
				if diff := diffState(before, readResetState(t, a, users, u.ID, token, "session-1")); diff != "" {
					t.Fatalf("a failed reset left changes behind: %s", diff)
				}

				a.Identity.Recovery.Users, a.Identity.Recovery.Sessions, a.Identity.Recovery.OnPasswordReset = origUsers, origSessions, origHook
				if _, err := a.Identity.Recovery.ResetPassword(ctx, token, "a brand new passphrase"); err != nil {
					t.Fatalf("ResetPassword without the failure: %v", err)
				}
				after := readResetState(t, a, users, u.ID, token, "session-1")
				if after.TokenUsable || after.Locked || after.SessionLive || after.PasswordHash == before.PasswordHash ||
					after.Messages != before.Messages+1 ||
					!contains(after.AuditActions, audit.ActionPasswordReset) || !contains(after.AuditActions, audit.ActionLockoutEnded) {
					t.Errorf("after the reset: %+v (before %+v)", after, before)
				}
			})
		}
	}
}

func diffState(want, got resetState) string {
	if fmt.Sprint(want) == fmt.Sprint(got) {
		return ""
	}
	return fmt.Sprintf("\nbefore %+v\nafter  %+v", want, got)
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

// failingLogoutQueue queues through the real queue and fails once it has
// queued after tokens: the tokens before it are in the transaction.
type failingLogoutQueue struct {
	oidc.LogoutQueue
	after, sent int
}

func (q *failingLogoutQueue) SendLogout(ctx context.Context, uri, token string) error {
	if err := q.LogoutQueue.SendLogout(ctx, uri, token); err != nil {
		return err
	}
	if q.sent++; q.sent >= q.after {
		return errInjected
	}
	return nil
}

// mustClientTokens registers clients with a back-channel logout URI and
// gives each an access token issued through sessionID.
func mustClientTokens(t *testing.T, a *App, userID, sessionID string, clientIDs ...string) {
	t.Helper()
	now := time.Now().UTC()
	for _, id := range clientIDs {
		if err := a.Store.Clients.CreateClient(t.Context(), &oidc.Client{ID: id, ClientMetadata: oidc.ClientMetadata{ClientName: id,
			RedirectURIs: []string{"https://" + id + ".example.com/cb"}, BackchannelLogoutURI: "https://" + id + ".example.com/logout",
			GrantTypes: []string{"authorization_code"}, ResponseTypes: []string{"code"}, Scope: "openid",
			TokenEndpointAuthMethod: "none"}}); err != nil {
			t.Fatal(err)
		}
		if err := a.DB.Gorm().Exec(`INSERT INTO oauth_requests (kind, signature, request_id, client_id, subject, session_id,
			active, requested_at, expires_at, session) VALUES ('access', ?, ?, ?, ?, ?, ?, ?, ?, '{}')`,
			"sig-"+id, "req-"+id, id, userID, sessionID, true, dbtime.New(now), dbtime.New(now.Add(time.Hour))).Error; err != nil {
			t.Fatal(err)
		}
	}
}

// TestSessionRevocationIsOneUnitOfWork: ending sessions and queueing the
// back-channel logout tokens of their clients are one transaction.
func TestSessionRevocationIsOneUnitOfWork(t *testing.T) {
	revokes := []struct {
		name   string
		revoke func(ctx context.Context, b *oidc.BackchannelSessions, userID string) error
	}{
		{"RevokeSession", func(ctx context.Context, b *oidc.BackchannelSessions, _ string) error {
			return b.RevokeSession(ctx, "session-1")
		}},
		{"RevokeUserSessions", func(ctx context.Context, b *oidc.BackchannelSessions, userID string) error {
			return b.RevokeUserSessions(ctx, userID, "")
		}},
	}
	for _, dialect := range dbtest.Dialects {
		for _, rv := range revokes {
			t.Run(dialect+"/"+rv.name, func(t *testing.T) {
				a := openUnitOfWork(t, dialect)
				ctx := t.Context()
				if err := a.Keys.Load(ctx); err != nil {
					t.Fatal(err)
				}
				u, err := a.Identity.Accounts.CreateUser(ctx, identity.CreateInput{Username: "ada", Email: "ada@example.com",
					Password: testUserPassword, EmailVerified: true})
				if err != nil {
					t.Fatal(err)
				}
				mustLiveSession(t, a, u.ID, "session-1")
				mustClientTokens(t, a, u.ID, "session-1", "rp-one", "rp-two")

				failing := *a.Sessions
				failing.Queue = &failingLogoutQueue{LogoutQueue: a.Sessions.Queue, after: 2}
				if err := rv.revoke(ctx, &failing, u.ID); !errors.Is(err, errInjected) {
					t.Fatalf("%s = %v, want the injected failure", rv.name, err)
				}
				if _, err := a.Store.BrowserSessions.GetSession(ctx, "session-1"); err != nil {
					t.Errorf("the session ended although its logout tokens were not queued: %v", err)
				}
				if n := countRows(t, a, "outbound_messages"); n != 0 {
					t.Errorf("%d logout tokens queued for a session that did not end", n)
				}

				if err := rv.revoke(ctx, a.Sessions, u.ID); err != nil {
					t.Fatalf("%s without the failure: %v", rv.name, err)
				}
				if _, err := a.Store.BrowserSessions.GetSession(ctx, "session-1"); !errors.Is(err, oidc.ErrSessionNotFound) {
					t.Errorf("GetSession after the revocation = %v, want ErrSessionNotFound", err)
				}
				if n := countRows(t, a, "outbound_messages"); n != 2 {
					t.Errorf("%d logout tokens queued, want 2", n)
				}
			})
		}
	}
}

// failingAuditStore appends, then fails for entries of one action: the
// entry is in the transaction when it fails.
type failingAuditStore struct {
	audit.Store
	action string
}

func (f failingAuditStore) Append(ctx context.Context, e *audit.Entry) error {
	if err := f.Store.Append(ctx, e); err != nil || e.Action != f.action {
		return err
	}
	return errInjected
}

// TestConsentIsOneUnitOfWork: the consent decision, the authorization
// code it grants and the consent's audit entry are one transaction; the
// entry is no longer written after the commit, where a crash lost it.
func TestConsentIsOneUnitOfWork(t *testing.T) {
	for _, dialect := range dbtest.Dialects {
		t.Run(dialect, func(t *testing.T) {
			srv := startServer(t, dialect, nil)
			ctx := t.Context()
			user := srv.createUser(t, "alice", testUserPassword)
			clientID, secret := srv.createClient(t, "--name", "Example App", "--redirect-uri", rpCallback)
			rp := newRelyingParty(t, srv.URL, clientID, secret)
			consented := func() ([]string, []string) {
				t.Helper()
				scopes, err := srv.App.Store.Consents.GetConsent(ctx, user.ID, clientID)
				if err != nil {
					t.Fatal(err)
				}
				entries, err := srv.App.Audit.List(ctx, audit.Filter{UserID: user.ID, Action: audit.ActionConsentGranted})
				if err != nil {
					t.Fatal(err)
				}
				var actions []string
				for _, e := range entries {
					actions = append(actions, e.Action)
				}
				return scopes, actions
			}

			real := srv.App.Audit.Store
			srv.App.Audit.Store = failingAuditStore{real, audit.ActionConsentGranted}
			b := newBrowser(t, rpCallback)
			p, _ := b.get(t, rp.OAuth.AuthCodeURL("state-one"))
			p, _ = b.submit(t, p, "login-submit", map[string]string{"login": "alice", "password": testUserPassword})
			if p.URL.Path != "/consent" {
				t.Fatalf("login led to %s, want consent", p.URL)
			}
			_, resp := b.submit(t, p, "consent-allow", nil)
			if loc := resp.Header.Get("Location"); resp.StatusCode != http.StatusInternalServerError || loc != "" {
				t.Errorf("consent with a failing audit trail = %d, Location %q; want 500 and no code", resp.StatusCode, loc)
			}
			if scopes, actions := consented(); scopes != nil || actions != nil || countRows(t, srv.App, "oauth_requests") != 0 {
				t.Errorf("a failed consent left changes: consent %q, audit %q, %d authorization rows",
					scopes, actions, countRows(t, srv.App, "oauth_requests"))
			}

			srv.App.Audit.Store = real
			q := signIn(t, newBrowser(t, rpCallback), rp.OAuth.AuthCodeURL("state-two"), "alice", true)
			if q.Get("code") == "" {
				t.Fatalf("no code after consent: %v", q)
			}
			if scopes, actions := consented(); scopes == nil || len(actions) != 1 {
				t.Errorf("after consent: consent %q, audit %q; want both", scopes, actions)
			}
		})
	}
}

// TestStoresRefuseCallsOutsideTheRunningTransaction: every store, called
// inside a unit of work with a context that does not carry it (here the
// outer one), fails at once with dbtx.ErrOutsideTransaction. On SQLite's
// one connection such a call would otherwise wait for ever for the
// connection the transaction holds.
func TestStoresRefuseCallsOutsideTheRunningTransaction(t *testing.T) {
	for _, dialect := range dbtest.Dialects {
		t.Run(dialect, func(t *testing.T) {
			a := openUnitOfWork(t, dialect)
			outer, cancel := context.WithTimeout(t.Context(), 20*time.Second)
			defer cancel()
			calls := map[string]func() error{
				"identity users": func() error { _, err := a.Identity.Accounts.Users.GetUser(outer, uuid.NewString()); return err },
				"identity tokens": func() error {
					_, err := a.Identity.Core.Tokens.GetToken(outer, uuid.NewString(), identity.PurposePasswordReset)
					return err
				},
				"audit": func() error { _, err := a.Audit.List(outer, audit.Filter{}); return err },
				"messages": func() error {
					return a.Messages.Store.Enqueue(outer, message.Message{ID: uuid.NewString(), Kind: "sms", To: "+14155550100", Text: "x", CreatedAt: time.Now()})
				},
				"oidc sessions": func() error { _, err := a.Store.BrowserSessions.GetSession(outer, "s"); return err },
				"oidc clients":  func() error { _, err := a.Store.Clients.GetClient(outer, "c"); return err },
				"oidc tokens": func() error {
					_, err := a.Store.Tokens.GetAccessTokenSession(outer, "signature", oidc.NewSession())
					return err
				},
				"oidc flows":        func() error { _, err := a.Store.Flows.GetFlow(outer, "f", time.Now()); return err },
				"oidc consents":     func() error { _, err := a.Store.Consents.GetConsent(outer, "u", "c"); return err },
				"oidc signing keys": func() error { _, err := a.Store.SigningKeys.ListSigningKeys(outer); return err },
				"oidc purge": func() error {
					_, err := a.Store.Purge.DeleteUnusedClients(outer, time.Now())
					return err
				},
				// dbpurge commits batch by batch on the pool, never in a
				// caller's transaction: it refuses to run inside one.
				"oidc expiry": func() error { _, err := a.Store.Purge.DeleteExpired(outer, time.Now()); return err },
				"captcha": func() error {
					_, err := captchasql.NewSpentStore(a.DB.Gorm()).Spend(outer, "challenge", time.Now().Add(time.Hour))
					return err
				},
			}
			start := time.Now()
			err := dbtx.New(a.DB.Gorm()).Run(outer, func(ctx context.Context) error {
				for name, call := range calls {
					if err := call(); !errors.Is(err, dbtx.ErrOutsideTransaction) {
						t.Errorf("%s called outside the transaction = %v, want ErrOutsideTransaction", name, err)
					}
				}
				return nil
			})
			if err != nil {
				t.Fatal(err)
			}
			if d := time.Since(start); d > 10*time.Second {
				t.Errorf("the refused calls took %v: they waited instead of failing", d)
			}
		})
	}
}
