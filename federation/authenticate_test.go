package federation_test

import (
	"context"
	"errors"
	"slices"
	"testing"
	"time"

	"gorm.io/gorm"

	"gatehouse/federation"
	"gatehouse/federation/ldap"
	"gatehouse/federation/ldap/ldaptest"
	fedstore "gatehouse/federation/sqlstore"
	"gatehouse/identity"
	idstore "gatehouse/identity/sqlstore"
	"gatehouse/migrations/dbtest"
	"gatehouse/migrations/dbtx"
)

var fastParams = identity.HashParams{Memory: 64, Iterations: 1, Parallelism: 1}

// fixture is the sign-in of a server with one LDAP connector, on a real
// database and a real slapd.
type fixture struct {
	auth  *federation.Authenticator
	users *idstore.UserStore
	links *fedstore.LinkStore
	srv   *ldaptest.Server
	conn  *ldap.Connector
}

func newFixture(t *testing.T, db *gorm.DB, trust bool) *fixture {
	t.Helper()
	srv := ldaptest.Start(t, "")
	conn, err := ldap.Config{
		ID: "corp", Name: "Corporate directory", URL: srv.URL, StartTLS: true, CAFile: srv.CAFile,
		BindDN: ldaptest.ReaderDN, BindPassword: ldaptest.ReaderPW, UserBaseDN: ldaptest.PeopleDN,
		UserFilter:  "(&(objectClass=inetOrgPerson)(uid={username})(!(description=disabled)))",
		GroupBaseDN: ldaptest.GroupsDN, RoleRules: []ldap.RoleRule{{Group: "admins", Role: "admin"}, {Group: "staff", Role: "manager"}},
		TrustEmail: trust, Timeout: 2 * time.Second,
	}.Open(nil)
	if err != nil {
		t.Fatal(err)
	}
	users, links := idstore.NewUserStore(db), fedstore.NewLinkStore(db)
	core := &identity.Core{Hasher: identity.NewHasher(fastParams, nil), Tx: dbtx.New(db),
		Sleep: func(context.Context, time.Duration) {}}
	local := &identity.Authenticator{Core: core, Users: users, Lockout: identity.LockoutPolicy{MaxFailures: 3}}
	return &fixture{
		auth: &federation.Authenticator{Authenticator: local, Connectors: []federation.PasswordConnector{conn}, Links: links,
			Broker: &federation.Broker{Users: users, Links: links, Tx: dbtx.New(db)}},
		users: users, links: links, srv: srv, conn: conn,
	}
}

// localUser creates a local account with a password.
func (f *fixture) localUser(t *testing.T, username, email, password string) *identity.User {
	t.Helper()
	hash, err := f.auth.Hasher.Hash(t.Context(), password)
	if err != nil {
		t.Fatal(err)
	}
	now := time.Now().UTC()
	u := &identity.User{ID: newID(t), Username: username, Email: email,
		Status: identity.StatusActive, CreatedAt: now, UpdatedAt: now}
	if err := f.users.CreateUser(t.Context(), u, hash); err != nil {
		t.Fatal(err)
	}
	return u
}

func (f *fixture) mustSignIn(t *testing.T, login, password string) *identity.User {
	t.Helper()
	u, ok, err := f.auth.Authenticate(t.Context(), login, password)
	if err != nil || !ok {
		t.Fatalf("Authenticate(%q) = %v, %v; want signed in", login, ok, err)
	}
	return u
}

func (f *fixture) mustRefuse(t *testing.T, login, password string) {
	t.Helper()
	if u, ok, err := f.auth.Authenticate(t.Context(), login, password); ok || err != nil || u != nil {
		t.Fatalf("Authenticate(%q) = %v, %v, %v; want refused as a wrong password", login, u, ok, err)
	}
}

// A first directory login creates a local user without a password and
// links it; later ones find it by the link and refresh its profile and
// roles; the directory's removal of the entry ends the sign-ins.
func TestAuthenticateProvisionsAndRefreshes(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, db *gorm.DB) {
		f := newFixture(t, db, false)
		ctx := t.Context()
		u := f.mustSignIn(t, "alice", "alice-pass")
		if u.Username != "alice" || u.Email != "alice@example.org" || u.EmailVerified || u.GivenName != "Alice" ||
			!slices.Equal(u.Roles, []string{"admin", "manager"}) || u.LastLoginAt == nil {
			t.Errorf("provisioned user = %+v", u)
		}
		if hash, err := f.users.PasswordHash(ctx, u.ID); err != nil || hash != "" {
			t.Errorf("PasswordHash = %q, %v; want none", hash, err)
		}
		links, err := f.links.UserLinks(ctx, u.ID)
		if err != nil || len(links) != 1 || links[0].ConnectorID != "corp" || len(links[0].Subject) != 36 {
			t.Fatalf("UserLinks = %+v, %v", links, err)
		}
		// The linked user signs in by address too, checked by the directory.
		if again := f.mustSignIn(t, "alice@example.org", "alice-pass"); again.ID != u.ID {
			t.Errorf("second sign-in is user %s, want %s", again.ID, u.ID)
		}
		const dn = "uid=alice,ou=people,dc=example,dc=org"
		f.srv.Modify(t, dn, "givenName", "Alicia")
		f.srv.Modify(t, "cn=admins,ou=groups,dc=example,dc=org", "member", "uid=bob,ou=people,dc=example,dc=org")
		f.mustSignIn(t, "alice", "alice-pass")
		stored, err := f.users.GetUser(ctx, u.ID)
		if err != nil || stored.GivenName != "Alicia" || !slices.Equal(stored.Roles, []string{"manager"}) {
			t.Errorf("after the directory changed: %+v, %v; want Alicia with role manager only", stored, err)
		}
		f.mustRefuse(t, "alice", "wrong")
		f.srv.Modify(t, dn, "description", "disabled")
		f.mustRefuse(t, "alice", "alice-pass")
		f.srv.Delete(t, dn)
		f.mustRefuse(t, "alice", "alice-pass")
	})
}

// Local accounts sign in as before; a local account's name is never sent
// to the directory, whose password for the same name does not sign in.
func TestAuthenticateLocalAccounts(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, db *gorm.DB) {
		f := newFixture(t, db, false)
		local := f.localUser(t, "bob", "robert@example.net", "local-pass")
		if u := f.mustSignIn(t, "bob", "local-pass"); u.ID != local.ID {
			t.Errorf("signed in as %s, want the local bob", u.ID)
		}
		f.mustRefuse(t, "bob", "bob-pass")
		f.mustRefuse(t, "nobody", "whatever")
		f.mustRefuse(t, "alice", "")
	})
}

// A first login whose address belongs to a local account is refused by a
// connector not trusted with addresses (it would hand the account to
// whoever controls the directory entry), and linked by a trusted one.
func TestAuthenticateEmailOfExistingAccount(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, db *gorm.DB) {
		f := newFixture(t, db, false)
		victim := f.localUser(t, "robert", "bob@example.org", "local-pass")
		if _, ok, err := f.auth.Authenticate(t.Context(), "bob", "bob-pass"); ok || !errors.Is(err, federation.ErrEmailInUse) {
			t.Fatalf("Authenticate = %v, %v; want ErrEmailInUse", ok, err)
		}
		if links, _ := f.links.UserLinks(t.Context(), victim.ID); len(links) != 0 {
			t.Errorf("the local account was linked: %+v", links)
		}
		f.mustSignIn(t, "robert", "local-pass")

		trusted := newFixture(t, dbtest.MustOpen(t, db.Dialector.Name()), true)
		owner := trusted.localUser(t, "robert", "bob@example.org", "local-pass")
		if u := trusted.mustSignIn(t, "bob", "bob-pass"); u.ID != owner.ID || !u.EmailVerified {
			t.Errorf("trusted first login = %+v; want the account with the address, verified", u)
		}
	})
}

// Directory sign-ins count towards the local account's lockout; a locked
// or deactivated account does not sign in with the directory password.
func TestAuthenticateLockoutAndStatus(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, db *gorm.DB) {
		f := newFixture(t, db, false)
		u := f.mustSignIn(t, "alice", "alice-pass")
		for range 3 {
			f.mustRefuse(t, "alice", "guess")
		}
		f.mustRefuse(t, "alice", "alice-pass")
		if err := f.auth.Unlock(t.Context(), u.ID); err != nil {
			t.Fatal(err)
		}
		f.mustSignIn(t, "alice", "alice-pass")
		stored, _ := f.users.GetUser(t.Context(), u.ID)
		stored.Status = identity.StatusDisabled
		if err := f.users.UpdateUser(t.Context(), stored); err != nil {
			t.Fatal(err)
		}
		if _, ok, err := f.auth.Authenticate(t.Context(), "alice", "alice-pass"); ok || !errors.Is(err, identity.ErrAccountDisabled) {
			t.Errorf("deactivated: %v, %v; want ErrAccountDisabled", ok, err)
		}
	})
}

// A stopped directory gives ErrUnavailable within the timeout to its
// users, and local accounts sign in as usual.
func TestAuthenticateDirectoryDown(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, db *gorm.DB) {
		f := newFixture(t, db, false)
		f.localUser(t, "local", "local@example.net", "local-pass")
		f.mustSignIn(t, "alice", "alice-pass")
		f.srv.Stop()
		start := time.Now()
		if _, ok, err := f.auth.Authenticate(t.Context(), "alice", "alice-pass"); ok || !errors.Is(err, federation.ErrUnavailable) {
			t.Errorf("Authenticate with the directory down = %v, %v; want ErrUnavailable", ok, err)
		}
		if d := time.Since(start); d > 3*time.Second {
			t.Errorf("took %v, beyond the 2s timeout", d)
		}
		f.mustSignIn(t, "local", "local-pass")
	})
}

// The directory's address wins on each login, but one verified here stays
// verified while it is unchanged; a directory address that another local
// account has is refused, not taken over.
func TestAuthenticateRefreshAddress(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, db *gorm.DB) {
		f := newFixture(t, db, false)
		ctx := t.Context()
		u := f.mustSignIn(t, "alice", "alice-pass")
		if err := f.users.MarkEmailVerified(ctx, u.ID, "alice@example.org", time.Now()); err != nil {
			t.Fatal(err)
		}
		if again := f.mustSignIn(t, "alice", "alice-pass"); !again.EmailVerified {
			t.Error("a login undid the verification of an unchanged address")
		}
		other := f.localUser(t, "olga", "olga@example.net", "local-pass")
		f.srv.Modify(t, "uid=alice,ou=people,dc=example,dc=org", "mail", other.Email)
		if _, ok, err := f.auth.Authenticate(ctx, "alice", "alice-pass"); ok || !errors.Is(err, federation.ErrEmailInUse) {
			t.Errorf("login with another account's address = %v, %v; want ErrEmailInUse", ok, err)
		}
		if got, _ := f.users.GetUser(ctx, other.ID); got.Email != other.Email {
			t.Errorf("the other account's address became %q", got.Email)
		}
	})
}

// Concurrent first logins of one person make one local user and one link.
func TestAuthenticateConcurrentFirstLogins(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, db *gorm.DB) {
		f := newFixture(t, db, false)
		// No more than the fixture's lockout MaxFailures (3): every attempt
		// is counted before its password is checked, and one counted past
		// the limit is refused unchecked, by design.
		const n = 3
		ids := make(chan string, n)
		errs := make(chan error, n)
		for range n {
			go func() {
				u, ok, err := f.auth.Authenticate(context.Background(), "alice", "alice-pass")
				switch {
				case err != nil:
					errs <- err
				case !ok:
					errs <- errors.New("refused")
				default:
					ids <- u.ID
				}
			}()
		}
		seen := map[string]bool{}
		for range n {
			select {
			case id := <-ids:
				seen[id] = true
			case err := <-errs:
				t.Errorf("concurrent first login: %v", err)
			}
		}
		if len(seen) > 1 {
			t.Errorf("%d local users for one directory entry", len(seen))
		}
	})
}
