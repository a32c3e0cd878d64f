// Package ldaptest runs a throw-away OpenLDAP server (Debian's slapd) for
// tests: a fresh database on 127.0.0.1 and a free port, seeded offline
// with slapadd, with a throw-away CA and certificate so that StartTLS
// works, stopped at the end of the test.
//
// When slapd is not installed the test is skipped, or fails under
// CI=true (.ci/run installs it).
package ldaptest

import (
	"context"
	"errors"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	goldap "github.com/go-ldap/ldap/v3"
)

// The directory's names.
const (
	BaseDN     = "dc=example,dc=org"
	RootDN     = "cn=admin,dc=example,dc=org"
	RootPW     = "root-secret"
	ReaderDN   = "cn=reader,dc=example,dc=org"
	ReaderPW   = "reader-secret"
	PeopleDN   = "ou=people,dc=example,dc=org"
	GroupsDN   = "ou=groups,dc=example,dc=org"
	schemaDir  = "/etc/ldap/schema"
	modulePath = "/usr/lib/ldap"
)

// Server is a running slapd.
type Server struct {
	// URL is ldap://127.0.0.1:port; StartTLS works on it.
	URL string
	// LDAPSURL is ldaps://127.0.0.1:port, TLS from the start.
	LDAPSURL string
	// CAFile is the PEM file of the CA that signed the server's
	// certificate (for 127.0.0.1 and localhost).
	CAFile string
	dir    string
	cmd    *exec.Cmd
	done   chan struct{}
}

// Start runs slapd seeded with seed (LDIF; Seed when empty) and stops it
// when the test ends.
func Start(t testing.TB, seed string) *Server {
	t.Helper()
	slapd, slapadd := find(t, "slapd"), find(t, "slapadd")
	if seed == "" {
		seed = Seed
	}
	dir := t.TempDir()
	ca, err := writeCerts(dir)
	if err != nil {
		t.Fatalf("ldaptest: certificates: %v", err)
	}
	if err := os.Mkdir(filepath.Join(dir, "db"), 0o700); err != nil {
		t.Fatal(err)
	}
	conf := filepath.Join(dir, "slapd.conf")
	if err := os.WriteFile(conf, []byte(slapdConf(dir)), 0o600); err != nil {
		t.Fatal(err)
	}
	ldif := filepath.Join(dir, "seed.ldif")
	if err := os.WriteFile(ldif, []byte(seed), 0o600); err != nil {
		t.Fatal(err)
	}
	if out, err := exec.Command(slapadd, "-f", conf, "-l", ldif).CombinedOutput(); err != nil {
		t.Fatalf("ldaptest: slapadd: %v\n%s", err, out)
	}
	addr := freeAddr(t)
	s := &Server{URL: "ldap://" + addr, LDAPSURL: "ldaps://" + freeAddr(t), CAFile: ca, dir: dir, done: make(chan struct{})}
	s.cmd = exec.Command(slapd, "-f", conf, "-h", s.URL+"/ "+s.LDAPSURL+"/", "-d", "0")
	var logs strings.Builder
	s.cmd.Stdout, s.cmd.Stderr = &logs, &logs
	if err := s.cmd.Start(); err != nil {
		t.Fatalf("ldaptest: start slapd: %v", err)
	}
	go func() { _ = s.cmd.Wait(); close(s.done) }()
	t.Cleanup(s.Stop)
	if err := s.waitReady(addr); err != nil {
		s.Stop()
		t.Fatalf("ldaptest: slapd did not start: %v\n%s", err, logs.String())
	}
	return s
}

// Stop kills slapd and waits for it to exit; the directory is then
// unreachable. Stopping twice is harmless.
func (s *Server) Stop() {
	select {
	case <-s.done:
		return
	default:
	}
	_ = s.cmd.Process.Kill()
	<-s.done
}

// Modify replaces attribute attr of the entry dn with values (none
// deletes it), bound as the root DN.
func (s *Server) Modify(t testing.TB, dn, attr string, values ...string) {
	t.Helper()
	conn := s.root(t)
	defer conn.Close()
	req := goldap.NewModifyRequest(dn, nil)
	req.Replace(attr, values)
	if err := conn.Modify(req); err != nil {
		t.Fatalf("ldaptest: modify %s %s: %v", dn, attr, err)
	}
}

// Delete removes the entry dn, bound as the root DN.
func (s *Server) Delete(t testing.TB, dn string) {
	t.Helper()
	conn := s.root(t)
	defer conn.Close()
	if err := conn.Del(goldap.NewDelRequest(dn, nil)); err != nil {
		t.Fatalf("ldaptest: delete %s: %v", dn, err)
	}
}

func (s *Server) root(t testing.TB) *goldap.Conn {
	t.Helper()
	conn, err := goldap.DialURL(s.URL)
	if err != nil {
		t.Fatalf("ldaptest: dial: %v", err)
	}
	if err := conn.Bind(RootDN, RootPW); err != nil {
		conn.Close()
		t.Fatalf("ldaptest: bind as root: %v", err)
	}
	return conn
}

// waitReady polls until slapd accepts an LDAP bind, for at most 10 s.
func (s *Server) waitReady(addr string) error {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	tick := time.NewTicker(20 * time.Millisecond)
	defer tick.Stop()
	for {
		conn, err := goldap.DialURL(s.URL, goldap.DialWithDialer(&net.Dialer{Timeout: time.Second}))
		if err == nil {
			err = conn.Bind(ReaderDN, ReaderPW)
			conn.Close()
			if err == nil {
				return nil
			}
		}
		select {
		case <-s.done:
			return errors.New("slapd exited")
		case <-ctx.Done():
			return fmt.Errorf("%s: %w", addr, err)
		case <-tick.C:
		}
	}
}

// find returns the path of an OpenLDAP program, or skips the test (fails
// it under CI=true) when it is not installed.
func find(t testing.TB, name string) string {
	t.Helper()
	if p, err := exec.LookPath(name); err == nil {
		return p
	}
	p := filepath.Join("/usr/sbin", name)
	if _, err := os.Stat(p); err == nil {
		return p
	}
	msg := fmt.Sprintf("ldaptest: %s not installed (apt-get install slapd ldap-utils)", name)
	if os.Getenv("CI") == "true" {
		t.Fatal(msg)
	}
	t.Skip(msg)
	return ""
}

// freeAddr returns 127.0.0.1 with a port free a moment ago.
func freeAddr(t testing.TB) string {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := l.Addr().String()
	l.Close()
	return addr
}

func slapdConf(dir string) string {
	var b strings.Builder
	for _, s := range []string{"core", "cosine", "inetorgperson", "nis"} {
		fmt.Fprintf(&b, "include %s/%s.schema\n", schemaDir, s)
	}
	fmt.Fprintf(&b, `pidfile %[1]s/slapd.pid
argsfile %[1]s/slapd.args
modulepath %[2]s
moduleload back_mdb
TLSCACertificateFile %[1]s/ca.pem
TLSCertificateFile %[1]s/server.pem
TLSCertificateKeyFile %[1]s/server.key
database mdb
maxsize 16777216
suffix "%[3]s"
rootdn "%[4]s"
rootpw %[5]s
directory %[1]s/db
access to attrs=userPassword by anonymous auth by * none
access to * by users read by * none
`, dir, modulePath, BaseDN, RootDN, RootPW)
	return b.String()
}
