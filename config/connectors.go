package config

import (
	"fmt"
	"net/url"
	"os"
	"regexp"
	"slices"
	"strings"
	"time"
)

// Connector is an upstream identity source (package federation): type
// ldap (a directory checking passwords typed here) or oidc (an upstream
// OpenID provider the browser signs in at).
type Connector struct {
	// ID names the connector for good: it keys the links of its users to
	// local accounts, so changing it makes every user a new one.
	ID   string `yaml:"id"`
	Type string `yaml:"type"`
	// Name is what people and administrators see.
	Name string `yaml:"name"`
	// Disabled keeps the connector configured but unused.
	Disabled bool `yaml:"disabled"`
	// Domains are the e-mail domains whose people sign in at this
	// connector (home-realm discovery): an address of one typed on the
	// login page, or given as login_hint, goes straight to it. Only for
	// oidc connectors; a domain belongs to one connector.
	Domains []string      `yaml:"domains"`
	LDAP    LDAPConnector `yaml:"ldap"`
	OIDC    OIDCConnector `yaml:"oidc"`
}

// OIDCConnector configures an upstream OpenID provider (see README,
// "Federation: OpenID Connect").
type OIDCConnector struct {
	// Issuer is the upstream's issuer URL; its discovery document is read
	// from Issuer/.well-known/openid-configuration.
	Issuer   string `yaml:"issuer"`
	ClientID string `yaml:"client_id"`
	// ClientSecret may come from GATEHOUSE_CONNECTORS_<ID>_CLIENT_SECRET
	// or a file named by GATEHOUSE_CONNECTORS_<ID>_CLIENT_SECRET_FILE.
	ClientSecret Secret `yaml:"client_secret"`
	// Scopes default to openid email profile.
	Scopes []string `yaml:"scopes"`
	// TrustEmail: the upstream's verified addresses may link a first
	// login to the local account with the same address.
	TrustEmail bool `yaml:"trust_email"`
	// Claims names the ID token claims of the profile; empty ones take
	// the standard names.
	Claims OIDCClaims `yaml:"claims"`
}

// OIDCClaims names the upstream's claims (preferred_username, email,
// given_name, family_name, phone_number by default).
type OIDCClaims struct {
	Username   string `yaml:"username"`
	Email      string `yaml:"email"`
	GivenName  string `yaml:"given_name"`
	FamilyName string `yaml:"family_name"`
	Phone      string `yaml:"phone"`
}

// LDAPConnector configures an LDAP directory (see README, "Federation:
// LDAP").
type LDAPConnector struct {
	// URL is ldap://host[:port] or ldaps://host[:port].
	URL string `yaml:"url"`
	// StartTLS upgrades an ldap:// connection before anything is sent.
	StartTLS bool `yaml:"start_tls"`
	// CAFile is a PEM file of the CAs trusted for the directory.
	CAFile string `yaml:"ca_file"`
	// InsecureSkipVerify skips the certificate check: for tests only;
	// serve warns at start.
	InsecureSkipVerify bool `yaml:"insecure_skip_verify"`
	// BindDN and BindPassword are the service account that searches.
	// The password may come from GATEHOUSE_CONNECTORS_<ID>_BIND_PASSWORD
	// or a file named by GATEHOUSE_CONNECTORS_<ID>_BIND_PASSWORD_FILE.
	BindDN       string `yaml:"bind_dn"`
	BindPassword Secret `yaml:"bind_password"`
	UserBaseDN   string `yaml:"user_base_dn"`
	// UserFilter finds the entry; {username} stands for the typed name,
	// escaped. Default (uid={username}).
	UserFilter string `yaml:"user_filter"`
	// SubjectAttribute keys the link to the local user: entryUUID
	// (default), objectGUID (Active Directory) or dn.
	SubjectAttribute string         `yaml:"subject_attribute"`
	Attributes       LDAPAttributes `yaml:"attributes"`
	GroupBaseDN      string         `yaml:"group_base_dn"`
	// GroupKind is groupOfNames (default), groupOfUniqueNames,
	// posixGroup or memberOf.
	GroupKind   string         `yaml:"group_kind"`
	GroupFilter string         `yaml:"group_filter"`
	RoleRules   []LDAPRoleRule `yaml:"role_rules"`
	// TrustEmail: the directory's addresses are verified, and a first
	// login may link to the local account with the same address.
	TrustEmail bool `yaml:"trust_email"`
	// Timeout bounds one login (connection, binds and searches).
	Timeout Duration `yaml:"timeout"`
}

// LDAPAttributes names the attributes of a person's profile; empty ones
// take the OpenLDAP defaults (uid, mail, givenName, sn, telephoneNumber).
type LDAPAttributes struct {
	Username   string `yaml:"username"`
	Email      string `yaml:"email"`
	GivenName  string `yaml:"given_name"`
	FamilyName string `yaml:"family_name"`
	Phone      string `yaml:"phone"`
}

// LDAPRoleRule gives members of Group (its cn or DN) the role Role.
type LDAPRoleRule struct {
	Group string `yaml:"group"`
	Role  string `yaml:"role"`
}

// DefaultConnectorTimeout is an LDAP connector's timeout when unset.
const DefaultConnectorTimeout = Duration(5 * time.Second)

var (
	connectorIDPattern = regexp.MustCompile(`^[a-z0-9][a-z0-9_-]{0,31}$`)
	// domainPattern is a lower-case DNS name of at least two labels.
	domainPattern = regexp.MustCompile(`^([a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?$`)
	rolePattern   = regexp.MustCompile(`^[a-z][a-z0-9_-]{0,63}$`)
)

// connectorEnv is the prefix of a connector's variables:
// GATEHOUSE_CONNECTORS_CORP_AD_ for the ID corp-ad.
func connectorEnv(id string) string {
	return envPrefix + "CONNECTORS_" + strings.ToUpper(strings.ReplaceAll(id, "-", "_")) + "_"
}

// applyConnectorEnv sets each connector's secret (an LDAP bind password,
// an OIDC client secret) from GATEHOUSE_CONNECTORS_<ID>_BIND_PASSWORD or
// ..._CLIENT_SECRET, or from the file named by the same name with _FILE
// (one trailing newline dropped).
func (c *Config) applyConnectorEnv(getenv func(string) (string, bool)) []string {
	var problems []string
	for i := range c.Connectors {
		conn := &c.Connectors[i]
		name, target := connectorEnv(conn.ID)+"BIND_PASSWORD", &conn.LDAP.BindPassword
		if conn.Type == "oidc" {
			name, target = connectorEnv(conn.ID)+"CLIENT_SECRET", &conn.OIDC.ClientSecret
		}
		v, direct := getenv(name)
		file, fromFile := getenv(name + "_FILE")
		switch {
		case direct && fromFile:
			problems = append(problems, fmt.Sprintf("%s_FILE: conflicts with %s; set only one", name, name))
		case direct:
			*target = Secret(v)
		case fromFile:
			data, err := os.ReadFile(file)
			if err != nil {
				problems = append(problems, fmt.Sprintf("%s_FILE: cannot read %s: %v", name, file, err))
				continue
			}
			*target = Secret(strings.TrimSuffix(strings.TrimSuffix(string(data), "\n"), "\r"))
		}
	}
	return problems
}

// fillConnectorDefaults sets the defaults of each connector.
func (c *Config) fillConnectorDefaults() {
	for i := range c.Connectors {
		conn := &c.Connectors[i]
		if conn.Name == "" {
			conn.Name = conn.ID
		}
		if conn.LDAP.Timeout == 0 {
			conn.LDAP.Timeout = DefaultConnectorTimeout
		}
	}
}

// validateConnectors checks the connectors: unknown types, missing keys
// and bad URLs are problems. Whether a directory answers is not: serve
// only warns when it does not.
func (c *Config) validateConnectors(p *problems) {
	seen := map[string]bool{}
	domainOwner := map[string]string{}
	for i, conn := range c.Connectors {
		key := fmt.Sprintf("connectors[%d]", i)
		switch {
		case conn.ID == "":
			p.add(key+".id", "required")
		case !connectorIDPattern.MatchString(conn.ID):
			p.add(key+".id", "must be 1 to 32 lower-case letters, digits, - or _, starting with a letter or digit")
		case seen[conn.ID]:
			p.add(key+".id", "%q is used by another connector", conn.ID)
		}
		seen[conn.ID] = true
		c.validateDomains(p, key, conn, domainOwner)
		switch conn.Type {
		case "ldap":
			conn.LDAP.validate(p, key+".ldap")
		case "oidc":
			conn.OIDC.validate(p, key+".oidc")
		case "":
			p.add(key+".type", "required (ldap or oidc)")
		default:
			p.add(key+".type", "unknown connector type %q (known: ldap, oidc)", conn.Type)
		}
	}
}

// validateDomains checks a connector's home-realm domains: lower-case
// DNS names, on redirect (oidc) connectors only, each on one connector.
func (c *Config) validateDomains(p *problems, key string, conn Connector, owner map[string]string) {
	if len(conn.Domains) > 0 && conn.Type != "oidc" {
		p.add(key+".domains", "only for oidc connectors (an LDAP directory already checks the passwords typed here)")
		return
	}
	for j, d := range conn.Domains {
		dk := fmt.Sprintf("%s.domains[%d]", key, j)
		switch {
		case len(d) > 253 || !domainPattern.MatchString(d):
			p.add(dk, "%q must be a lower-case domain name such as corp.example", d)
		case owner[d] != "":
			p.add(dk, "%q already belongs to connector %q", d, owner[d])
		default:
			owner[d] = conn.ID
		}
	}
}

func (l LDAPConnector) validate(p *problems, key string) {
	u, err := url.Parse(l.URL)
	switch {
	case l.URL == "":
		p.add(key+".url", "required: ldap://host[:port] or ldaps://host[:port]")
	case err != nil || (u.Scheme != "ldap" && u.Scheme != "ldaps"):
		p.add(key+".url", "must be ldap://host[:port] or ldaps://host[:port]")
	case u.Host == "" || u.Hostname() == "" || (u.Path != "" && u.Path != "/") || u.RawQuery != "" || u.User != nil:
		p.add(key+".url", "must be ldap://host[:port] or ldaps://host[:port], without path, query or credentials")
	case u.Scheme == "ldaps" && l.StartTLS:
		p.add(key+".start_tls", "is for ldap:// URLs; ldaps:// is TLS already")
	}
	if l.CAFile != "" {
		if _, err := os.Stat(l.CAFile); err != nil {
			p.add(key+".ca_file", "%v", err)
		}
	}
	if l.BindDN != "" && l.BindPassword == "" {
		p.add(key+".bind_password", "required with bind_dn (or set it in the environment)")
	}
	if l.UserBaseDN == "" {
		p.add(key+".user_base_dn", "required")
	}
	if l.UserFilter != "" && (!strings.HasPrefix(l.UserFilter, "(") || !strings.Contains(l.UserFilter, "{username}")) {
		p.add(key+".user_filter", "must be a parenthesised filter containing {username}, such as (uid={username})")
	}
	switch l.GroupKind {
	case "", "groupOfNames", "groupOfUniqueNames", "posixGroup":
		if len(l.RoleRules) > 0 && l.GroupBaseDN == "" {
			p.add(key+".group_base_dn", "required with role_rules unless group_kind is memberOf")
		}
	case "memberOf":
	default:
		p.add(key+".group_kind", "must be groupOfNames, groupOfUniqueNames, posixGroup or memberOf")
	}
	if l.GroupFilter != "" && !strings.HasPrefix(l.GroupFilter, "(") {
		p.add(key+".group_filter", "must be a parenthesised filter")
	}
	for j, r := range l.RoleRules {
		rk := fmt.Sprintf("%s.role_rules[%d]", key, j)
		if r.Group == "" {
			p.add(rk+".group", "required")
		}
		if !rolePattern.MatchString(r.Role) {
			p.add(rk+".role", "must be a role name (lower-case letters, digits, - or _)")
		}
	}
	p.durationBetween(key+".timeout", l.Timeout, Duration(100*time.Millisecond), Duration(time.Minute))
}

func (o OIDCConnector) validate(p *problems, key string) {
	u, err := url.Parse(o.Issuer)
	switch {
	case o.Issuer == "":
		p.add(key+".issuer", "required: the upstream's issuer URL")
	case err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" || u.RawQuery != "" || u.Fragment != "" || u.User != nil:
		p.add(key+".issuer", "must be an https URL without query, fragment or credentials (http only reaches loopback and private upstreams under outbound.allow_private_networks)")
	}
	if o.ClientID == "" {
		p.add(key+".client_id", "required")
	}
	if o.ClientSecret == "" {
		p.add(key+".client_secret", "required (or set it in the environment)")
	}
	if len(o.Scopes) > 0 && !slices.Contains(o.Scopes, "openid") {
		p.add(key+".scopes", "must include openid")
	}
}
