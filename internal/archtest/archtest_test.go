package archtest

import (
	"bytes"
	"encoding/json"
	"errors"
	"io"
	"os/exec"
	"testing"

	"github.com/google/go-cmp/cmp"
)

// TestImportRules: the module's packages keep every rule.
func TestImportRules(t *testing.T) {
	pkgs := modulePackages(t)
	if len(pkgs) < 10 {
		t.Fatalf("go list found %d packages of the module, want them all", len(pkgs))
	}
	for _, v := range check(pkgs, rules) {
		t.Error(v)
	}
}

// modulePackages lists the module's non-test packages and their direct
// imports, as the build sees them.
func modulePackages(t testing.TB) []pkg {
	t.Helper()
	cmd := exec.Command("go", "list", "-deps", "-json=ImportPath,Imports,Module", "gatehouse/...")
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("go list: %v\n%s", err, stderr.String())
	}
	var pkgs []pkg
	dec := json.NewDecoder(bytes.NewReader(out))
	for {
		var p struct {
			pkg
			Module *struct{ Path string }
		}
		if err := dec.Decode(&p); errors.Is(err, io.EOF) {
			break
		} else if err != nil {
			t.Fatalf("go list output: %v", err)
		}
		// -deps also lists the standard library and other modules: their
		// imports are not ours to rule.
		if p.Module != nil && p.Module.Path == "gatehouse" {
			pkgs = append(pkgs, p.pkg)
		}
	}
	return pkgs
}

// TestCheck: the checker finds each kind of broken rule in a made-up
// import graph, and nothing in one that keeps them, so that
// TestImportRules passing means the rules hold, not that nothing is
// checked.
func TestCheck(t *testing.T) {
	graph := []pkg{
		{ImportPath: "gatehouse/cmd/gatehouse", Imports: []string{"gatehouse/config", "gatehouse/oidc", "gatehouse/migrations"}},
		{ImportPath: "gatehouse/config"},
		{ImportPath: "gatehouse/identity", Imports: []string{"gatehouse/oidc/account", "gatehouse/config"}},
		{ImportPath: "gatehouse/identity/sqlstore", Imports: []string{"gorm.io/gorm", "gatehouse/identity"}},
		{ImportPath: "gatehouse/identity/message", Imports: []string{"gorm.io/gorm"}},
		{ImportPath: "gatehouse/identity/audit", Imports: []string{"gorm.io/gorm", "gatehouse/federation"}},
		{ImportPath: "gatehouse/migrations", Imports: []string{"gorm.io/driver/postgres"}},
		{ImportPath: "gatehouse/oidc", Imports: []string{"github.com/ory/fosite", "github.com/go-jose/go-jose/v3", "gatehouse/identity"}},
		{ImportPath: "gatehouse/oidc/sqlstore", Imports: []string{"github.com/ory/fosite/handler/oauth2", "gorm.io/gorm"}},
		{ImportPath: "gatehouse/oidc/account", Imports: []string{"github.com/go-jose/go-jose/v3/jwt", "github.com/go-jose/go-jose/v4", "gatehouse/cmd/gatehouse"}},
	}
	var got []string
	for _, v := range check(graph, rules) {
		got = append(got, v.From+" -> "+v.To)
	}
	want := []string{
		"gatehouse/identity -> gatehouse/config",
		"gatehouse/identity -> gatehouse/oidc/account",
		"gatehouse/identity/audit -> gatehouse/federation",
		"gatehouse/identity/audit -> gorm.io/gorm",
		"gatehouse/identity/message -> gorm.io/gorm",
		"gatehouse/oidc/account -> gatehouse/cmd/gatehouse",
		"gatehouse/oidc/account -> github.com/go-jose/go-jose/v3/jwt",
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("check mismatch (-want +got):\n%s", diff)
	}
}

func TestMatch(t *testing.T) {
	for _, tc := range []struct {
		pattern, path string
		want          bool
	}{
		{"gatehouse/cmd/...", "gatehouse/cmd", true},
		{"gatehouse/cmd/...", "gatehouse/cmd/gatehouse", true},
		{"gatehouse/cmd/...", "gatehouse/cmdline", false},
		{".../sqlstore", "gatehouse/oidc/captcha/sqlstore", true},
		{".../sqlstore", "gatehouse/oidc/sqlstorex", false},
		{".../sqlstore", "gatehouse/sqlstore/inner", false},
		{"gatehouse/oidc", "gatehouse/oidc", true},
		{"gatehouse/oidc", "gatehouse/oidc/sqlstore", false},
	} {
		if got := match(tc.pattern, tc.path); got != tc.want {
			t.Errorf("match(%q, %q) = %v, want %v", tc.pattern, tc.path, got, tc.want)
		}
	}
}
