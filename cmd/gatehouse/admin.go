package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/google/uuid"

	"gatehouse/identity"
	"gatehouse/identity/audit"
	"gatehouse/oidc"
	"gatehouse/oidc/clientreg"
)

// listFlag collects a repeatable flag.
type listFlag []string

func (l *listFlag) String() string     { return strings.Join(*l, ",") }
func (l *listFlag) Set(v string) error { *l = append(*l, v); return nil }

// openAdmin loads configuration and opens storage for an admin command,
// applying migrations first when database.migrate_on_start says so (as
// serve does), so that a fresh setup can be administered at once.
func openAdmin(ctx context.Context, cfgPath string, stderr io.Writer) (*App, error) {
	cfg, log, err := loadConfig(cfgPath, stderr)
	if err != nil {
		return nil, err
	}
	return openStorage(ctx, cfg, log, cfg.Database.MigrateOnStart)
}

// parseInterspersed parses flags that may come before, between or after
// positional arguments (`migrate status --config f`) and returns the
// positional ones.
func parseInterspersed(fs *flag.FlagSet, args []string) ([]string, error) {
	var positional []string
	for {
		if err := fs.Parse(args); err != nil {
			return nil, err
		}
		if fs.NArg() == 0 {
			return positional, nil
		}
		positional = append(positional, fs.Arg(0))
		args = fs.Args()[1:]
	}
}

func cmdMigrate(ctx context.Context, args []string, _ io.Reader, stdout, stderr io.Writer) error {
	fs, cfgPath := newFlags("migrate up|status [--config FILE]", "Applies pending migrations (up) or lists them with their state (status).", stdout)
	pos, err := parseInterspersed(fs, args)
	if err != nil {
		return err
	}
	if len(pos) != 1 || (pos[0] != "up" && pos[0] != "status") {
		return usageError{"want `migrate up` or `migrate status`"}
	}
	cfg, log, err := loadConfig(*cfgPath, stderr)
	if err != nil {
		return err
	}
	a, err := openStorage(ctx, cfg, log, false)
	if err != nil {
		return err
	}
	defer a.Close()
	if pos[0] == "up" {
		applied, err := a.DB.Up(ctx)
		if err != nil {
			return err
		}
		if len(applied) == 0 {
			fmt.Fprintln(stdout, "The schema is up to date.")
		}
		for _, v := range applied {
			fmt.Fprintf(stdout, "applied %05d\n", v)
		}
		return nil
	}
	list, err := a.DB.List(ctx)
	if err != nil {
		return err
	}
	tw := tabwriter.NewWriter(stdout, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "VERSION\tSTATE\tFILE")
	for _, s := range list {
		state := "pending"
		if s.Applied {
			state = "applied"
		}
		fmt.Fprintf(tw, "%05d\t%s\t%s\n", s.Version, state, s.Source)
	}
	return tw.Flush()
}

const clientsHelp = `Usage: gatehouse clients <subcommand> [flags]

Subcommands:
  create --name NAME [flags]   register a client (see clients create --help)
  list                         list clients
  show ID                      print a client's metadata as JSON
  resource-server ID           let a client introspect tokens meant for it (see --help)
  delete ID                    delete a client and every token issued to it
`

const usersHelp = `Usage:
  gatehouse users create --username NAME [--email E] [--email-verified] [--role ROLE]...
                         [--invite]
      The password is read from the first line of standard input. With
      --invite none is read: the user (--email required) is mailed a
      single-use link, valid 72 hours, to set their password.
  gatehouse users show USERNAME|EMAIL|ID
      Prints the user as JSON, without secrets.
  gatehouse users deactivate USERNAME|EMAIL|ID
      Disables the user: no more sign-ins; every session and token ends
      and clients with back-channel logout are told. The last active
      holder of users:admin cannot be deactivated.
  gatehouse users reactivate USERNAME|EMAIL|ID
      Lets a deactivated user sign in again.
  gatehouse users delete USERNAME|EMAIL|ID --yes
      Deletes the user with their sessions, tokens, second factors and
      consents (back-channel logout included). Cannot be undone.
  gatehouse users list [--sort KEY] [--desc] [--limit N] [--cursor C]
  gatehouse users search [--q TEXT] [--email PREFIX] [--role ROLE] [--status S]
                         [--sort KEY] [--desc] [--limit N] [--cursor C]
      Prints one page of users and the cursor of the next page. KEY is
      created, last_login, username or email.
  gatehouse users reset-password USERNAME|EMAIL
      Sends the user the same single-use reset link as "Forgot password".
  gatehouse users unlock USERNAME|EMAIL
      Ends a lockout after failed sign-ins (temporary or permanent).
  gatehouse users revoke-sessions USERNAME|EMAIL
      Signs the user out everywhere and revokes their refresh and access
      tokens; clients with back-channel logout are told.
  gatehouse users reset-mfa USERNAME|EMAIL
      Removes every second factor and recovery code of the user (who lost
      them), so they sign in with the password alone; the user is mailed.
  gatehouse users set-roles USERNAME|EMAIL [ROLE]...
      Replaces the user's roles (see "gatehouse roles --help").
`

const keysHelp = `Usage: gatehouse keys list | keys rotate [--force]
`

// isHelp reports whether args ask for a command's help.
func isHelp(args []string) bool {
	return len(args) > 0 && (args[0] == "-h" || args[0] == "--help" || args[0] == "help")
}

func cmdClients(ctx context.Context, args []string, _ io.Reader, stdout, stderr io.Writer) error {
	if isHelp(args) {
		fmt.Fprint(stdout, clientsHelp)
		return nil
	}
	if len(args) == 0 {
		return usageError{"want `clients create|list|show ID|resource-server ID|delete ID` (add --help for flags)"}
	}
	switch args[0] {
	case "create":
		return clientsCreate(ctx, args[1:], stdout, stderr)
	case "resource-server":
		return clientsResourceServer(ctx, args[1:], stdout, stderr)
	case "list", "show", "delete":
		fs, cfgPath := newFlags("clients "+args[0]+" [ID] [--config FILE]", "Lists, shows or deletes OAuth clients.", stdout)
		pos, err := parseInterspersed(fs, args[1:])
		if err != nil {
			return err
		}
		if (args[0] == "list" && len(pos) != 0) || (args[0] != "list" && len(pos) != 1) {
			return usageError{"`clients list` takes no ID; `clients show` and `clients delete` take exactly one"}
		}
		a, err := openAdmin(ctx, *cfgPath, stderr)
		if err != nil {
			return err
		}
		defer a.Close()
		switch args[0] {
		case "list":
			list, err := a.Store.Clients.ListClients(ctx)
			if err != nil {
				return err
			}
			tw := tabwriter.NewWriter(stdout, 0, 4, 2, ' ', 0)
			fmt.Fprintln(tw, "CLIENT ID\tNAME\tTYPE\tAUTH METHOD\tGRANTS")
			for _, c := range list {
				fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\n", c.ID, c.ClientName, c.ApplicationType, c.TokenEndpointAuthMethod, strings.Join(c.GrantTypes, ","))
			}
			return tw.Flush()
		case "show":
			c, err := a.Store.Clients.GetClient(ctx, pos[0])
			if err != nil {
				return err
			}
			out := struct {
				ClientID         string   `json:"client_id"`
				FirstParty       bool     `json:"first_party"`
				Audience         []string `json:"audience,omitempty"`
				ResourceServer   bool     `json:"resource_server"`
				ResourceAudience []string `json:"resource_audience,omitempty"`
				clientreg.Metadata
			}{c.ID, c.FirstParty, c.Audience, c.ResourceServer, c.ResourceAudience, clientreg.MetadataOf(c)}
			enc := json.NewEncoder(stdout)
			enc.SetIndent("", "  ")
			return enc.Encode(out)
		default:
			if err := a.Store.Clients.DeleteClient(ctx, pos[0]); err != nil {
				return err
			}
			if err := adminEvent(ctx, a, audit.ActionClientDeleted, pos[0], nil); err != nil {
				return err
			}
			fmt.Fprintf(stdout, "Deleted client %s and every token issued to it.\n", pos[0])
			return nil
		}
	}
	return usageError{fmt.Sprintf("unknown subcommand %q", args[0])}
}

func clientsCreate(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs, cfgPath := newFlags("clients create --name NAME [flags]",
		"Registers an OAuth client and prints its ID and (for confidential clients) its\nsecret. The secret is shown once: only a keyed hash of it is stored.", stdout)
	var redirects, logoutRedirects, grants, audience, resourceAudience listFlag
	fs.Var(&redirects, "redirect-uri", "allowed redirect URI (repeatable)")
	fs.Var(&logoutRedirects, "post-logout-redirect-uri", "allowed post-logout redirect URI (repeatable)")
	fs.Var(&grants, "grant-type", "authorization_code, refresh_token or client_credentials (repeatable; default authorization_code + refresh_token)")
	name := fs.String("name", "", "client name shown to users")
	backchannel := fs.String("backchannel-logout-uri", "", "where to post a logout token when a user's session ends (Back-Channel Logout 1.0)")
	scope := fs.String("scope", "openid profile email phone address offline_access", "scopes the client may request")
	authMethod := fs.String("auth-method", "", "client_secret_basic (default), client_secret_post, private_key_jwt or none")
	public := fs.Bool("public", false, "a public client without a secret (same as --auth-method none); PKCE is required")
	native := fs.Bool("native", false, "a native app (application_type native: loopback ports and private-use schemes)")
	firstParty := fs.Bool("first-party", false, "skip the consent page for this client")
	jwtAT := fs.Bool("jwt-access-tokens", false, "issue RFC 9068 JWT access tokens instead of opaque ones")
	fs.Var(&audience, "audience", "a resource (audience) the client may ask tokens for (repeatable)")
	resourceServer := fs.Bool("resource-server", false, "a resource server: may introspect tokens whose audience holds its client ID or a --resource-audience")
	fs.Var(&resourceAudience, "resource-audience", "an audience value naming this resource server (repeatable; implies --resource-server)")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if len(grants) == 0 {
		grants = listFlag{"authorization_code", "refresh_token"}
	}
	m := clientreg.Metadata{
		ClientName: *name, RedirectURIs: redirects, PostLogoutRedirectURIs: logoutRedirects, GrantTypes: grants,
		Scope: *scope, TokenEndpointAuthMethod: *authMethod, BackchannelLogoutURI: *backchannel, ApplicationType: oidc.AppTypeWeb, AccessTokenFormat: oidc.TokenFormatOpaque,
	}
	if slicesHas(grants, "authorization_code") {
		m.ResponseTypes = []string{"code"}
	} else {
		m.ResponseTypes = []string{}
	}
	if *public {
		m.TokenEndpointAuthMethod = oidc.AuthMethodNone
	}
	if *native {
		m.ApplicationType = oidc.AppTypeNative
	}
	if *jwtAT {
		m.AccessTokenFormat = oidc.TokenFormatJWT
	}
	cfg, log, err := loadConfig(*cfgPath, stderr)
	if err != nil {
		return err
	}
	// The back-channel logout URI is called by the server: the same
	// outbound rules as for dynamic registration.
	if err := m.ValidateFor(outboundPolicy(cfg)); err != nil {
		var me *clientreg.MetadataError
		if errors.As(err, &me) {
			return usageError{me.Description}
		}
		return err
	}
	a, err := openStorage(ctx, cfg, log, cfg.Database.MigrateOnStart)
	if err != nil {
		return err
	}
	defer a.Close()
	now := time.Now().UTC()
	c := &oidc.Client{ID: uuid.NewString(), FirstParty: *firstParty, CreatedAt: now, UpdatedAt: now}
	m.Apply(c)
	c.Audience = audience
	c.ResourceServer, c.ResourceAudience = *resourceServer || len(resourceAudience) > 0, resourceAudience
	secret := ""
	if !c.IsPublic() && c.TokenEndpointAuthMethod != oidc.AuthMethodPrivateKeyJWT {
		secret = oidc.NewSecret()
		if c.SecretHash, err = a.Provider.Config.ClientSecretsHasher.Hash(ctx, []byte(secret)); err != nil {
			return err
		}
	}
	if err := a.Store.Clients.CreateClient(ctx, c); err != nil {
		return err
	}
	if err := adminEvent(ctx, a, audit.ActionClientCreated, c.ID, audit.Details{"name": c.ClientName}); err != nil {
		return err
	}
	fmt.Fprintf(stdout, "client_id:     %s\n", c.ID)
	if secret != "" {
		fmt.Fprintf(stdout, "client_secret: %s\n(store the secret now: it cannot be shown again)\n", secret)
	}
	return nil
}

func slicesHas(list []string, s string) bool {
	for _, v := range list {
		if v == s {
			return true
		}
	}
	return false
}

func cmdUsers(ctx context.Context, args []string, stdin io.Reader, stdout, stderr io.Writer) error {
	if isHelp(args) {
		fmt.Fprint(stdout, usersHelp)
		return nil
	}
	if len(args) > 0 && args[0] == "reset-password" {
		return usersResetPassword(ctx, args[1:], stdout, stderr)
	}
	if len(args) > 0 && args[0] == "unlock" {
		return usersUnlock(ctx, args[1:], stdout, stderr)
	}
	if len(args) > 0 && args[0] == "revoke-sessions" {
		return usersRevokeSessions(ctx, args[1:], stdout, stderr)
	}
	if len(args) > 0 && (args[0] == "list" || args[0] == "search") {
		return usersSearch(ctx, args[0], args[1:], stdout, stderr)
	}
	if len(args) > 0 && args[0] == "reset-mfa" {
		return usersResetMFA(ctx, args[1:], stdout, stderr)
	}
	if len(args) > 0 && args[0] == "set-roles" {
		return usersSetRoles(ctx, args[1:], stdout, stderr)
	}
	if len(args) > 0 {
		switch args[0] {
		case "create":
			return usersCreate(ctx, args[1:], stdin, stdout, stderr)
		case "show":
			return usersShow(ctx, args[1:], stdout, stderr)
		case "deactivate":
			return usersDeactivate(ctx, args[1:], stdout, stderr)
		case "reactivate":
			return usersReactivate(ctx, args[1:], stdout, stderr)
		case "delete":
			return usersDelete(ctx, args[1:], stdout, stderr)
		}
	}
	return usageError{"want `users create --username NAME [--email E] [--role ROLE] [--invite]` (the password is read from standard input), `users show|deactivate|reactivate|delete USER` or `users reset-password USERNAME|EMAIL` (see `gatehouse users --help`)"}
}

func cmdKeys(ctx context.Context, args []string, _ io.Reader, stdout, stderr io.Writer) error {
	if isHelp(args) {
		fmt.Fprint(stdout, keysHelp)
		return nil
	}
	if len(args) == 0 || (args[0] != "list" && args[0] != "rotate") {
		return usageError{"want `keys list` or `keys rotate [--force]`"}
	}
	fs, cfgPath := newFlags("keys "+args[0]+" [--config FILE]",
		"list shows the signing keys and their states. rotate promotes the published\nnext key to current, retires the current key (still published until every\ntoken it signed has expired) and publishes a new next key. Running servers\npick the change up within a minute.", stdout)
	force := fs.Bool("force", false, "rotate even if the next key was published less than 5 minutes ago")
	if err := fs.Parse(args[1:]); err != nil {
		return err
	}
	a, err := openAdmin(ctx, *cfgPath, stderr)
	if err != nil {
		return err
	}
	defer a.Close()
	if args[0] == "rotate" {
		cur, next, err := a.Keys.Rotate(ctx, *force)
		if errors.Is(err, oidc.ErrRotateTooSoon) {
			return usageError{err.Error() + " (wait 5 minutes or pass --force)"}
		}
		if err != nil {
			return err
		}
		fmt.Fprintf(stdout, "Now signing with %s; published next key %s.\n", cur, next)
		return nil
	}
	recs, err := a.Store.SigningKeys.ListSigningKeys(ctx)
	if err != nil {
		return err
	}
	tw := tabwriter.NewWriter(stdout, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "KEY ID\tALG\tSTATE\tCREATED\tUNPUBLISHED AFTER")
	for _, r := range recs {
		until := "-"
		if r.ExpiresAt != nil {
			until = r.ExpiresAt.Format(time.RFC3339)
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\n", r.ID, r.Algorithm, r.State, r.CreatedAt.Format(time.RFC3339), until)
	}
	return tw.Flush()
}

func usersResetPassword(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs, cfgPath := newFlags("users reset-password USERNAME|EMAIL [--config FILE]",
		"Queues a password reset e-mail with a single-use link (30 minutes). A running\nserver delivers it.", stdout)
	pos, err := parseInterspersed(fs, args)
	if err != nil {
		return err
	}
	if len(pos) != 1 {
		return usageError{"want exactly one username or e-mail address"}
	}
	a, err := openAdmin(ctx, *cfgPath, stderr)
	if err != nil {
		return err
	}
	defer a.Close()
	switch err := a.Identity.Recovery.AdminResetPassword(ctx, pos[0]); {
	case errors.Is(err, identity.ErrNotFound):
		return usageError{"no user " + pos[0]}
	case errors.Is(err, identity.ErrNoEmail):
		return usageError{"the user has no e-mail address"}
	case errors.Is(err, identity.ErrAccountDisabled):
		return usageError{"the account is disabled"}
	case err != nil:
		return err
	}
	if err := adminEvent(ctx, a, audit.ActionAdminAction, pos[0], audit.Details{"operation": "reset_password_link"}); err != nil {
		return err
	}
	fmt.Fprintf(stdout, "Queued a password reset link for %s.\n", pos[0])
	return nil
}

// userCommand runs fn on the user named by the one positional argument of
// a `users` subcommand.
func userCommand(ctx context.Context, name, help string, args []string, stdout, stderr io.Writer,
	fn func(a *App, u *identity.User) error) error {
	fs, cfgPath := newFlags("users "+name+" USERNAME|EMAIL [--config FILE]", help, stdout)
	pos, err := parseInterspersed(fs, args)
	if err != nil {
		return err
	}
	if len(pos) != 1 {
		return usageError{"want exactly one username or e-mail address"}
	}
	a, err := openAdmin(ctx, *cfgPath, stderr)
	if err != nil {
		return err
	}
	defer a.Close()
	u, err := findUser(ctx, a, pos[0])
	if err != nil {
		return err
	}
	return fn(a, u)
}

func usersUnlock(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	return userCommand(ctx, "unlock", "Ends a lockout after failed sign-ins.", args, stdout, stderr, func(a *App, u *identity.User) error {
		if err := a.Identity.Auth.Unlock(ctx, u.ID); err != nil {
			return err
		}
		if err := adminEvent(ctx, a, audit.ActionLockoutEnded, u.ID, audit.Details{"by": "cli"}); err != nil {
			return err
		}
		fmt.Fprintf(stdout, "Unlocked %s.\n", u.Username)
		return nil
	})
}

func usersRevokeSessions(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	return userCommand(ctx, "revoke-sessions", "Ends every session and token of a user.", args, stdout, stderr, func(a *App, u *identity.User) error {
		if err := loadSigningKeys(ctx, a); err != nil {
			return err
		}
		if err := a.Sessions.RevokeUserSessions(ctx, u.ID, ""); err != nil {
			return err
		}
		if err := adminEvent(ctx, a, audit.ActionSessionRevoked, u.ID, audit.Details{"scope": "all_sessions"}); err != nil {
			return err
		}
		fmt.Fprintf(stdout, "Signed %s out of every session and revoked their tokens.\n", u.Username)
		return nil
	})
}

func usersResetMFA(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	return userCommand(ctx, "reset-mfa", "Removes every second factor and recovery code of a user, and mails them.", args, stdout, stderr, func(a *App, u *identity.User) error {
		// The factors, the audit entry and the notice go together or
		// not at all.
		n := 0
		err := a.MFA.Tx.Run(ctx, func(ctx context.Context) error {
			var err error
			if n, err = a.MFA.Reset(ctx, u.ID); err != nil {
				return err
			}
			if err := adminEvent(ctx, a, audit.ActionMFADisabled, u.ID, audit.Details{"scope": "all_factors", "by": "cli"}); err != nil {
				return err
			}
			if u.Email == "" {
				return nil
			}
			name := u.GivenName
			if name == "" {
				name = u.Username
			}
			return a.Messages.SendMail(ctx, identity.Mail{Kind: identity.MailMFARemoved, To: u.Email, Name: name})
		})
		if err != nil {
			return err
		}
		fmt.Fprintf(stdout, "Removed %d second factor(s) and the recovery codes of %s.\n", n, u.Username)
		return nil
	})
}

// findUser finds the user a command names by username or e-mail; an
// unknown one is a usage error.
func findUser(ctx context.Context, a *App, login string) (*identity.User, error) {
	u, _, err := a.Identity.Accounts.Users.FindUserByLogin(ctx, login)
	if errors.Is(err, identity.ErrNotFound) {
		return nil, usageError{"no user " + login}
	}
	return u, err
}
