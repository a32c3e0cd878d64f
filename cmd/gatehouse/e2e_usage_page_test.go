package main

import (
	"context"
	"net/http"
	"strings"
	"testing"

	"gatehouse/migrations/dbtest"
)

// TestUsagePageAccess: the usage dashboard and its CSV open to managers
// and admins, answer 403 to a plain user and send nobody to sign in; the
// figures a manager sees come from real sign-ins, counted by the worker.
func TestUsagePageAccess(t *testing.T) {
	t.Parallel()
	for _, dialect := range dbtest.Dialects {
		t.Run(dialect, func(t *testing.T) {
			srv := startServer(t, dialect, nil)
			consoleUser(t, srv, "uma", "manager")
			consoleUser(t, srv, "ada", "admin")
			consoleUser(t, srv, "pat")
			for _, who := range []string{"uma", "ada"} {
				b := consoleSignIn(t, srv, who, false)
				// Count the sign-ins so far, as the worker does every ten
				// seconds.
				srv.App.Usage.Worker.Step(context.Background())
				p, _ := b.get(t, srv.URL+"/admin/usage?period=7")
				if p.Status != http.StatusOK {
					t.Fatalf("%s: /admin/usage answered %d", who, p.Status)
				}
				mustContain(t, p.Body, `role="img"`, "usage charts")
				mustContain(t, p.Body, "<table", "usage tables")
				_, resp := b.get(t, srv.URL+"/admin/usage.csv?period=7")
				if resp.StatusCode != http.StatusOK || !strings.HasPrefix(resp.Header.Get("Content-Type"), "text/csv") {
					t.Fatalf("%s: CSV answered %d %q", who, resp.StatusCode, resp.Header.Get("Content-Type"))
				}
				if resp.Header.Get("Cache-Control") != "no-store" {
					t.Errorf("%s: CSV Cache-Control %q", who, resp.Header.Get("Cache-Control"))
				}
			}
			p, _ := consoleSignIn(t, srv, "pat", false).get(t, srv.URL+"/admin/usage")
			if p.Status != http.StatusForbidden {
				t.Errorf("a plain user got %d from /admin/usage", p.Status)
			}
			_, resp := newBrowser(t, "").get(t, srv.URL+"/admin/usage.csv")
			if resp.StatusCode != http.StatusSeeOther || !strings.HasPrefix(resp.Header.Get("Location"), "/login") {
				t.Errorf("nobody got %d %q from the CSV", resp.StatusCode, resp.Header.Get("Location"))
			}
		})
	}
}
