package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"sort"
	"strings"
	"text/tabwriter"
	"time"

	"gatehouse/identity/audit"
)

const auditHelp = `Usage:
  gatehouse audit verify
      Checks the hash chain of the audit trail; exits 1 and names the first
      broken link when an entry was edited, removed or reordered.
  gatehouse audit list [--user ID] [--actor ID] [--action ACTION] [--since RFC3339] [--until RFC3339] [--limit N]
      Lists entries, newest first.
`

func cmdAudit(ctx context.Context, args []string, _ io.Reader, stdout, stderr io.Writer) error {
	if isHelp(args) {
		fmt.Fprint(stdout, auditHelp)
		return nil
	}
	if len(args) == 0 || (args[0] != "verify" && args[0] != "list") {
		return usageError{"want `audit verify` or `audit list` (see audit --help)"}
	}
	fs, cfgPath := newFlags("audit "+args[0]+" [flags]", "Verifies or lists the audit trail.", stdout)
	user := fs.String("user", "", "entries about or by this user ID")
	actor := fs.String("actor", "", "entries by this actor ID")
	action := fs.String("action", "", "entries with this action, e.g. login.failed")
	since := fs.String("since", "", "entries at or after this time (RFC 3339)")
	until := fs.String("until", "", "entries before this time (RFC 3339)")
	limit := fs.Int("limit", 50, "how many entries at most (up to 1000)")
	if _, err := parseInterspersed(fs, args[1:]); err != nil {
		return err
	}
	f := audit.Filter{UserID: *user, ActorID: *actor, Action: *action, Limit: *limit}
	for _, t := range []struct {
		flag, value string
		into        *time.Time
	}{{"--since", *since, &f.Since}, {"--until", *until, &f.Until}} {
		if t.value == "" {
			continue
		}
		v, err := time.Parse(time.RFC3339, t.value)
		if err != nil {
			return usageError{t.flag + " wants an RFC 3339 time such as 2026-01-02T15:04:05Z"}
		}
		*t.into = v
	}
	a, err := openAdmin(ctx, *cfgPath, stderr)
	if err != nil {
		return err
	}
	defer a.Close()
	if args[0] == "verify" {
		rep, err := a.Audit.Verify(ctx)
		if err != nil {
			return err
		}
		if !rep.OK {
			return fmt.Errorf("audit trail broken at entry %d (%s): %s", rep.Seq, rep.Problem, rep.Detail)
		}
		fmt.Fprintf(stdout, "Audit trail intact: %d entries checked from entry %d to the head %d (%s).\n",
			rep.Checked, rep.Checkpoint.Seq, rep.Head.Seq, rep.Head.Hash)
		return nil
	}
	entries, err := a.Audit.List(ctx, f)
	if err != nil {
		return err
	}
	tw := tabwriter.NewWriter(stdout, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "SEQ\tTIME\tACTION\tOUTCOME\tACTOR\tSUBJECT\tIP\tDETAILS")
	for _, e := range entries {
		fmt.Fprintf(tw, "%d\t%s\t%s\t%s\t%s:%s\t%s\t%s\t%s\n", e.Seq, e.Time.UTC().Format(time.RFC3339), e.Action, e.Outcome,
			e.ActorType, e.ActorID, e.Subject, e.IP, formatDetails(e.Details))
	}
	return tw.Flush()
}

func formatDetails(d audit.Details) string {
	keys := make([]string, 0, len(d))
	for k := range d {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	parts := make([]string, 0, len(keys))
	for _, k := range keys {
		parts = append(parts, k+"="+d[k])
	}
	return strings.Join(parts, " ")
}

// adminEvent records something done through the command line.
func adminEvent(ctx context.Context, a *App, action, subject string, details audit.Details) error {
	err := a.Audit.Record(ctx, audit.Entry{ActorType: audit.ActorAdmin, ActorID: "cli", Subject: subject,
		Action: action, Outcome: audit.OutcomeSuccess, Details: details})
	if err != nil {
		return errors.Join(errors.New("the change was made but could not be written to the audit trail"), err)
	}
	return nil
}
