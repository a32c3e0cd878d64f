package main

import (
	"context"
	"log/slog"
	"strconv"
	"time"

	"gatehouse/config"
	"gatehouse/identity"
	"gatehouse/identity/audit"
	"gatehouse/identity/mfa"
	identitysql "gatehouse/identity/sqlstore"
	"gatehouse/oidc"
)

// identityDeps is what the identity service takes from the rest of the
// App.
type identityDeps struct {
	Users    *identitysql.UserStore
	Roles    identity.RoleStore
	Tokens   identity.TokenStore
	Notifier identity.Notifier
	Sessions identity.SessionRevoker
	// Browsers forgets a user's remembered browsers when their password
	// changes or is reset.
	Browsers browserForgetter
	// Erase removes the protocol tables' rows of a deleted user.
	Erase identity.UserEraser
	Tx    identity.Transactor
	Audit *audit.Log
	// TokenKey keys the hashes of one-time codes and links.
	TokenKey []byte
}

// newIdentity builds the identity service's parts over one Core, in
// dependency order: Contacts before the Accounts that start verification
// through it. The hooks write the audit trail, which identity does not
// know of.
func newIdentity(cfg *config.Config, log *slog.Logger, d identityDeps) identity.Services {
	record := func(ctx context.Context, e audit.Entry) {
		if err := d.Audit.Record(ctx, oidc.AuditRequest(ctx, e)); err != nil {
			log.ErrorContext(ctx, "audit record failed", "action", e.Action, "error", err)
		}
	}
	core := &identity.Core{
		Hasher: identity.NewHasher(passwordHashParams, identity.NewPool(identity.PoolConfig{
			Workers: cfg.Password.HashWorkers, Timeout: cfg.Password.HashQueueTimeout.Std(),
		})),
		Now: time.Now, Tokens: d.Tokens, TokenKey: d.TokenKey, Notifier: d.Notifier, Tx: d.Tx,
		BaseURL: cfg.Issuer, Logger: log,
	}
	policy := identity.PasswordPolicy{MinLength: cfg.Password.MinLength, MaxLength: cfg.Password.MaxLength}
	contacts := &identity.Contacts{
		Core: core, Users: d.Users, DefaultRegion: cfg.SMS.DefaultRegion, ProductName: cfg.Theme.ProductName,
	}
	recovery := &identity.Recovery{
		Core: core, Users: d.Users, Policy: policy, Sessions: passwordChangeRevoker{d.Sessions, d.Browsers},
		OnUnlock: func(ctx context.Context, userID, by string) {
			record(ctx, audit.Entry{ActorType: audit.ActorUser, ActorID: userID, Subject: userID,
				Action: audit.ActionLockoutEnded, Outcome: audit.OutcomeSuccess, Details: audit.Details{"by": by}})
		},
		// The password reset and its audit entry are one unit of work (dbtx).
		OnPasswordReset: func(ctx context.Context, userID string) error {
			return d.Audit.Record(ctx, oidc.AuditRequest(ctx, audit.Entry{ActorType: audit.ActorUser, ActorID: userID, Subject: userID,
				Action: audit.ActionPasswordReset, Outcome: audit.OutcomeSuccess}))
		},
	}
	return identity.Services{
		Core: core,
		Accounts: &identity.Accounts{
			Core: core, Users: d.Users, Policy: policy, DefaultRegion: cfg.SMS.DefaultRegion, Contacts: contacts,
			// Only a registration held for verification can be answered
			// alike whether or not the address has an account.
			HideTakenEmails: cfg.Registration.RequireVerifiedEmail,
		},
		Auth: &identity.Authenticator{
			Core: core, Users: d.Users, Policy: policy,
			Lockout: identity.LockoutPolicy{
				MaxFailures: cfg.Lockout.MaxFailures, FirstLockout: cfg.Lockout.FirstLockout.Std(),
				MaxLockout: cfg.Lockout.MaxLockout.Std(), PermanentAfter: cfg.Lockout.PermanentAfter,
			},
			OnLockout: func(ctx context.Context, userID, reason string, permanent bool) {
				record(ctx, audit.Entry{ActorType: audit.ActorSystem, Subject: userID, Action: audit.ActionLockoutStarted,
					Outcome: audit.OutcomeSuccess, Details: audit.Details{"reason": reason, "permanent": strconv.FormatBool(permanent)}})
			},
			// The attempt got the answer of a wrong password; the owner sees
			// it as a failed sign-in in the security activity.
			OnLockedAttempt: func(ctx context.Context, userID string) {
				record(ctx, audit.Entry{ActorType: audit.ActorUser, Subject: userID, Action: audit.ActionLoginFailed,
					Outcome: audit.OutcomeFailure, Details: audit.Details{"reason": "locked"}})
			},
		},
		Contacts:    contacts,
		Recovery:    recovery,
		Profiles:    &identity.Profiles{Core: core, Users: d.Users, Policy: policy, Sessions: passwordChangeRevoker{d.Sessions, d.Browsers}},
		SignInCodes: &identity.SignInCodes{Core: core, Users: d.Users, ProductName: cfg.Theme.ProductName},
		// A change of roles and its audit entry are one unit of work.
		Roles: &identity.Roles{Core: core, Users: d.Users, Store: d.Roles, Audit: requestAuditor{d.Audit}},
		// Each change of a user, its sessions' end with back-channel
		// logout, and its audit entry are one unit of work.
		UserAdmin: &identity.UserAdmin{
			Core: core, Users: d.Users, Roles: d.Roles, Recovery: recovery,
			Sessions: passwordChangeRevoker{d.Sessions, d.Browsers}, Erase: d.Erase, Audit: requestAuditor{d.Audit},
			Policy: policy, DefaultRegion: cfg.SMS.DefaultRegion,
		},
	}
}

// requestAuditor records entries with the request's IP address, user
// agent and request ID, when there is a request.
type requestAuditor struct{ log *audit.Log }

// Record implements identity.AuditRecorder.
func (r requestAuditor) Record(ctx context.Context, e audit.Entry) error {
	return r.log.Record(ctx, oidc.AuditRequest(ctx, e))
}

// browserForgetter forgets a user's remembered browsers; *mfa.Service is
// one.
type browserForgetter interface {
	ForgetBrowsers(ctx context.Context, userID string) (int64, error)
}

// passwordChangeRevoker is the SessionRevoker of a password change or
// reset: with the user's other sessions it forgets their remembered
// browsers, in the same unit of work, so that no browser remembered
// before the change skips the second factor after it.
type passwordChangeRevoker struct {
	sessions identity.SessionRevoker
	browsers browserForgetter
}

// RevokeUserSessions implements identity.SessionRevoker.
func (r passwordChangeRevoker) RevokeUserSessions(ctx context.Context, userID, keep string) error {
	if err := r.sessions.RevokeUserSessions(ctx, userID, keep); err != nil {
		return err
	}
	if r.browsers == nil {
		return nil
	}
	_, err := r.browsers.ForgetBrowsers(ctx, userID)
	return err
}

// mfaPolicy is the configured multi-factor policy.
func mfaPolicy(c config.MFA) mfa.Policy {
	return mfa.Policy{
		Everyone: c.Required == config.MFARequiredEveryone, Roles: c.RequiredRoles, Clients: c.RequiredClients,
		GracePeriod: c.GracePeriod.Std(),
	}
}

// signInCodeKinds are the kinds of second-factor code the deployment can
// deliver: only through a real mail server or SMS provider, never the
// development delivery that writes messages, codes included, to the log.
func signInCodeKinds(cfg *config.Config) []mfa.Kind {
	var out []mfa.Kind
	if cfg.Email.SMTPURL != "" {
		out = append(out, mfa.KindEmail)
	}
	if cfg.SMS.Provider == "webhook" || cfg.SMS.Provider == "twilio" {
		out = append(out, mfa.KindSMS)
	}
	return out
}
