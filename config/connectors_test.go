package config

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

const ldapConnectorYAML = `
connectors:
  - id: corp-ad
    type: ldap
    name: Corporate directory
    ldap:
      url: ldaps://dc1.corp.example.com
      ca_file: %s
      bind_dn: CN=svc-gatehouse,OU=Service,DC=corp,DC=example,DC=com
      user_base_dn: OU=People,DC=corp,DC=example,DC=com
      user_filter: (&(objectClass=user)(sAMAccountName={username}))
      subject_attribute: objectGUID
      attributes: {username: sAMAccountName}
      group_kind: memberOf
      role_rules:
        - {group: "CN=Gatehouse Admins,OU=Groups,DC=corp,DC=example,DC=com", role: admin}
`

func TestLoadConnectors(t *testing.T) {
	ca := filepath.Join(t.TempDir(), "ca.pem")
	if err := os.WriteFile(ca, []byte("x"), 0o600); err != nil {
		t.Fatal(err)
	}
	file := writeFile(t, fmt.Sprintf(ldapConnectorYAML, ca))
	got := mustLoad(t, file, map[string]string{"GATEHOUSE_CONNECTORS_CORP_AD_BIND_PASSWORD": "s3cret"})
	want := []Connector{{
		ID: "corp-ad", Type: "ldap", Name: "Corporate directory",
		LDAP: LDAPConnector{
			URL: "ldaps://dc1.corp.example.com", CAFile: ca,
			BindDN: "CN=svc-gatehouse,OU=Service,DC=corp,DC=example,DC=com", BindPassword: "s3cret",
			UserBaseDN: "OU=People,DC=corp,DC=example,DC=com", UserFilter: "(&(objectClass=user)(sAMAccountName={username}))",
			SubjectAttribute: "objectGUID", Attributes: LDAPAttributes{Username: "sAMAccountName"}, GroupKind: "memberOf",
			RoleRules: []LDAPRoleRule{{Group: "CN=Gatehouse Admins,OU=Groups,DC=corp,DC=example,DC=com", Role: "admin"}},
			Timeout:   Duration(5 * time.Second),
		},
	}}
	if diff := cmp.Diff(want, got.Connectors); diff != "" {
		t.Errorf("Connectors mismatch (-want +got):\n%s", diff)
	}
	// The password never shows when the configuration is printed.
	for _, s := range []string{got.String(), fmt.Sprintf("%+v", got.Redacted().Connectors), fmt.Sprint(got.Redacted().Connectors[0].LDAP.BindPassword.Reveal())} {
		if strings.Contains(s, "s3cret") {
			t.Errorf("printed configuration shows the bind password: %s", s)
		}
	}

	pwFile := filepath.Join(t.TempDir(), "pw")
	if err := os.WriteFile(pwFile, []byte("from-file\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	got = mustLoad(t, file, map[string]string{"GATEHOUSE_CONNECTORS_CORP_AD_BIND_PASSWORD_FILE": pwFile})
	if pw := got.Connectors[0].LDAP.BindPassword.Reveal(); pw != "from-file" {
		t.Errorf("password from file = %q, want from-file", pw)
	}
	_, err := Load(file, envMap(map[string]string{
		"GATEHOUSE_CONNECTORS_CORP_AD_BIND_PASSWORD_FILE": pwFile, "GATEHOUSE_CONNECTORS_CORP_AD_BIND_PASSWORD": "x"}))
	if err == nil || !strings.Contains(err.Error(), "GATEHOUSE_CONNECTORS_CORP_AD_BIND_PASSWORD_FILE: conflicts") {
		t.Errorf("both variables: %v, want a conflict", err)
	}
}

// Every bad connector key is a problem of its own, named by its path.
func TestValidateConnectors(t *testing.T) {
	file := writeFile(t, `
connectors:
  - id: corp
    type: ldap
    ldap: {url: ldap://dir.example.com, user_base_dn: "ou=people,dc=example,dc=org"}
  - id: corp
    type: saml
  - id: Bad ID
    type: ldap
    ldap:
      url: http://dir.example.com
      bind_dn: cn=reader
      user_filter: uid=x
      group_kind: nested
      role_rules: [{group: admins, role: "Not A Role"}, {role: admin}]
      timeout: 1h
  - type: ldap
    ldap: {url: "ldaps://dir.example.com/dc=x", start_tls: true, user_base_dn: x}
  - id: tls
    type: ldap
    ldap: {url: "ldaps://dir.example.com", start_tls: true, user_base_dn: x, ca_file: /nonexistent/ca.pem, role_rules: [{group: g, role: admin}]}
`)
	_, err := Load(file, nil)
	var cerr *Error
	if !errors.As(err, &cerr) {
		t.Fatalf("Load = %v, want *Error", err)
	}
	want := []string{
		"connectors[1].id: \"corp\" is used by another connector",
		"connectors[1].type: unknown connector type \"saml\"",
		"connectors[2].id: must be 1 to 32",
		"connectors[2].ldap.url: must be ldap://host[:port] or ldaps://host[:port]",
		"connectors[2].ldap.bind_password: required with bind_dn",
		"connectors[2].ldap.user_base_dn: required",
		"connectors[2].ldap.user_filter: must be a parenthesised filter",
		"connectors[2].ldap.group_kind: must be",
		"connectors[2].ldap.role_rules[0].role: must be a role name",
		"connectors[2].ldap.role_rules[1].group: required",
		"connectors[2].ldap.timeout: must be between",
		"connectors[3].id: required",
		"connectors[3].ldap.url: must be ldap://host[:port] or ldaps://host[:port], without path",
		"connectors[4].ldap.start_tls: is for ldap:// URLs",
		"connectors[4].ldap.ca_file:",
		"connectors[4].ldap.group_base_dn: required with role_rules",
	}
	for _, w := range want {
		found := false
		for _, p := range cerr.Problems {
			found = found || strings.Contains(p, w)
		}
		if !found {
			t.Errorf("no problem %q in:\n%s", w, strings.Join(cerr.Problems, "\n"))
		}
	}
	for _, p := range cerr.Problems {
		if strings.HasPrefix(p, "connectors[0]") {
			t.Errorf("the valid connector has a problem: %s", p)
		}
	}
}

func TestLoadConnectorUnknownKey(t *testing.T) {
	_, err := Load(writeFile(t, "connectors:\n  - id: x\n    type: ldap\n    ldap: {url: ldap://h, user_base_dn: x, bind_passwrd: y}\n"), nil)
	if err == nil || !strings.Contains(err.Error(), "bind_passwrd") {
		t.Errorf("Load with a misspelt key = %v, want it named", err)
	}
}

// TestOIDCConnector: an oidc connector takes its client secret from the
// environment or a file, and a missing issuer, client or secret, a bad
// issuer URL and scopes without openid are problems.
func TestOIDCConnector(t *testing.T) {
	const ok = `
connectors:
  - id: upstream
    type: oidc
    name: Upstream
    oidc: {issuer: "https://id.example.com", client_id: gh, trust_email: true}
`
	got := mustLoad(t, writeFile(t, ok), map[string]string{"GATEHOUSE_CONNECTORS_UPSTREAM_CLIENT_SECRET": "s3cret"})
	if c := got.Connectors[0]; c.OIDC.ClientSecret.Reveal() != "s3cret" || c.OIDC.Issuer != "https://id.example.com" || !c.OIDC.TrustEmail {
		t.Errorf("connector = %+v", c)
	}
	secretFile := filepath.Join(t.TempDir(), "secret")
	if err := os.WriteFile(secretFile, []byte("from-file\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	got = mustLoad(t, writeFile(t, ok), map[string]string{"GATEHOUSE_CONNECTORS_UPSTREAM_CLIENT_SECRET_FILE": secretFile})
	if s := got.Connectors[0].OIDC.ClientSecret.Reveal(); s != "from-file" {
		t.Errorf("secret from file = %q", s)
	}

	_, err := Load(writeFile(t, `
connectors:
  - id: a
    type: oidc
    oidc: {issuer: "ftp://id.example.com", client_id: x, client_secret: y, scopes: [email]}
  - id: b
    type: oidc
    oidc: {issuer: "https://u:p@id.example.com?x=1"}
`), nil)
	var cerr *Error
	if !errors.As(err, &cerr) {
		t.Fatalf("Load = %v, want *Error", err)
	}
	for _, w := range []string{
		"connectors[0].oidc.issuer: must be an https URL",
		"connectors[0].oidc.scopes: must include openid",
		"connectors[1].oidc.issuer: must be an https URL",
		"connectors[1].oidc.client_id: required",
		"connectors[1].oidc.client_secret: required",
	} {
		if !strings.Contains(strings.Join(cerr.Problems, "\n"), w) {
			t.Errorf("no problem %q in:\n%s", w, strings.Join(cerr.Problems, "\n"))
		}
	}
}

func TestConnectorDomains(t *testing.T) {
	const upstream = `
  - id: %s
    type: oidc
    domains: %s
    oidc: {issuer: "https://id.example.com", client_id: gh, client_secret: s}`
	got := mustLoad(t, writeFile(t, "connectors:"+fmt.Sprintf(upstream, "corp", "[corp.example, eu.corp.example]")), nil)
	if diff := cmp.Diff([]string{"corp.example", "eu.corp.example"}, got.Connectors[0].Domains); diff != "" {
		t.Errorf("Domains mismatch (-want +got):\n%s", diff)
	}

	tests := []struct {
		name, connectors, want string
	}{
		{"upper case", fmt.Sprintf(upstream, "a", "[Corp.example]"), `connectors[0].domains[0]: "Corp.example" must be a lower-case domain name`},
		{"address, not domain", fmt.Sprintf(upstream, "a", "[alice@corp.example]"), `connectors[0].domains[0]: "alice@corp.example" must be a lower-case domain name`},
		{"single label", fmt.Sprintf(upstream, "a", "[corp]"), `connectors[0].domains[0]: "corp" must be a lower-case domain name`},
		{"leading dot", fmt.Sprintf(upstream, "a", "[.corp.example]"), `connectors[0].domains[0]: ".corp.example" must be a lower-case domain name`},
		{"empty", fmt.Sprintf(upstream, "a", `[""]`), `connectors[0].domains[0]: "" must be a lower-case domain name`},
		{"on two connectors", fmt.Sprintf(upstream, "a", "[corp.example]") + fmt.Sprintf(upstream, "b", "[x.example, corp.example]"),
			`connectors[1].domains[1]: "corp.example" already belongs to connector "a"`},
		{"twice on one", fmt.Sprintf(upstream, "a", "[corp.example, corp.example]"), `connectors[0].domains[1]: "corp.example" already belongs to connector "a"`},
		{"ldap", `
  - id: dir
    type: ldap
    domains: [corp.example]
    ldap: {url: "ldap://dc.corp.example", user_base_dn: "dc=corp"}`, "connectors[0].domains: only for oidc connectors"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, err := Load(writeFile(t, "connectors:"+tc.connectors), nil)
			var cerr *Error
			if !errors.As(err, &cerr) {
				t.Fatalf("Load = %v, want *Error", err)
			}
			if all := strings.Join(cerr.Problems, "\n"); !strings.Contains(all, tc.want) {
				t.Errorf("no problem %q in:\n%s", tc.want, all)
			}
		})
	}
}
