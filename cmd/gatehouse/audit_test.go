package main

import (
	"strings"
	"testing"

	"golang.org/x/oauth2"

	"gatehouse/migrations/dbtest"
)

// TestAuditTrail: logins, failures, consent and logout land in the audit
// trail; `audit verify` vouches for it until a row is edited behind its
// back, and then names the entry.
func TestAuditTrail(t *testing.T) {
	t.Parallel()
	for _, dialect := range dbtest.Dialects {
		t.Run(dialect, func(t *testing.T) {
			srv := startServer(t, dialect, nil)
			user := srv.createUser(t, "olga", testUserPassword)
			id, secret := srv.createClient(t, "--name", "Audited", "--redirect-uri", rpCallback)
			rp := newRelyingParty(t, srv.URL, id, secret)
			b := newBrowser(t, "http://127.0.0.1:9/")
			p, _ := b.get(t, srv.URL+"/login")
			b.submit(t, p, "login-submit", map[string]string{"login": "olga", "password": "not her password"})
			signIn(t, b, rp.OAuth.AuthCodeURL("state-0123456789", oauth2.S256ChallengeOption(oauth2.GenerateVerifier())), "olga", true)
			p, _ = b.get(t, srv.URL+"/account?section=security")
			mustContain(t, p.Body, `id="security-events"`, "security activity")
			mustContain(t, p.Body, "Signed in", "security activity")
			p, _ = b.get(t, srv.URL+"/oauth2/logout")
			b.submit(t, p, "logout-submit", nil)

			out, code := srv.cli(t, "", "audit", "list", "--user", user.ID)
			if code != 0 {
				t.Fatalf("audit list: %d %s", code, out)
			}
			for _, action := range []string{"login.succeeded", "consent.granted", "logout"} {
				mustContain(t, out, action, "audit list --user")
			}
			out, _ = srv.cli(t, "", "audit", "list", "--action", "login.failed")
			if !strings.Contains(out, "reason=bad_credentials") || strings.Contains(out, "not her password") {
				t.Errorf("failed login entry wrong or leaks the password:\n%s", out)
			}
			if out, code := srv.cli(t, "", "audit", "verify"); code != 0 || !strings.Contains(out, "intact") {
				t.Fatalf("audit verify on an untouched trail: %d %s", code, out)
			}
			if err := srv.App.DB.Gorm().Exec(`UPDATE audit_entries SET outcome = 'failure' WHERE action = 'login.succeeded'`).Error; err != nil {
				t.Fatal(err)
			}
			out, code = srv.cli(t, "", "audit", "verify")
			if code != 1 || !strings.Contains(out, "broken at entry") {
				t.Errorf("audit verify after tampering: %d %s", code, out)
			}
		})
	}
}
