package ldap_test

import (
	"errors"
	"net"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"

	"gatehouse/federation"
	"gatehouse/federation/ldap"
	"gatehouse/federation/ldap/ldaptest"
)

// config is a connector on srv as an OpenLDAP deployment configures it:
// StartTLS, the service account, disabled entries filtered out.
func config(srv *ldaptest.Server) ldap.Config {
	return ldap.Config{
		ID: "corp", Name: "Corporate directory", URL: srv.URL, StartTLS: true, CAFile: srv.CAFile,
		BindDN: ldaptest.ReaderDN, BindPassword: ldaptest.ReaderPW,
		UserBaseDN: ldaptest.PeopleDN, UserFilter: "(&(objectClass=inetOrgPerson)(uid={username})(!(description=disabled)))",
		GroupBaseDN: ldaptest.GroupsDN, GroupKind: ldap.GroupOfNames,
		RoleRules: []ldap.RoleRule{{Group: "admins", Role: "admin"}, {Group: "cn=staff,ou=groups,dc=example,dc=org", Role: "manager"}},
		Timeout:   3 * time.Second,
	}
}

func open(t *testing.T, cfg ldap.Config) *ldap.Connector {
	t.Helper()
	c, err := cfg.Open(nil)
	if err != nil {
		t.Fatalf("Open: %v", err)
	}
	return c
}

func TestLogin(t *testing.T) {
	srv := ldaptest.Start(t, "")
	c := open(t, config(srv))
	got, ok, err := c.Login(t.Context(), "alice", "alice-pass")
	if err != nil || !ok {
		t.Fatalf("Login(alice) = %v, %v; want ok", ok, err)
	}
	if len(got.Subject) != 36 {
		t.Errorf("Subject = %q, want the entryUUID", got.Subject)
	}
	want := federation.Identity{
		ConnectorID: "corp", Username: "alice", Email: "alice@example.org", GivenName: "Alice", FamilyName: "Liddell",
		Phone: "+441632960001", Roles: []string{"admin", "manager"},
		Groups: []string{"cn=admins,ou=groups,dc=example,dc=org", "admins", "cn=staff,ou=groups,dc=example,dc=org", "staff"},
	}
	if diff := cmp.Diff(want, got, cmpopts.IgnoreFields(federation.Identity{}, "Subject"), cmpopts.SortSlices(func(a, b string) bool { return a < b })); diff != "" {
		t.Errorf("Login(alice) mismatch (-want +got):\n%s", diff)
	}
	again, _, _ := c.Login(t.Context(), "alice", "alice-pass")
	if again.Subject != got.Subject {
		t.Errorf("subject changed between logins: %q then %q", got.Subject, again.Subject)
	}
}

// Every refusal is (false, nil): the same answer for each, and no error
// that the sign-in page would show as an outage.
func TestLoginRefusals(t *testing.T) {
	srv := ldaptest.Start(t, "")
	cfg := config(srv)
	cfg.UserFilter = "(&(objectClass=inetOrgPerson)(|(uid={username})(mail={username}))(!(description=disabled)))"
	c := open(t, cfg)
	for _, tc := range []struct{ name, user, password string }{
		{"wrong password", "alice", "bob-pass"},
		{"unknown user", "nobody", "alice-pass"},
		{"disabled in the directory", "carol", "carol-pass"},
		{"outside the user base", "mallory", "mallory-pass"},
		{"name of several entries", "twins@example.org", "twin1-pass"},
		// Injections: escaped, these match no entry. Unescaped, "al*"
		// alone would find alice and her password would sign in.
		{"wildcard", "*", "alice-pass"},
		{"prefix wildcard", "al*", "alice-pass"},
		{"closing the filter", "*)(uid=*", "alice-pass"},
		{"or injection", "admin)(|(a=*", "alice-pass"},
		{"alice with an injected or", "alice)(|(uid=*", "alice-pass"},
		{"NUL byte", "alice\x00", "alice-pass"},
		{"NUL then filter", "alice\x00)(uid=*", "alice-pass"},
		{"escaped NUL", `alice\00`, "alice-pass"},
		{"empty password", "alice", ""},
		{"empty name", "", "alice-pass"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, ok, err := c.Login(t.Context(), tc.user, tc.password)
			if ok || err != nil || got.Subject != "" {
				t.Errorf("Login(%q) = %+v, %v, %v; want refused without error", tc.user, got, ok, err)
			}
		})
	}
	// Sanity: the same filter signs alice in by name and by address.
	for _, login := range []string{"alice", "alice@example.org", "ALICE"} {
		if _, ok, err := c.Login(t.Context(), login, "alice-pass"); !ok || err != nil {
			t.Errorf("Login(%q) = %v, %v; want ok", login, ok, err)
		}
	}
}

// An empty password is refused before anything is sent: against an
// address where nothing listens it is still a plain refusal, not an
// outage, so no connection (and no unauthenticated bind) was tried.
func TestLoginEmptyPasswordNeverBinds(t *testing.T) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	accepted := make(chan struct{}, 1)
	go func() {
		if conn, err := l.Accept(); err == nil {
			accepted <- struct{}{}
			conn.Close()
		}
	}()
	t.Cleanup(func() { l.Close() })
	c := open(t, ldap.Config{ID: "corp", URL: "ldap://" + l.Addr().String(), UserBaseDN: ldaptest.PeopleDN, Timeout: time.Second})
	if _, ok, err := c.Login(t.Context(), "alice", ""); ok || err != nil {
		t.Fatalf("Login with empty password = %v, %v; want refused", ok, err)
	}
	select {
	case <-accepted:
		t.Fatal("a connection was opened for an empty password")
	default:
	}
	// The same connector does connect for a real attempt.
	if _, _, err := c.Login(t.Context(), "alice", "x"); !errors.Is(err, federation.ErrUnavailable) {
		t.Fatalf("Login = %v, want ErrUnavailable from the silent listener", err)
	}
	select {
	case <-accepted:
	default:
		t.Fatal("no connection for a real attempt")
	}
}

func TestLoginPosixGroups(t *testing.T) {
	srv := ldaptest.Start(t, "")
	cfg := config(srv)
	cfg.GroupKind = ldap.PosixGroup
	cfg.RoleRules = []ldap.RoleRule{{Group: "developers", Role: "manager"}, {Group: "admins", Role: "admin"}}
	c := open(t, cfg)
	for _, tc := range []struct {
		user  string
		roles []string
	}{{"bob", []string{"manager"}}, {"alice", nil}} {
		got, ok, err := c.Login(t.Context(), tc.user, tc.user+"-pass")
		if !ok || err != nil {
			t.Fatalf("Login(%s) = %v, %v", tc.user, ok, err)
		}
		if diff := cmp.Diff(tc.roles, got.Roles); diff != "" {
			t.Errorf("Login(%s) roles (-want +got):\n%s", tc.user, diff)
		}
	}
}

func TestLoginSeesDirectoryChanges(t *testing.T) {
	srv := ldaptest.Start(t, "")
	c := open(t, config(srv))
	const alice = "uid=alice,ou=people,dc=example,dc=org"
	srv.Modify(t, alice, "givenName", "Alicia")
	srv.Modify(t, alice, "mail", "alicia@example.org")
	srv.Modify(t, "cn=admins,ou=groups,dc=example,dc=org", "member", "uid=bob,ou=people,dc=example,dc=org")
	got, ok, err := c.Login(t.Context(), "alice", "alice-pass")
	if !ok || err != nil {
		t.Fatalf("Login = %v, %v", ok, err)
	}
	if got.GivenName != "Alicia" || got.Email != "alicia@example.org" || !cmp.Equal(got.Roles, []string{"manager"}) {
		t.Errorf("Login after changes = %+v; want the new name, address and only the staff role", got)
	}
	// Disabled, then the password changed: both end the sign-ins.
	srv.Modify(t, alice, "description", "disabled")
	if _, ok, err := c.Login(t.Context(), "alice", "alice-pass"); ok || err != nil {
		t.Errorf("Login of a disabled entry = %v, %v; want refused", ok, err)
	}
	srv.Modify(t, alice, "description")
	srv.Modify(t, alice, "userPassword", "new-pass")
	if _, ok, _ := c.Login(t.Context(), "alice", "alice-pass"); ok {
		t.Error("the old password still signs in")
	}
	if _, ok, err := c.Login(t.Context(), "alice", "new-pass"); !ok || err != nil {
		t.Errorf("Login with the new password = %v, %v", ok, err)
	}
}

func TestLoginTLS(t *testing.T) {
	srv := ldaptest.Start(t, "")
	t.Run("StartTLS without the CA is refused", func(t *testing.T) {
		cfg := config(srv)
		cfg.CAFile = ""
		if _, ok, err := open(t, cfg).Login(t.Context(), "alice", "alice-pass"); ok || !errors.Is(err, federation.ErrUnavailable) {
			t.Errorf("Login = %v, %v; want ErrUnavailable (unknown CA)", ok, err)
		}
	})
	t.Run("StartTLS with insecure_skip_verify", func(t *testing.T) {
		cfg := config(srv)
		cfg.CAFile, cfg.InsecureSkipVerify = "", true
		if _, ok, err := open(t, cfg).Login(t.Context(), "alice", "alice-pass"); !ok || err != nil {
			t.Errorf("Login = %v, %v; want ok", ok, err)
		}
	})
	t.Run("ldaps", func(t *testing.T) {
		cfg := config(srv)
		cfg.URL, cfg.StartTLS = srv.LDAPSURL, false
		if _, ok, err := open(t, cfg).Login(t.Context(), "alice", "alice-pass"); !ok || err != nil {
			t.Errorf("Login = %v, %v; want ok", ok, err)
		}
		cfg.CAFile = ""
		if _, ok, err := open(t, cfg).Login(t.Context(), "alice", "alice-pass"); ok || !errors.Is(err, federation.ErrUnavailable) {
			t.Errorf("Login without the CA = %v, %v; want ErrUnavailable (unknown CA)", ok, err)
		}
	})
	t.Run("plain", func(t *testing.T) {
		cfg := config(srv)
		cfg.StartTLS = false
		if _, ok, err := open(t, cfg).Login(t.Context(), "alice", "alice-pass"); !ok || err != nil {
			t.Errorf("Login = %v, %v; want ok", ok, err)
		}
	})
}

func TestLoginDirectoryDown(t *testing.T) {
	srv := ldaptest.Start(t, "")
	c := open(t, config(srv))
	if _, ok, err := c.Login(t.Context(), "alice", "alice-pass"); !ok || err != nil {
		t.Fatalf("Login before the stop = %v, %v", ok, err)
	}
	srv.Stop()
	start := time.Now()
	_, ok, err := c.Login(t.Context(), "alice", "alice-pass")
	if ok || !errors.Is(err, federation.ErrUnavailable) {
		t.Errorf("Login with the directory stopped = %v, %v; want ErrUnavailable", ok, err)
	}
	if d := time.Since(start); d > 4*time.Second {
		t.Errorf("Login took %v, beyond the 3s timeout", d)
	}
}

// A directory that accepts connections and never answers is given up at
// the timeout.
func TestLoginTimeout(t *testing.T) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { l.Close() })
	go func() {
		for {
			conn, err := l.Accept()
			if err != nil {
				return
			}
			t.Cleanup(func() { conn.Close() })
		}
	}()
	c := open(t, ldap.Config{ID: "corp", URL: "ldap://" + l.Addr().String(), BindDN: "cn=x", BindPassword: "y",
		UserBaseDN: ldaptest.PeopleDN, Timeout: 500 * time.Millisecond})
	start := time.Now()
	_, ok, err := c.Login(t.Context(), "alice", "alice-pass")
	if ok || !errors.Is(err, federation.ErrUnavailable) {
		t.Errorf("Login = %v, %v; want ErrUnavailable", ok, err)
	}
	if d := time.Since(start); d > 2*time.Second {
		t.Errorf("Login took %v with a 500ms timeout", d)
	}
}

func TestLoginUniqueMemberGroups(t *testing.T) {
	srv := ldaptest.Start(t, ldaptest.Seed+`
dn: cn=auditors,ou=groups,dc=example,dc=org
objectClass: groupOfUniqueNames
cn: auditors
uniqueMember: uid=bob,ou=people,dc=example,dc=org
`)
	cfg := config(srv)
	cfg.GroupKind = ldap.GroupOfUniqueNames
	cfg.RoleRules = []ldap.RoleRule{{Group: "auditors", Role: "auditor"}, {Group: "staff", Role: "manager"}}
	c := open(t, cfg)
	got, ok, err := c.Login(t.Context(), "bob", "bob-pass")
	if !ok || err != nil {
		t.Fatalf("Login(bob) = %v, %v", ok, err)
	}
	// staff is a groupOfNames: not searched with this kind.
	if diff := cmp.Diff([]string{"auditor"}, got.Roles); diff != "" {
		t.Errorf("roles (-want +got):\n%s", diff)
	}
}
