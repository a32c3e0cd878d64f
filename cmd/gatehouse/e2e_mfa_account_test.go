package main

import (
	"net/http"
	"strings"
	"testing"

	"golang.org/x/oauth2"

	"gatehouse/migrations/dbtest"
)

// TestMFAAccountList: the security section lists the user's
// authenticator app and the recovery codes left, and a user without a
// factor sees no such list.
func TestMFAAccountList(t *testing.T) {
	t.Parallel()
	for _, dialect := range dbtest.Dialects {
		t.Run(dialect, func(t *testing.T) {
			t.Parallel()
			srv := startServer(t, dialect, nil)
			m := newMFAClient(t, srv)
			srv.createUser(t, "ada", testUserPassword)
			b := newBrowser(t, rpCallback)
			signIn(t, b, m.authURL(oauth2.GenerateVerifier()), "ada", false)

			p, _ := b.get(t, srv.URL+"/account?section=security")
			if p.Status != http.StatusOK {
				t.Fatalf("security section answered %d", p.Status)
			}
			if strings.Contains(p.Body, `id="mfa-factors"`) {
				t.Errorf("a user without a factor sees a factor list:\n%s", p.Body)
			}

			enrolTOTP(t, srv, b)
			p, _ = b.get(t, srv.URL+"/account?section=security")
			mustContain(t, p.Body, `id="mfa-factors"`, "factor list")
			mustContain(t, p.Body, "<td>Authenticator app</td>", "factor type")
			mustContain(t, p.Body, "Recovery codes left: 10", "recovery code count")
		})
	}
}
