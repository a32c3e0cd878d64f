package message_test

import (
	"net/http"
	"net/http/httptest"
	"sync"
	"testing"

	"gorm.io/gorm"

	"gatehouse/identity/egress"
	"gatehouse/identity/message"
	"gatehouse/migrations/dbtest"
)

// TestLogoutDelivery: a queued logout token is posted form-encoded to the
// RP; a 400 answer fails it at once, a 503 is retried.
func TestLogoutDelivery(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, db *gorm.DB) {
		var mu sync.Mutex
		var got []string
		status := map[string]int{"/ok": 200, "/reject": 400, "/busy": 503}
		rp := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			if r.Header.Get("Content-Type") != "application/x-www-form-urlencoded" {
				http.Error(w, "want a form", http.StatusUnsupportedMediaType)
				return
			}
			mu.Lock()
			got = append(got, r.URL.Path+" "+r.PostFormValue("logout_token"))
			mu.Unlock()
			w.WriteHeader(status[r.URL.Path])
		}))
		defer rp.Close()
		clk := newClock()
		q, w, _, _ := newTestQueue(t, db, clk)
		// The test RP listens on loopback.
		w.Logout = &message.HTTPLogoutSender{Client: egress.New(egress.Options{Policy: egress.Policy{AllowPrivateNetworks: true}})}
		var outcomes []string
		w.Observe = func(kind, outcome string) { outcomes = append(outcomes, kind+" "+outcome) }
		for _, path := range []string{"/ok", "/reject", "/busy"} {
			if err := q.SendLogout(t.Context(), rp.URL+path, "token-for"+path); err != nil {
				t.Fatal(err)
			}
		}
		if err := q.SendLogout(t.Context(), "ftp://x", "t"); err == nil {
			t.Error("a non-http URI was queued")
		}
		mustDeliver(t, w, 1, 2)
		if len(got) != 3 || len(outcomes) != 3 {
			t.Fatalf("RP saw %v; outcomes %v", got, outcomes)
		}
		for _, want := range []string{"logout sent", "logout failed", "logout retry"} {
			found := false
			for _, o := range outcomes {
				found = found || o == want
			}
			if !found {
				t.Errorf("outcomes %v lack %q", outcomes, want)
			}
		}
	})
}
