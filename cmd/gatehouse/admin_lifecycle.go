package main

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"sort"
	"strings"
	"time"

	"github.com/google/uuid"

	"gatehouse/identity"
)

// The `users` subcommands of a user's lifecycle, over identity.UserAdmin
// as the operator: create, show, deactivate, reactivate and delete.

func usersCreate(ctx context.Context, args []string, stdin io.Reader, stdout, stderr io.Writer) error {
	fs, cfgPath := newFlags("users create --username NAME [flags]",
		"Creates a user. The password is read from the first line of standard input,\nso it never appears in the process list or shell history. With --invite no\npassword is read: the user is mailed a single-use link (valid 72 hours) to\nchoose one.", stdout)
	var roles listFlag
	username := fs.String("username", "", "username (required)")
	email := fs.String("email", "", "email address (required with --invite)")
	verified := fs.Bool("email-verified", false, "mark the email address as verified")
	invite := fs.Bool("invite", false, "mail an invitation to set the password instead of reading one")
	fs.Var(&roles, "role", "role to grant, e.g. admin (repeatable)")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if *username == "" {
		return usageError{"--username is required"}
	}
	in := identity.AdminCreateInput{Username: *username, Email: *email, EmailVerified: *verified, Invite: *invite, Roles: roles}
	if !*invite {
		line, err := bufio.NewReader(stdin).ReadString('\n')
		if err != nil && !errors.Is(err, io.EOF) {
			return fmt.Errorf("read password: %w", err)
		}
		in.Password = strings.TrimRight(line, "\r\n")
	}
	a, err := openAdmin(ctx, *cfgPath, stderr)
	if err != nil {
		return err
	}
	defer a.Close()
	u, err := a.Identity.UserAdmin.Create(ctx, identity.OperatorActor, in)
	if errors.Is(err, identity.ErrUnknownRole) {
		return usageError{err.Error() + ": see `gatehouse roles list`"}
	}
	if err := validationUsage("the user was not created", err); err != nil {
		return err
	}
	if *invite {
		fmt.Fprintf(stdout, "Created user %s (%s) and queued an invitation to %s\n", u.Username, u.ID, u.Email)
		return nil
	}
	fmt.Fprintf(stdout, "Created user %s (%s)\n", u.Username, u.ID)
	return nil
}

// validationUsage turns a *identity.ValidationError into a usage error
// listing every field's problem; other errors pass as they are.
func validationUsage(what string, err error) error {
	var ve *identity.ValidationError
	if !errors.As(err, &ve) {
		return err
	}
	fields := make([]string, 0, len(ve.Fields))
	for f := range ve.Fields {
		fields = append(fields, f)
	}
	sort.Strings(fields)
	var b strings.Builder
	for _, f := range fields {
		fmt.Fprintf(&b, "\n  %s: %s", f, ve.Fields[f])
	}
	return usageError{what + ":" + b.String()}
}

// userByLoginOrID runs fn on the user the one positional argument names,
// by username, e-mail address or id.
func userByLoginOrID(ctx context.Context, name, help string, args []string, stdout, stderr io.Writer,
	extra func(fs *flag.FlagSet) *bool,
	fn func(a *App, u *identity.User, flag bool) error) error {
	fs, cfgPath := newFlags("users "+name+" USERNAME|EMAIL|ID [--config FILE]", help, stdout)
	var flag *bool
	if extra != nil {
		flag = extra(fs)
	}
	pos, err := parseInterspersed(fs, args)
	if err != nil {
		return err
	}
	if len(pos) != 1 {
		return usageError{"want exactly one username, e-mail address or user id"}
	}
	a, err := openAdmin(ctx, *cfgPath, stderr)
	if err != nil {
		return err
	}
	defer a.Close()
	var u *identity.User
	if _, perr := uuid.Parse(pos[0]); perr == nil {
		u, err = a.Identity.Accounts.GetUser(ctx, pos[0])
		if errors.Is(err, identity.ErrNotFound) {
			err = usageError{"no user " + pos[0]}
		}
	} else {
		u, err = findUser(ctx, a, pos[0])
	}
	if err != nil {
		return err
	}
	return fn(a, u, flag != nil && *flag)
}

func usersShow(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	return userByLoginOrID(ctx, "show", "Prints the user as JSON (no password or other secret).", args, stdout, stderr, nil,
		func(_ *App, u *identity.User, _ bool) error {
			enc := json.NewEncoder(stdout)
			enc.SetIndent("", "  ")
			return enc.Encode(userJSON(u))
		})
}

func usersDeactivate(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	return userByLoginOrID(ctx, "deactivate", "Disables the user: they can no longer sign in, and every session and token of\ntheirs ends (clients with back-channel logout are told).", args, stdout, stderr, nil,
		func(a *App, u *identity.User, _ bool) error {
			if err := loadSigningKeys(ctx, a); err != nil {
				return err
			}
			if _, err := a.Identity.UserAdmin.Deactivate(ctx, identity.OperatorActor, u.ID); err != nil {
				return roleUsage(err)
			}
			fmt.Fprintf(stdout, "Deactivated %s and ended their sessions.\n", u.Username)
			return nil
		})
}

func usersReactivate(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	return userByLoginOrID(ctx, "reactivate", "Lets a deactivated user sign in again.", args, stdout, stderr, nil,
		func(a *App, u *identity.User, _ bool) error {
			if _, err := a.Identity.UserAdmin.Reactivate(ctx, identity.OperatorActor, u.ID); err != nil {
				return err
			}
			fmt.Fprintf(stdout, "Reactivated %s.\n", u.Username)
			return nil
		})
}

func usersDelete(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	yesFlag := func(fs *flag.FlagSet) *bool {
		return fs.Bool("yes", false, "confirm the deletion (required; nothing asks again)")
	}
	return userByLoginOrID(ctx, "delete", "Deletes the user and everything that hangs on it: sessions and tokens (clients\nwith back-channel logout are told), second factors, consents. It cannot be\nundone; pass --yes.", args, stdout, stderr, yesFlag,
		func(a *App, u *identity.User, yes bool) error {
			if !yes {
				return usageError{"deleting a user cannot be undone: pass --yes to confirm"}
			}
			if err := loadSigningKeys(ctx, a); err != nil {
				return err
			}
			if err := a.Identity.UserAdmin.Delete(ctx, identity.OperatorActor, u.ID); err != nil {
				return roleUsage(err)
			}
			fmt.Fprintf(stdout, "Deleted %s (%s).\n", u.Username, u.ID)
			return nil
		})
}

// loadSigningKeys readies the signing keys, which the command line does
// not load otherwise: ending a user's sessions signs the logout tokens of
// back-channel logout.
func loadSigningKeys(ctx context.Context, a *App) error {
	if err := a.Keys.Load(ctx); err != nil {
		return fmt.Errorf("load signing keys: %w", err)
	}
	return nil
}

// userView is a user as `users show` prints it, with the claims' names.
type userView struct {
	ID                  string          `json:"id"`
	Username            string          `json:"username"`
	Email               string          `json:"email,omitempty"`
	EmailVerified       bool            `json:"email_verified"`
	PhoneNumber         string          `json:"phone_number,omitempty"`
	PhoneNumberVerified bool            `json:"phone_number_verified"`
	GivenName           string          `json:"given_name,omitempty"`
	FamilyName          string          `json:"family_name,omitempty"`
	MiddleName          string          `json:"middle_name,omitempty"`
	Nickname            string          `json:"nickname,omitempty"`
	Picture             string          `json:"picture,omitempty"`
	Website             string          `json:"website,omitempty"`
	Gender              string          `json:"gender,omitempty"`
	Birthdate           string          `json:"birthdate,omitempty"`
	Locale              string          `json:"locale,omitempty"`
	Zoneinfo            string          `json:"zoneinfo,omitempty"`
	Address             *addressView    `json:"address,omitempty"`
	Roles               []string        `json:"roles"`
	Status              identity.Status `json:"status"`
	CreatedAt           time.Time       `json:"created_at"`
	UpdatedAt           time.Time       `json:"updated_at"`
	LastLoginAt         *time.Time      `json:"last_login_at,omitempty"`
	LockedUntil         *time.Time      `json:"locked_until,omitempty"`
	LockedPermanently   bool            `json:"locked_permanently"`
}

type addressView struct {
	Formatted     string `json:"formatted,omitempty"`
	StreetAddress string `json:"street_address,omitempty"`
	Locality      string `json:"locality,omitempty"`
	Region        string `json:"region,omitempty"`
	PostalCode    string `json:"postal_code,omitempty"`
	Country       string `json:"country,omitempty"`
}

func userJSON(u *identity.User) userView {
	v := userView{
		ID: u.ID, Username: u.Username, Email: u.Email, EmailVerified: u.EmailVerified,
		PhoneNumber: u.Phone, PhoneNumberVerified: u.PhoneVerified, GivenName: u.GivenName, FamilyName: u.FamilyName,
		MiddleName: u.MiddleName, Nickname: u.Nickname, Picture: u.Picture, Website: u.Website, Gender: u.Gender,
		Birthdate: u.Birthdate, Locale: u.Locale, Zoneinfo: u.Zoneinfo, Roles: u.Roles, Status: u.Status,
		CreatedAt: u.CreatedAt, UpdatedAt: u.UpdatedAt, LastLoginAt: u.LastLoginAt, LockedUntil: u.LockedUntil,
		LockedPermanently: u.LockedPermanently,
	}
	if v.Roles == nil {
		v.Roles = []string{}
	}
	if a := u.Address; !a.IsZero() {
		v.Address = &addressView{Formatted: a.Formatted, StreetAddress: a.StreetAddress, Locality: a.Locality,
			Region: a.Region, PostalCode: a.PostalCode, Country: a.Country}
	}
	return v
}
