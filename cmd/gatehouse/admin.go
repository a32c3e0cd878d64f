package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"strings"
	"text/tabwriter"
	"time"

	"gatehouse/identity"
	"gatehouse/identity/audit"
	"gatehouse/oidc"
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
