package main

import (
	"context"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"golang.org/x/oauth2"

	"gatehouse/federation"
	fedsql "gatehouse/federation/sqlstore"
	"gatehouse/identity/audit"
	identitysql "gatehouse/identity/sqlstore"
	"gatehouse/migrations/dbtest"
)

// TestAccountUnlink: the security section lists the user's linked
// accounts; Unlink removes one, with an audit entry and a mail to the
// owner; a post without the CSRF token removes nothing; the last way to
// sign in is refused with a message and kept.
func TestAccountUnlink(t *testing.T) {
	t.Parallel()
	for _, dialect := range dbtest.Dialects {
		t.Run(dialect, func(t *testing.T) {
			t.Parallel()
			ctx := context.Background()
			mb := startMailbox(t)
			srv := startServer(t, dialect, withDelivery(mb, nil, false))
			m := newMFAClient(t, srv)
			user := srv.createUser(t, "ada", testUserPassword)
			links := fedsql.NewLinkStore(srv.App.DB.Gorm())
			at := time.Date(2031, 5, 6, 7, 8, 9, 0, time.UTC)
			for _, c := range []string{"corp", "lab"} {
				if err := links.CreateLink(ctx, federation.Link{ConnectorID: c, Subject: "ada-" + c, UserID: user.ID, CreatedAt: at, LastLoginAt: at}); err != nil {
					t.Fatal(err)
				}
			}
			b := newBrowser(t, rpCallback)
			signIn(t, b, m.authURL(oauth2.GenerateVerifier()), "ada", false)

			p, _ := b.get(t, srv.URL+"/account?section=security")
			mustContain(t, p.Body, `<h2 id="links-heading">Linked accounts</h2>`, "linked accounts heading")
			mustContain(t, p.Body, "Linked 6 May 2031", "date linked")
			mustContain(t, p.Body, `aria-label="Unlink corp"`, "the unlink button's name")

			// Without the CSRF token: refused, nothing removed.
			_, resp := b.post(t, srv.URL+"/account/links/remove", url.Values{"connector": {"corp"}})
			if resp.StatusCode != http.StatusForbidden {
				t.Errorf("unlink without CSRF token answered %d, want 403", resp.StatusCode)
			}
			if ls, err := links.UserLinks(ctx, user.ID); err != nil || len(ls) != 2 {
				t.Fatalf("links after a CSRF-less post = %v, %v; want both", ls, err)
			}

			p, _ = b.submit(t, p, "link-remove-corp", nil)
			mustContain(t, p.Body, "The account has been unlinked", "unlink notice")
			if strings.Contains(p.Body, `id="link-corp"`) {
				t.Error("the unlinked account is still listed")
			}
			if ls, err := links.UserLinks(ctx, user.ID); err != nil || len(ls) != 1 || ls[0].ConnectorID != "lab" {
				t.Fatalf("links after unlinking corp = %v, %v; want [lab]", ls, err)
			}
			entries, err := srv.App.Audit.List(ctx, audit.Filter{UserID: user.ID, Action: audit.ActionFederationUnlinked})
			if err != nil || len(entries) != 1 || entries[0].Details["connector_id"] != "corp" || entries[0].ActorID != user.ID {
				t.Errorf("federation.unlinked audit entries = %+v, %v; want one for corp by the user", entries, err)
			}
			if got := mb.next(t, "ada@example.com"); !strings.Contains(got.Subject, "a linked account was removed") ||
				!strings.Contains(got.Text, "no longer linked to your corp account") {
				t.Errorf("unlink notice: %q\n%s", got.Subject, got.Text)
			}

			// Without a password or a passkey, the last link stays.
			if err := identitysql.NewUserStore(srv.App.DB.Gorm()).SetPasswordHash(ctx, user.ID, ""); err != nil {
				t.Fatal(err)
			}
			p, _ = b.submit(t, p, "link-remove-lab", nil)
			if p.Status != http.StatusConflict {
				t.Errorf("unlinking the last way to sign in answered %d, want 409", p.Status)
			}
			mustContain(t, p.Body, "it is your only way to sign in", "refusal message")
			if ls, err := links.UserLinks(ctx, user.ID); err != nil || len(ls) != 1 {
				t.Errorf("links after the refusal = %v, %v; want [lab]", ls, err)
			}
		})
	}
}
