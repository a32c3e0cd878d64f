package main

import (
	"context"
	"net/http"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"gatehouse/identity/access"
	"gatehouse/identity/audit"
	"gatehouse/migrations/dbtest"
	"gatehouse/oidc/console"
)

// auditRowRE finds the seq, action and actor of the viewer's rows.
var auditRowRE = regexp.MustCompile(`<tr><td>(\d+)</td><td>[^<]*</td><td class="audit-action">([^<]*)</td><td>[^<]*</td><td class="audit-actor">([^<]*)</td>`)

type auditRow struct {
	seq           int64
	action, actor string
}

func auditRows(t testing.TB, body string) []auditRow {
	t.Helper()
	var out []auditRow
	for _, m := range auditRowRE.FindAllStringSubmatch(body, -1) {
		seq, _ := strconv.ParseInt(m[1], 10, 64)
		out = append(out, auditRow{seq: seq, action: m[2], actor: m[3]})
	}
	return out
}

// TestConsoleAudit: the audit trail viewer filters by action and actor,
// newest first, pages through with the "older entries" link, refuses a
// bad date in words, and verifies the chain when asked: intact, then
// broken at the entry edited behind its back.
func TestConsoleAudit(t *testing.T) {
	t.Parallel()
	for _, dialect := range dbtest.Dialects {
		t.Run(dialect, func(t *testing.T) {
			t.Parallel()
			ctx := context.Background()
			srv := startServer(t, dialect, nil)
			consoleUser(t, srv, "ada", access.RoleAdmin)
			record := func(actor, action string, n int) {
				t.Helper()
				for i := range n {
					e := audit.Entry{ActorType: audit.ActorAdmin, ActorID: actor, Subject: "subject-" + strconv.Itoa(i), Action: action,
						Outcome: audit.OutcomeSuccess, IP: "192.0.2.7", Details: audit.Details{"n": strconv.Itoa(i)}}
					if err := srv.App.Audit.Record(ctx, e); err != nil {
						t.Fatal(err)
					}
				}
			}
			record("actor-x", "test.bulk", 60)
			record("actor-y", "test.bulk", 2)
			record("actor-y", "test.other", 3)
			b := consoleSignIn(t, srv, "ada", true)

			// By action.
			p, _ := b.get(t, srv.URL+console.PathAudit+"?action=test.other")
			rows := auditRows(t, p.Body)
			if len(rows) != 3 {
				t.Fatalf("action=test.other: %d rows, want 3:\n%s", len(rows), p.Body)
			}
			for i, r := range rows {
				if r.action != "test.other" || r.actor != "admin actor-y" {
					t.Errorf("row %+v under action=test.other", r)
				}
				if i > 0 && r.seq >= rows[i-1].seq {
					t.Errorf("rows not newest first: %+v", rows)
				}
			}
			mustContain(t, p.Body, "n=0", "details")
			mustContain(t, p.Body, "192.0.2.7", "IP")
			if strings.Contains(p.Body, `id="audit-older"`) {
				t.Error("an older-entries link under a short page")
			}

			// By actor and action, over two pages.
			p, _ = b.get(t, srv.URL+console.PathAudit+"?actor=actor-x&action=test.bulk")
			first := auditRows(t, p.Body)
			older := regexpAttr(t, p.Body, "audit-older", "href")
			p, _ = b.get(t, srv.URL+strings.ReplaceAll(older, "&amp;", "&"))
			second := auditRows(t, p.Body)
			if len(first) != 50 || len(second) != 10 {
				t.Fatalf("pages of %d and %d rows, want 50 and 10", len(first), len(second))
			}
			if strings.Contains(p.Body, `id="audit-older"`) {
				t.Error("an older-entries link on the last page")
			}
			all := append(first, second...)
			for i, r := range all {
				if r.actor != "admin actor-x" || r.action != "test.bulk" {
					t.Errorf("row %+v under actor=actor-x", r)
				}
				if i > 0 && r.seq >= all[i-1].seq {
					t.Errorf("row %d (seq %d) not older than the one before (%d)", i, r.seq, all[i-1].seq)
				}
			}
			if !slices.ContainsFunc(second, func(r auditRow) bool { return r.seq < first[len(first)-1].seq }) {
				t.Error("the second page does not go on from the first")
			}

			// Since the future: nothing; a bad date: said by its input.
			future := time.Now().UTC().Add(24 * time.Hour).Format("2006-01-02T15:04")
			if p, _ = b.get(t, srv.URL+console.PathAudit+"?since="+future); len(auditRows(t, p.Body)) != 0 {
				t.Error("entries since tomorrow")
			}
			if p, _ = b.get(t, srv.URL+console.PathAudit+"?until=2999-01-01&action=test.other"); len(auditRows(t, p.Body)) != 3 {
				t.Error("a date alone as until does not filter as a date")
			}
			p, _ = b.get(t, srv.URL+console.PathAudit+"?since=yesterday&before=-4")
			if p.Status != http.StatusOK {
				t.Errorf("bad filters = %d, want 200 with the errors", p.Status)
			}
			mustContain(t, p.Body, `id="since-error"`, "bad since")
			mustContain(t, p.Body, `id="before-error"`, "bad cursor")

			// The chain: not walked unless asked, then intact.
			p, _ = b.get(t, srv.URL+console.PathAudit)
			if strings.Contains(p.Body, `id="chain-status"`) {
				t.Error("the chain verified without being asked")
			}
			p, _ = b.get(t, srv.URL+strings.ReplaceAll(regexpAttr(t, p.Body, "audit-verify", "href"), "&amp;", "&"))
			mustContain(t, p.Body, "The chain is intact", "chain status")
			// An entry edited in the database breaks it there.
			seq := all[5].seq
			if err := srv.App.DB.Gorm().Exec(`UPDATE audit_entries SET action = 'test.edited' WHERE seq = ?`, seq).Error; err != nil {
				t.Fatal(err)
			}
			p, _ = b.get(t, srv.URL+console.PathAudit+"?verify=1")
			mustContain(t, p.Body, "The chain is broken at entry "+strconv.FormatInt(seq, 10)+": hash mismatch", "broken chain")
		})
	}
}
