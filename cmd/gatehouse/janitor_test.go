package main

import (
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
	"time"

	"gatehouse/identity/message"
	"gatehouse/migrations/dbtest"
	"gatehouse/oidc/authflow"
)

// TestJanitorKeepsGoingPastABrokenTable: with one table broken (dropped
// here), the purge still empties the expired rows of the tables after it,
// returns that table's error, and the metrics count each table's rows and
// the broken table's error.
func TestJanitorKeepsGoingPastABrokenTable(t *testing.T) {
	for _, dialect := range dbtest.Dialects {
		t.Run(dialect, func(t *testing.T) {
			a := openUnitOfWork(t, dialect)
			a.Metrics = newMetrics()
			ctx := t.Context()
			now := time.Now().UTC()
			past := now.Add(-time.Hour)
			for _, id := range []string{"flow-1", "flow-2"} {
				if err := a.Store.Flows.CreateFlow(ctx, &authflow.Flow{ID: id, ClientID: "app", Form: url.Values{}, RequestedAt: past,
					Version: 1, ExpiresAt: past}); err != nil {
					t.Fatal(err)
				}
			}
			if err := a.Store.Tokens.SetClientAssertionJWT(ctx, "jti-1", past); err != nil {
				t.Fatal(err)
			}
			old := now.Add(-message.DefaultRetention - time.Hour)
			for _, id := range []string{"m1", "m2", "m3"} {
				if err := a.Messages.Store.Enqueue(ctx, message.Message{ID: id, Kind: "sms", To: "+14155550100",
					Text: "x", CreatedAt: old}); err != nil {
					t.Fatal(err)
				}
			}
			// Two delivered, one still queued: queued ones are never purged.
			if err := a.DB.Gorm().Exec(`UPDATE outbound_messages SET status = 'sent' WHERE id IN ('m1', 'm2')`).Error; err != nil {
				t.Fatal(err)
			}
			if err := a.DB.Gorm().Exec(`DROP TABLE captcha_spent_challenges`).Error; err != nil {
				t.Fatal(err)
			}

			n, err := a.purge(ctx, now)
			if err == nil || !strings.Contains(err.Error(), "captcha_spent_challenges") {
				t.Errorf("purge error = %v, want the broken table's", err)
			}
			if n != 5 {
				t.Errorf("purge deleted %d rows, want 5 (2 flows, 1 JTI, 2 messages)", n)
			}
			for table, want := range map[string]int{"login_flows": 0, "oauth_jtis": 0, "outbound_messages": 1} {
				if got := countRows(t, a, table); got != want {
					t.Errorf("%s has %d rows after the purge, want %d", table, got, want)
				}
			}
			rec := httptest.NewRecorder()
			a.Metrics.handler().ServeHTTP(rec, httptest.NewRequest("GET", "/metrics", nil))
			for _, line := range []string{
				`gatehouse_janitor_deleted_rows_total{table="login_flows"} 2`,
				`gatehouse_janitor_deleted_rows_total{table="oauth_jtis"} 1`,
				`gatehouse_janitor_deleted_rows_total{table="outbound_messages"} 2`,
				`gatehouse_janitor_deleted_rows_total{table="oauth_requests"} 0`,
				`gatehouse_janitor_errors_total{table="captcha_spent_challenges"} 1`,
			} {
				if !strings.Contains(rec.Body.String(), line+"\n") {
					t.Errorf("metrics lack %s", line)
				}
			}
			if strings.Contains(rec.Body.String(), `gatehouse_janitor_errors_total{table="outbound_messages"}`) {
				t.Error("an error counted for a table that was purged")
			}
		})
	}
}
