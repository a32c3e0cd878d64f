package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"maps"
	"slices"
	"strings"
	"text/tabwriter"
	"time"

	"gatehouse/identity"
	identitysql "gatehouse/identity/sqlstore"
)

// usersSearch runs `users list` (no filters) and `users search`: one page
// of users as a table, then the cursor of the next page, if any.
func usersSearch(ctx context.Context, sub string, args []string, stdout, stderr io.Writer) error {
	fs, cfgPath := newFlags("users "+sub+" [flags]",
		"Lists users one page at a time, newest last unless --desc. Pass the\nprinted next cursor back with --cursor for the following page.", stdout)
	var q identity.UserQuery
	if sub == "search" {
		fs.StringVar(&q.Q, "q", "", "substring of username, e-mail, given or family name or phone (any case, at least 3 characters)")
		fs.StringVar(&q.Email, "email", "", "e-mail address prefix (any case)")
		fs.StringVar(&q.Role, "role", "", "only users holding this role")
		fs.Func("status", "active or disabled", func(s string) error { q.Status = identity.Status(s); return nil })
	}
	fs.Func("sort", "created, last_login, username or email (default created)", func(s string) error { q.Sort = identity.UserSort(s); return nil })
	fs.BoolVar(&q.Descending, "desc", false, "sort in descending order")
	fs.IntVar(&q.Limit, "limit", identity.DefaultSearchLimit, "users per page, 1 to 500")
	fs.StringVar(&q.Cursor, "cursor", "", "next cursor printed by the previous page")
	pos, err := parseInterspersed(fs, args)
	if err != nil {
		return err
	}
	if len(pos) != 0 {
		return usageError{fmt.Sprintf("`users %s` takes flags only, not %q", sub, pos[0])}
	}
	if q.Limit == 0 {
		// The flag's 0 is a choice, not "unset": refuse it as the store would not.
		return usageError{"--limit: choose a limit from 1 to 500"}
	}
	a, err := openAdmin(ctx, *cfgPath, stderr)
	if err != nil {
		return err
	}
	defer a.Close()
	page, err := identitysql.NewUserStore(a.DB.Gorm()).SearchUsers(ctx, q)
	var ve *identity.ValidationError
	if errors.As(err, &ve) {
		var b strings.Builder
		for _, field := range slices.Sorted(maps.Keys(ve.Fields)) {
			fmt.Fprintf(&b, "\n  --%s: %s", field, ve.Fields[field])
		}
		return usageError{"invalid search:" + b.String()}
	}
	if err != nil {
		return err
	}
	return printUserPage(stdout, page)
}

// printUserPage writes page as a table and the next cursor.
func printUserPage(w io.Writer, page identity.UserPage) error {
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "ID\tUSERNAME\tEMAIL\tNAME\tSTATUS\tROLES\tCREATED\tLAST LOGIN")
	for _, u := range page.Users {
		last := "never"
		if u.LastLoginAt != nil {
			last = u.LastLoginAt.UTC().Format(time.RFC3339)
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n", u.ID, u.Username, dash(u.Email), dash(u.Name()),
			u.Status, dash(strings.Join(u.Roles, ",")), u.CreatedAt.UTC().Format(time.RFC3339), last)
	}
	if err := tw.Flush(); err != nil {
		return err
	}
	if page.NextCursor != "" {
		fmt.Fprintf(w, "next cursor: %s\n", page.NextCursor)
	} else {
		fmt.Fprintln(w, "(last page)")
	}
	return nil
}

func dash(s string) string {
	if s == "" {
		return "-"
	}
	return s
}
