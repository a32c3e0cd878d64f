package main

import (
	"context"
	"fmt"
	"log/slog"
	"strings"

	"gatehouse/config"
	"gatehouse/federation"
	"gatehouse/federation/ldap"
	fedsql "gatehouse/federation/sqlstore"
	"gatehouse/federation/upstream"
	"gatehouse/identity/mfa"
	identitysql "gatehouse/identity/sqlstore"
	"gatehouse/oidc/authflow"
)

// openFederation builds the enabled connectors of the configuration and
// returns the login form's Authenticator: the local one when there are
// none, otherwise one that also signs directory users in (see
// federation.Authenticator). Users of a directory then learn from the
// forgotten-password page's mail where to change their password.
//
// A directory that does not answer at start is only a warning, given in
// the background so that it does not hold the start up: its users cannot
// sign in until it answers, everyone else can.
func (a *App) openFederation(ctx context.Context) (authflow.Authenticator, error) {
	conns, err := passwordConnectors(a.Config.Connectors, a.Logger)
	if err != nil {
		return nil, err
	}
	if len(conns) == 0 {
		return a.Identity.Auth, nil
	}
	db := a.DB.Gorm()
	links := fedsql.NewLinkStore(db)
	fa := &federation.Authenticator{
		Authenticator: a.Identity.Auth, Connectors: conns, Links: links,
		Broker: &federation.Broker{Users: identitysql.NewUserStore(db), Links: links, Tx: a.Identity.Core.Tx, Logger: a.Logger},
	}
	a.Identity.Recovery.PasswordElsewhere = fa.PasswordManagedUpstream
	for _, c := range conns {
		if p, ok := c.(interface{ Ping(context.Context) error }); ok {
			go func() {
				if err := p.Ping(context.WithoutCancel(ctx)); err != nil {
					a.Logger.Warn("connector does not answer: its users cannot sign in until it does", "connector_id", c.ID(), "error", err)
				}
			}()
		}
	}
	return fa, nil
}

// passwordConnectors opens the enabled connectors, in configuration
// order.
func passwordConnectors(cfgs []config.Connector, log *slog.Logger) ([]federation.PasswordConnector, error) {
	var out []federation.PasswordConnector
	for _, c := range cfgs {
		if c.Disabled || c.Type == "oidc" {
			continue
		}
		if c.Type != "ldap" {
			return nil, fmt.Errorf("connector %s: unknown type %q", c.ID, c.Type)
		}
		l := c.LDAP
		if strings.HasPrefix(l.URL, "ldap://") && !l.StartTLS {
			log.Warn("connector sends passwords to the directory unencrypted; use ldaps:// or start_tls outside tests", "connector_id", c.ID)
		}
		if l.InsecureSkipVerify {
			log.Warn("connector does not check the directory's certificate; keep insecure_skip_verify off in production", "connector_id", c.ID)
		}
		conn, err := ldap.Config{
			ID: c.ID, Name: c.Name, URL: l.URL, StartTLS: l.StartTLS, CAFile: l.CAFile, InsecureSkipVerify: l.InsecureSkipVerify,
			BindDN: l.BindDN, BindPassword: l.BindPassword.Reveal(), UserBaseDN: l.UserBaseDN, UserFilter: l.UserFilter,
			SubjectAttribute: l.SubjectAttribute,
			Attributes: ldap.Attributes{Username: l.Attributes.Username, Email: l.Attributes.Email,
				GivenName: l.Attributes.GivenName, FamilyName: l.Attributes.FamilyName, Phone: l.Attributes.Phone},
			GroupBaseDN: l.GroupBaseDN, GroupKind: l.GroupKind, GroupFilter: l.GroupFilter, RoleRules: roleRules(l.RoleRules),
			TrustEmail: l.TrustEmail, Timeout: l.Timeout.Std(),
		}.Open(log)
		if err != nil {
			return nil, fmt.Errorf("connector %s: %w", c.ID, err)
		}
		out = append(out, conn)
	}
	return out, nil
}

func roleRules(rs []config.LDAPRoleRule) []ldap.RoleRule {
	out := make([]ldap.RoleRule, 0, len(rs))
	for _, r := range rs {
		out = append(out, ldap.RoleRule{Group: r.Group, Role: r.Role})
	}
	return out
}

// openUpstreams builds the enabled upstream OpenID providers the login
// page offers, and the broker that maps their people onto local users.
// Their calls go through the outbound client: https to public addresses
// only, unless outbound.allow_private_networks (or the development setup)
// allows loopback and private ones.
func (a *App) openUpstreams() ([]federation.RedirectConnector, authflow.Resolver, error) {
	var out []federation.RedirectConnector
	for _, c := range a.Config.Connectors {
		if c.Disabled || c.Type != "oidc" {
			continue
		}
		o := c.OIDC
		conn, err := upstream.New(upstream.Config{
			ID: c.ID, Name: c.Name, Issuer: o.Issuer, ClientID: o.ClientID, ClientSecret: o.ClientSecret.Reveal(),
			RedirectURL: strings.TrimSuffix(a.Config.Issuer, "/") + authflow.PathUpstreamCallback + c.ID,
			Scopes:      o.Scopes, TrustEmail: o.TrustEmail, HTTP: a.Egress,
			Claims: upstream.Claims{Username: o.Claims.Username, Email: o.Claims.Email,
				GivenName: o.Claims.GivenName, FamilyName: o.Claims.FamilyName, Phone: o.Claims.Phone},
		})
		if err != nil {
			return nil, nil, fmt.Errorf("connector %s: %w", c.ID, err)
		}
		out = append(out, conn)
	}
	if len(out) == 0 {
		return nil, nil, nil
	}
	db := a.DB.Gorm()
	links := fedsql.NewLinkStore(db)
	return out, &federation.Broker{Users: identitysql.NewUserStore(db), Links: links, Tx: a.Identity.Core.Tx, Logger: a.Logger}, nil
}

// homeRealms maps the e-mail domains of the enabled oidc connectors to
// their IDs (config validation keeps each domain on one connector).
func homeRealms(conns []config.Connector) map[string]string {
	out := map[string]string{}
	for _, c := range conns {
		if c.Disabled || c.Type != "oidc" {
			continue
		}
		for _, d := range c.Domains {
			out[d] = c.ID
		}
	}
	return out
}

// accountLinks is the account page's list of linked upstream accounts.
// It names every configured connector, disabled ones included, so that a
// link to a connector switched off can still be seen and removed.
func (a *App) accountLinks() *federation.Links {
	db := a.DB.Gorm()
	names := map[string]string{}
	for _, c := range a.Config.Connectors {
		names[c.ID] = c.Name
	}
	return &federation.Links{Store: fedsql.NewLinkStore(db), Passwords: identitysql.NewUserStore(db),
		Passkeys: passkeyCounter{a.MFA}, Names: names, Tx: a.Identity.Core.Tx}
}

// passkeyCounter counts a user's confirmed passkeys: each signs in
// without a password.
type passkeyCounter struct{ mfa *mfa.Service }

func (p passkeyCounter) PasskeyCount(ctx context.Context, userID string) (int, error) {
	fs, err := p.mfa.ListFactors(ctx, userID)
	if err != nil {
		return 0, err
	}
	n := 0
	for _, f := range fs {
		if f.Kind == mfa.KindWebAuthn && f.Confirmed() {
			n++
		}
	}
	return n, nil
}
