package message_test

import (
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"

	"gorm.io/gorm"

	"gatehouse/identity/egress"
	"gatehouse/identity/message"
	"gatehouse/migrations/dbtest"
)

// TestLogoutToInternalDestinationNotPosted: a logout token queued for a
// backchannel_logout_uri on a loopback address (a client registered to
// make the server post into its own network) is never posted under the
// strict outbound policy. The refusal is final, not retried, and the log
// does not carry the token.
func TestLogoutToInternalDestinationNotPosted(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, db *gorm.DB) {
		var hits atomic.Int32
		inside := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { hits.Add(1) }))
		defer inside.Close()
		for name, sender := range map[string]message.LogoutSender{
			"default sender": nil,
			"strict client":  &message.HTTPLogoutSender{Client: egress.New(egress.Options{})},
		} {
			t.Run(name, func(t *testing.T) {
				db.Exec("DELETE FROM outbound_messages")
				clk := newClock()
				q, w, _, _ := newTestQueue(t, db, clk)
				w.Logout = sender
				log, buf := newTestLogger()
				w.Logger = log
				var outcomes []string
				w.Observe = func(kind, outcome string) { outcomes = append(outcomes, kind+" "+outcome) }
				if err := q.SendLogout(t.Context(), inside.URL+"/backchannel", "SECRET-LOGOUT-TOKEN"); err != nil {
					t.Fatal(err)
				}
				mustDeliver(t, w, 0, 1)
				if n := hits.Load(); n != 0 {
					t.Fatalf("the loopback server received %d requests", n)
				}
				r := mustOneRow(t, db)
				if r.Status != "failed" || r.Attempts != 1 || r.BodyText != "" {
					t.Errorf("row status %q attempts %d body %q, want failed after 1 attempt, body cleared", r.Status, r.Attempts, r.BodyText)
				}
				if !strings.Contains(r.LastError, "forbidden destination") {
					t.Errorf("last_error = %q, want it to name the forbidden destination", r.LastError)
				}
				if len(outcomes) != 1 || outcomes[0] != "logout failed" {
					t.Errorf("outcomes = %v, want [logout failed]", outcomes)
				}
				if strings.Contains(buf.String(), "SECRET-LOGOUT-TOKEN") {
					t.Errorf("the log shows the logout token: %s", buf)
				}
			})
		}
	})
}
