package ldap

import (
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"log/slog"
	"net/url"
	"os"
	"strings"
	"time"
)

// DefaultTimeout bounds a whole login (connection, binds and searches)
// when Config.Timeout is zero.
const DefaultTimeout = 5 * time.Second

// Group kinds: how a user's groups are found.
const (
	// GroupOfNames: groups of objectClass groupOfNames listing members'
	// DNs in member.
	GroupOfNames = "groupOfNames"
	// GroupOfUniqueNames: objectClass groupOfUniqueNames, uniqueMember.
	GroupOfUniqueNames = "groupOfUniqueNames"
	// PosixGroup: objectClass posixGroup, members' usernames in memberUid.
	PosixGroup = "posixGroup"
	// MemberOf: the user entry's memberOf attribute (Active Directory,
	// OpenLDAP's memberof overlay); no group search.
	MemberOf = "memberOf"
)

// SubjectDN as Config.SubjectAttribute keys links by the entry's DN
// rather than an attribute.
const SubjectDN = "dn"

// Attributes names the directory attributes of a person's profile.
type Attributes struct {
	Username   string // default "uid" ("sAMAccountName" on AD)
	Email      string // default "mail"
	GivenName  string // default "givenName"
	FamilyName string // default "sn"
	Phone      string // default "telephoneNumber"
}

// RoleRule gives members of Group the local role Role. Group is a group's
// name (its cn) or its DN, compared without regard to case.
type RoleRule struct {
	Group string
	Role  string
}

// Config configures a Connector.
type Config struct {
	ID   string
	Name string
	// URL is ldap://host[:port] or ldaps://host[:port].
	URL string
	// StartTLS upgrades an ldap:// connection before anything is sent.
	StartTLS bool
	// CAFile is a PEM file of the CAs trusted for the directory's
	// certificate; empty uses the system's.
	CAFile string
	// InsecureSkipVerify skips the certificate check; only for tests.
	InsecureSkipVerify bool
	// BindDN and BindPassword are the service account that searches.
	BindDN       string
	BindPassword string
	UserBaseDN   string
	// UserFilter finds the entry; "{username}" stands for the typed name,
	// escaped. Default "(uid={username})".
	UserFilter string
	// SubjectAttribute keys the link: "entryUUID" (default; objectGUID
	// on AD) or "dn".
	SubjectAttribute string
	Attributes       Attributes
	// GroupBaseDN is where groups are searched (not used by MemberOf).
	GroupBaseDN string
	// GroupKind is one of the group kinds (default GroupOfNames).
	GroupKind string
	// GroupFilter narrows the group search further (e.g.
	// "(ou:dn:=apps)"); optional.
	GroupFilter string
	RoleRules   []RoleRule
	// TrustEmail: the directory's addresses are verified, and a first
	// login may link to the local account with the same address.
	TrustEmail bool
	// Timeout bounds a login; zero is DefaultTimeout.
	Timeout time.Duration
}

// Open checks c and returns its Connector; it does not contact the
// directory (see Connector.Ping).
func (c Config) Open(logger *slog.Logger) (*Connector, error) {
	c = c.withDefaults()
	if err := c.validate(); err != nil {
		return nil, err
	}
	u, _ := url.Parse(c.URL)
	tc := &tls.Config{ServerName: u.Hostname(), MinVersion: tls.VersionTLS12, InsecureSkipVerify: c.InsecureSkipVerify} // #nosec G402 -- tests only, refused outside them by config validation's warning
	if c.CAFile != "" {
		pem, err := os.ReadFile(c.CAFile)
		if err != nil {
			return nil, fmt.Errorf("ldap %s: read ca_file: %w", c.ID, err)
		}
		pool := x509.NewCertPool()
		if !pool.AppendCertsFromPEM(pem) {
			return nil, fmt.Errorf("ldap %s: ca_file %s holds no PEM certificate", c.ID, c.CAFile)
		}
		tc.RootCAs = pool
	}
	if logger == nil {
		logger = slog.New(slog.DiscardHandler)
	}
	return &Connector{cfg: c, tls: tc, log: logger.With("connector_id", c.ID)}, nil
}

func (c Config) withDefaults() Config {
	def := func(s *string, v string) {
		if *s == "" {
			*s = v
		}
	}
	def(&c.Name, c.ID)
	def(&c.UserFilter, "(uid={username})")
	def(&c.SubjectAttribute, "entryUUID")
	def(&c.GroupKind, GroupOfNames)
	def(&c.Attributes.Username, "uid")
	def(&c.Attributes.Email, "mail")
	def(&c.Attributes.GivenName, "givenName")
	def(&c.Attributes.FamilyName, "sn")
	def(&c.Attributes.Phone, "telephoneNumber")
	if c.Timeout <= 0 {
		c.Timeout = DefaultTimeout
	}
	return c
}

// Validate reports what is wrong with c (with its defaults), or nil.
func (c Config) Validate() error { return c.withDefaults().validate() }

func (c Config) validate() error {
	var errs []error
	bad := func(format string, a ...any) { errs = append(errs, fmt.Errorf(format, a...)) }
	if c.ID == "" {
		bad("id is required")
	}
	u, err := url.Parse(c.URL)
	switch {
	case c.URL == "":
		bad("url is required")
	case err != nil || u.Host == "" || u.Path != "" && u.Path != "/" || u.RawQuery != "":
		bad("url %q must be ldap://host[:port] or ldaps://host[:port]", c.URL)
	case u.Scheme != "ldap" && u.Scheme != "ldaps":
		bad("url %q: scheme must be ldap or ldaps", c.URL)
	case u.Scheme == "ldaps" && c.StartTLS:
		bad("start_tls is for ldap:// URLs; ldaps:// is TLS already")
	}
	if c.UserBaseDN == "" {
		bad("user_base_dn is required")
	}
	if strings.Count(c.UserFilter, "{username}") == 0 || !strings.HasPrefix(c.UserFilter, "(") {
		bad("user_filter %q must be a parenthesised filter containing {username}", c.UserFilter)
	}
	if c.BindDN != "" && c.BindPassword == "" {
		bad("bind_password is required with bind_dn")
	}
	switch c.GroupKind {
	case GroupOfNames, GroupOfUniqueNames, PosixGroup:
		if c.GroupBaseDN == "" && len(c.RoleRules) > 0 {
			bad("group_base_dn is required for group kind %s", c.GroupKind)
		}
	case MemberOf:
	default:
		bad("group_kind %q must be one of groupOfNames, groupOfUniqueNames, posixGroup, memberOf", c.GroupKind)
	}
	if c.GroupFilter != "" && !strings.HasPrefix(c.GroupFilter, "(") {
		bad("group_filter %q must be a parenthesised filter", c.GroupFilter)
	}
	for i, r := range c.RoleRules {
		if r.Group == "" || r.Role == "" {
			bad("role_rules[%d] needs group and role", i)
		}
	}
	return errors.Join(errs...)
}
