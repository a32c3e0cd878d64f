package ldap

import (
	"context"
	"crypto/tls"
	"fmt"
	"log/slog"
	"net"
	"slices"
	"strings"
	"unicode/utf8"

	goldap "github.com/go-ldap/ldap/v3"

	"gatehouse/federation"
)

// maxUsername bounds the names sent to the directory.
const maxUsername = 256

// Connector signs people in against an LDAP directory.
type Connector struct {
	cfg Config
	tls *tls.Config
	log *slog.Logger
}

var (
	_ federation.PasswordConnector = (*Connector)(nil)
	_ federation.TrustedEmails     = (*Connector)(nil)
)

// ID is the configured connector ID.
func (c *Connector) ID() string { return c.cfg.ID }

// Name is the directory's display name.
func (c *Connector) Name() string { return c.cfg.Name }

// TrustEmail reports whether the directory's addresses are trusted.
func (c *Connector) TrustEmail() bool { return c.cfg.TrustEmail }

// Login checks username and password in the directory (see the package
// documentation). A wrong password, an unknown name, a name matching
// several entries, and a name no directory could hold (control
// characters, NUL, over 256 bytes) are (Identity{}, false, nil); a
// directory that does not answer within the timeout, or refuses the
// service account, is an error wrapping federation.ErrUnavailable.
func (c *Connector) Login(ctx context.Context, username, password string) (federation.Identity, bool, error) {
	if password == "" || !plausible(username) {
		return federation.Identity{}, false, nil
	}
	ctx, cancel := context.WithTimeout(ctx, c.cfg.Timeout)
	defer cancel()
	conn, err := c.dial(ctx)
	if err != nil {
		return federation.Identity{}, false, err
	}
	defer conn.Close()
	entry, err := c.findUser(ctx, conn, username)
	if err != nil || entry == nil {
		return federation.Identity{}, false, err
	}
	switch err := conn.Bind(entry.DN, password); {
	case goldap.IsErrorWithCode(err, goldap.LDAPResultInvalidCredentials):
		return federation.Identity{}, false, nil
	case err != nil:
		return federation.Identity{}, false, c.unavailable(ctx, "bind as user", err)
	}
	id, err := c.identity(entry)
	if err != nil {
		return federation.Identity{}, false, err
	}
	if id.Groups, err = c.groups(ctx, conn, entry, id.Username); err != nil {
		return federation.Identity{}, false, err
	}
	id.Roles = c.roles(id.Groups)
	return id, true, nil
}

// Ping opens a connection and binds as the service account, to tell at
// start whether the directory is reachable.
func (c *Connector) Ping(ctx context.Context) error {
	ctx, cancel := context.WithTimeout(ctx, c.cfg.Timeout)
	defer cancel()
	conn, err := c.dial(ctx)
	if err != nil {
		return err
	}
	defer conn.Close()
	return c.serviceBind(ctx, conn)
}

// plausible refuses names no directory entry should have, before the
// directory sees them; everything else is escaped into the filter.
func plausible(username string) bool {
	if username == "" || len(username) > maxUsername || !utf8.ValidString(username) {
		return false
	}
	return !strings.ContainsFunc(username, func(r rune) bool { return r < 0x20 || r == 0x7f })
}

// dial opens the connection, TLS included, and closes it when ctx ends so
// that no call outlives the login's deadline.
func (c *Connector) dial(ctx context.Context) (*goldap.Conn, error) {
	d := &net.Dialer{}
	if dl, ok := ctx.Deadline(); ok {
		d.Deadline = dl
	}
	conn, err := goldap.DialURL(c.cfg.URL, goldap.DialWithDialer(d), goldap.DialWithTLSConfig(c.tls))
	if err != nil {
		return nil, c.unavailable(ctx, "connect", err)
	}
	conn.SetTimeout(c.cfg.Timeout)
	// Closing the connection ends any call waiting on it.
	context.AfterFunc(ctx, func() { conn.Close() })
	if c.cfg.StartTLS {
		if err := conn.StartTLS(c.tls); err != nil {
			conn.Close()
			return nil, c.unavailable(ctx, "start tls", err)
		}
	}
	return conn, nil
}

func (c *Connector) serviceBind(ctx context.Context, conn *goldap.Conn) error {
	var err error
	if c.cfg.BindDN == "" {
		err = conn.UnauthenticatedBind("")
	} else {
		err = conn.Bind(c.cfg.BindDN, c.cfg.BindPassword)
	}
	if err != nil {
		return c.unavailable(ctx, "bind as service account", err)
	}
	return nil
}

// findUser returns the one entry whose filter matches username, or nil.
func (c *Connector) findUser(ctx context.Context, conn *goldap.Conn, username string) (*goldap.Entry, error) {
	if err := c.serviceBind(ctx, conn); err != nil {
		return nil, err
	}
	filter := strings.ReplaceAll(c.cfg.UserFilter, "{username}", goldap.EscapeFilter(username))
	a := c.cfg.Attributes
	attrs := []string{a.Username, a.Email, a.GivenName, a.FamilyName, a.Phone}
	if c.cfg.SubjectAttribute != SubjectDN {
		attrs = append(attrs, c.cfg.SubjectAttribute)
	}
	if c.cfg.GroupKind == MemberOf {
		attrs = append(attrs, "memberOf")
	}
	// A size limit of 2 is enough to tell "exactly one".
	req := goldap.NewSearchRequest(c.cfg.UserBaseDN, goldap.ScopeWholeSubtree, goldap.NeverDerefAliases,
		2, 0, false, filter, attrs, nil)
	res, err := conn.Search(req)
	switch {
	case goldap.IsErrorWithCode(err, goldap.LDAPResultSizeLimitExceeded):
		c.log.WarnContext(ctx, "ldap login name matches several entries")
		return nil, nil
	case err != nil:
		return nil, c.unavailable(ctx, "search users", err)
	case len(res.Entries) > 1:
		c.log.WarnContext(ctx, "ldap login name matches several entries")
		return nil, nil
	case len(res.Entries) == 0:
		return nil, nil
	}
	return res.Entries[0], nil
}

// identity maps entry's attributes onto an Identity.
func (c *Connector) identity(entry *goldap.Entry) (federation.Identity, error) {
	a := c.cfg.Attributes
	id := federation.Identity{
		ConnectorID: c.cfg.ID,
		Username:    entry.GetAttributeValue(a.Username),
		Email:       entry.GetAttributeValue(a.Email),
		GivenName:   entry.GetAttributeValue(a.GivenName),
		FamilyName:  entry.GetAttributeValue(a.FamilyName),
		Phone:       entry.GetAttributeValue(a.Phone),
	}
	id.EmailVerified = id.Email != "" && c.cfg.TrustEmail
	switch sa := c.cfg.SubjectAttribute; {
	case sa == SubjectDN:
		id.Subject = strings.ToLower(entry.DN)
	case strings.EqualFold(sa, "objectGUID"):
		// Binary on Active Directory.
		if raw := entry.GetRawAttributeValue(sa); len(raw) > 0 {
			id.Subject = fmt.Sprintf("%x", raw)
		}
	default:
		id.Subject = entry.GetAttributeValue(sa)
	}
	if id.Subject == "" {
		return federation.Identity{}, fmt.Errorf("ldap %s: entry has no %s: %w", c.cfg.ID, c.cfg.SubjectAttribute, federation.ErrUnavailable)
	}
	if id.Username == "" {
		return federation.Identity{}, fmt.Errorf("ldap %s: entry has no %s: %w", c.cfg.ID, a.Username, federation.ErrUnavailable)
	}
	return id, nil
}

// groups returns the names (cn) of the entry's groups.
func (c *Connector) groups(ctx context.Context, conn *goldap.Conn, entry *goldap.Entry, username string) ([]string, error) {
	if c.cfg.GroupKind == MemberOf {
		var names []string
		for _, dn := range entry.GetAttributeValues("memberOf") {
			names = append(names, dn)
			if parsed, err := goldap.ParseDN(dn); err == nil && len(parsed.RDNs) > 0 && len(parsed.RDNs[0].Attributes) > 0 {
				names = append(names, parsed.RDNs[0].Attributes[0].Value)
			}
		}
		return names, nil
	}
	if c.cfg.GroupBaseDN == "" {
		return nil, nil
	}
	if err := c.serviceBind(ctx, conn); err != nil {
		return nil, err
	}
	var member string
	switch c.cfg.GroupKind {
	case GroupOfNames:
		member = "(member=" + goldap.EscapeFilter(entry.DN) + ")"
	case GroupOfUniqueNames:
		member = "(uniqueMember=" + goldap.EscapeFilter(entry.DN) + ")"
	case PosixGroup:
		member = "(memberUid=" + goldap.EscapeFilter(username) + ")"
	}
	filter := "(&(objectClass=" + c.cfg.GroupKind + ")" + member + c.cfg.GroupFilter + ")"
	req := goldap.NewSearchRequest(c.cfg.GroupBaseDN, goldap.ScopeWholeSubtree, goldap.NeverDerefAliases,
		0, 0, false, filter, []string{"cn"}, nil)
	res, err := conn.Search(req)
	if err != nil {
		return nil, c.unavailable(ctx, "search groups", err)
	}
	var names []string
	for _, g := range res.Entries {
		names = append(names, g.DN)
		names = append(names, g.GetAttributeValues("cn")...)
	}
	return names, nil
}

// roles applies the role rules to groups (names and DNs).
func (c *Connector) roles(groups []string) []string {
	var roles []string
	for _, r := range c.cfg.RoleRules {
		if slices.ContainsFunc(groups, func(g string) bool { return strings.EqualFold(g, r.Group) }) && !slices.Contains(roles, r.Role) {
			roles = append(roles, r.Role)
		}
	}
	return roles
}

// unavailable wraps a failure to get an answer from the directory. The
// message names the step, never the password.
func (c *Connector) unavailable(ctx context.Context, step string, err error) error {
	if ctxErr := ctx.Err(); ctxErr != nil {
		err = fmt.Errorf("%w (%w)", ctxErr, err)
	}
	return fmt.Errorf("ldap %s: %s: %w: %w", c.cfg.ID, step, federation.ErrUnavailable, err)
}
