package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"strings"
	"text/tabwriter"

	"gatehouse/identity"
	"gatehouse/identity/access"
)

const rolesHelp = `Usage:
  gatehouse roles list
      Lists the built-in roles (user, manager, admin) and the custom ones
      with their permissions.
  gatehouse roles create NAME --permission P [--permission P]... [--description TEXT]
      Creates a custom role. Permissions: users:read, users:write,
      users:admin, clients:read, clients:write, audit:read, usage:read.
  gatehouse roles delete NAME
      Deletes a custom role that no user holds.
  gatehouse users set-roles USERNAME|EMAIL [ROLE]...
      Replaces the user's roles (none clears them). Tokens issued from
      then on carry the new roles; tokens already issued keep the old.
`

// The command line acts as a trusted operator (identity.OperatorActor):
// whoever runs it holds the configuration and the database anyway.

func cmdRoles(ctx context.Context, args []string, _ io.Reader, stdout, stderr io.Writer) error {
	if len(args) == 0 || isHelp(args) {
		fmt.Fprint(stdout, rolesHelp)
		if len(args) == 0 {
			return usageError{"want `roles list`, `roles create NAME --permission P...` or `roles delete NAME`"}
		}
		return nil
	}
	switch args[0] {
	case "list":
		return rolesList(ctx, args[1:], stdout, stderr)
	case "create":
		return rolesCreate(ctx, args[1:], stdout, stderr)
	case "delete":
		return rolesDelete(ctx, args[1:], stdout, stderr)
	}
	return usageError{fmt.Sprintf("unknown subcommand %q: want list, create or delete", args[0])}
}

func rolesList(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs, cfgPath := newFlags("roles list [--config FILE]", "Lists the roles and their permissions.", stdout)
	pos, err := parseInterspersed(fs, args)
	if err != nil {
		return err
	}
	if len(pos) != 0 {
		return usageError{"roles list takes no arguments"}
	}
	a, err := openAdmin(ctx, *cfgPath, stderr)
	if err != nil {
		return err
	}
	defer a.Close()
	roles, err := a.Identity.Roles.ListRoles(ctx)
	if err != nil {
		return err
	}
	tw := tabwriter.NewWriter(stdout, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "NAME\tKIND\tPERMISSIONS\tDESCRIPTION")
	for _, r := range roles {
		kind := "custom"
		if r.BuiltIn {
			kind = "built-in"
		}
		perms := "-"
		if len(r.Permissions) > 0 {
			perms = joinPerms(r.Permissions)
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\n", r.Name, kind, perms, r.Description)
	}
	return tw.Flush()
}

func rolesCreate(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs, cfgPath := newFlags("roles create NAME --permission P... [--description TEXT] [--config FILE]",
		"Creates a custom role.", stdout)
	var perms listFlag
	fs.Var(&perms, "permission", "permission to grant, e.g. users:read (repeatable)")
	description := fs.String("description", "", "what the role is for")
	pos, err := parseInterspersed(fs, args)
	if err != nil {
		return err
	}
	if len(pos) != 1 {
		return usageError{"want exactly one role name"}
	}
	r := access.Role{Name: pos[0], Description: *description}
	for _, p := range perms {
		r.Permissions = append(r.Permissions, access.Permission(p))
	}
	a, err := openAdmin(ctx, *cfgPath, stderr)
	if err != nil {
		return err
	}
	defer a.Close()
	r, err = a.Identity.Roles.CreateRole(ctx, identity.OperatorActor, r)
	if err != nil {
		return roleUsage(err)
	}
	fmt.Fprintf(stdout, "Created role %s (%s)\n", r.Name, joinPerms(r.Permissions))
	return nil
}

func rolesDelete(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs, cfgPath := newFlags("roles delete NAME [--config FILE]", "Deletes a custom role that no user holds.", stdout)
	pos, err := parseInterspersed(fs, args)
	if err != nil {
		return err
	}
	if len(pos) != 1 {
		return usageError{"want exactly one role name"}
	}
	a, err := openAdmin(ctx, *cfgPath, stderr)
	if err != nil {
		return err
	}
	defer a.Close()
	if err := a.Identity.Roles.DeleteRole(ctx, identity.OperatorActor, pos[0]); err != nil {
		return roleUsage(err)
	}
	fmt.Fprintf(stdout, "Deleted role %s\n", pos[0])
	return nil
}

func usersSetRoles(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs, cfgPath := newFlags("users set-roles USERNAME|EMAIL [ROLE]... [--config FILE]",
		"Replaces the user's roles; none clears them.", stdout)
	pos, err := parseInterspersed(fs, args)
	if err != nil {
		return err
	}
	if len(pos) < 1 {
		return usageError{"want a username or e-mail address, then the roles"}
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
	old := strings.Join(u.Roles, " ")
	u, err = a.Identity.Roles.SetRoles(ctx, identity.OperatorActor, u.ID, pos[1:])
	if err != nil {
		return roleUsage(err)
	}
	fmt.Fprintf(stdout, "Roles of %s: %s (were: %s)\n", u.Username, rolesOrNone(strings.Join(u.Roles, " ")), rolesOrNone(old))
	return nil
}

// roleUsage turns the refusals of identity.Roles into usage errors that
// say what to do; other errors pass as they are.
func roleUsage(err error) error {
	var last *identity.LastAdminError
	var inUse *identity.RoleInUseError
	switch {
	case errors.As(err, &last):
		return usageError{"refused: this is the last active user holding users:admin; grant admin to someone else first"}
	case errors.As(err, &inUse):
		return usageError{fmt.Sprintf("refused: role %s is held by %d user(s); take it from them with `users set-roles` first", inUse.Role, inUse.Holders)}
	case errors.Is(err, identity.ErrUnknownRole), errors.Is(err, identity.ErrRoleExists), errors.Is(err, identity.ErrNotFound),
		errors.Is(err, access.ErrInvalidName), errors.Is(err, access.ErrBuiltIn), errors.Is(err, access.ErrUnknownPermission):
		return usageError{err.Error()}
	}
	return err
}

func joinPerms(ps []access.Permission) string {
	s := make([]string, len(ps))
	for i, p := range ps {
		s[i] = string(p)
	}
	return strings.Join(s, ",")
}

func rolesOrNone(s string) string {
	if s == "" {
		return "none"
	}
	return s
}
