package config

import (
	"errors"
	"fmt"
	"net"
	"net/netip"
	"net/url"
	"regexp"
	"slices"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"
)

// Validate checks every rule and returns an *Error listing every problem,
// or nil. It does not change c; Load normalises before it validates.
func (c *Config) Validate() error {
	var p problems
	checkIssuer(&p, c.Issuer)
	if _, _, err := net.SplitHostPort(c.Listen); err != nil {
		p.add("listen", "must be host:port, such as 127.0.0.1:8080: %v", err)
	}
	if c.AdminListen != "" {
		if _, _, err := net.SplitHostPort(c.AdminListen); err != nil {
			p.add("admin_listen", "must be host:port, such as 127.0.0.1:9464, or empty to turn it off: %v", err)
		} else if c.AdminListen == c.Listen {
			p.add("admin_listen", "must differ from listen")
		}
	} else if c.AdminPprof {
		p.add("admin_pprof", "needs admin_listen: the profiler is served only on the admin listener")
	}
	if c.DataDir == "" {
		p.add("data_dir", "required")
	}
	checkDatabaseURL(&p, c.Database.URL.Reveal())
	p.durationBetween("database.connect_timeout", c.Database.ConnectTimeout, Duration(100*time.Millisecond), Duration(time.Minute))
	p.intBetween("database.max_open_conns", int64(c.Database.MaxOpenConns), 1, 1000)
	if c.Database.StatementTimeout != 0 {
		p.durationBetween("database.statement_timeout", c.Database.StatementTimeout, Duration(100*time.Millisecond), Duration(time.Hour))
	}
	if c.MemoryLimitMiB != 0 {
		p.intBetween("memory_limit_mib", c.MemoryLimitMiB, 64, 1<<20)
	}
	if c.MasterKey != "" {
		if _, err := decodeMasterKey(c.MasterKey.Reveal()); err != nil {
			p.add("master_key", "%v", err)
		}
	}
	p.oneOf("signing.algorithm", c.Signing.Algorithm, "RS256", "ES256")
	c.Tokens.validate(&p)
	if t := c.Registration.InitialAccessToken; t != "" && utf8.RuneCountInString(t.Reveal()) < 32 {
		p.add("registration.initial_access_token", "must be at least 32 characters when set (leave it empty to turn dynamic client registration off)")
	}
	if l := c.Registration.UnusedClientLifetime; l != 0 {
		p.durationBetween("registration.unused_client_lifetime", l, Duration(time.Hour), Duration(87600*time.Hour))
	}
	c.Sessions.validate(&p)
	c.Password.validate(&p)
	c.Email.validate(&p)
	c.SMS.validate(&p)
	c.Theme.validate(&p)
	p.oneOf("log.level", c.Log.Level, "debug", "info", "warn", "error")
	p.oneOf("log.format", c.Log.Format, "json", "text")
	c.HTTP.validate(&p)
	if c.Redis.URL != "" {
		if err := checkRedisURL(c.Redis.URL.Reveal()); err != nil {
			p.add("redis.url", "%v", err)
		}
	}
	p.durationBetween("redis.timeout", c.Redis.Timeout, Duration(10*time.Millisecond), Duration(10*time.Second))
	c.RateLimits.validate(&p)
	c.Lockout.validate(&p)
	c.Captcha.validate(&p)
	c.Audit.validate(&p)
	c.MFA.validate(&p)
	c.Console.validate(&p)
	p.intBetween("usage.min_cell", int64(c.Usage.MinCell), 1, 1000)
	c.validateConnectors(&p)
	if len(p) > 0 {
		return &Error{Problems: p}
	}
	return nil
}

// checkIssuer applies OpenID Connect Discovery 1.0 §3: the issuer is a URL
// using the https scheme with no query or fragment. http is allowed on
// loopback hosts only, for development.
func checkIssuer(p *problems, s string) {
	const key = "issuer"
	if s == "" {
		p.add(key, "required")
		return
	}
	u, err := url.Parse(s)
	if err != nil {
		p.add(key, "not a URL: %v", err)
		return
	}
	if !u.IsAbs() || u.Opaque != "" {
		p.add(key, "must be an absolute URL such as https://login.example.com, got %q", s)
		return
	}
	if u.Scheme != "https" && u.Scheme != "http" {
		p.add(key, "scheme must be https, got %q", u.Scheme)
		return
	}
	if u.Host == "" {
		p.add(key, "must include a host")
		return
	}
	if u.Scheme == "http" && !isLoopback(u.Hostname()) {
		p.add(key, "http is only allowed on loopback hosts; use https")
	}
	if u.User != nil {
		p.add(key, "must not contain user information")
	}
	if u.RawQuery != "" || u.ForceQuery {
		p.add(key, "must not contain a query")
	}
	if strings.Contains(s, "#") {
		p.add(key, "must not contain a fragment")
	}
	if strings.HasSuffix(s, "/") {
		p.add(key, "must not end with a slash")
	}
}

// isLoopback reports whether host is localhost, 127.0.0.0/8 or ::1.
func isLoopback(host string) bool {
	if strings.EqualFold(host, "localhost") {
		return true
	}
	ip, err := netip.ParseAddr(host)
	return err == nil && ip.Unmap().IsLoopback()
}

// checkDatabaseURL never repeats the URL: a PostgreSQL URL may hold a
// password.
func checkDatabaseURL(p *problems, s string) {
	const key = "database.url"
	switch {
	case s == "":
		p.add(key, "required")
	case strings.HasPrefix(s, "sqlite:"):
		if s == "sqlite:" {
			p.add(key, "sqlite: needs a file path, such as sqlite:/var/lib/gatehouse/gatehouse.db")
		}
	case strings.HasPrefix(s, "postgres://"), strings.HasPrefix(s, "postgresql://"):
		if _, err := url.Parse(s); err != nil {
			p.add(key, "not a valid PostgreSQL URL")
		}
	default:
		p.add(key, "must start with sqlite:, postgres:// or postgresql://")
	}
}

func (t Tokens) validate(p *problems) {
	const minute, hour = Duration(time.Minute), Duration(time.Hour)
	p.durationBetween("tokens.access_token_lifetime", t.AccessTokenLifetime, minute, 24*hour)
	p.durationBetween("tokens.refresh_token_lifetime", t.RefreshTokenLifetime, hour, 8760*hour)
	p.durationBetween("tokens.refresh_token_absolute_lifetime", t.RefreshTokenAbsoluteLifetime, hour, 8760*hour)
	p.durationBetween("tokens.id_token_lifetime", t.IDTokenLifetime, minute, 24*hour)
	p.durationBetween("tokens.authorization_code_lifetime", t.AuthorizationCodeLifetime,
		Duration(10*time.Second), 10*minute)
	p.durationBetween("tokens.rotated_refresh_token_retention", t.RotatedRefreshTokenRetention, minute, 720*hour)
	validateRolesClaim(p, t.RolesClaim)
}

func (s Sessions) validate(p *problems) {
	const minute, hour = Duration(time.Minute), Duration(time.Hour)
	p.durationBetween("sessions.idle_lifetime", s.IdleLifetime, 5*minute, 720*hour)
	p.durationBetween("sessions.absolute_lifetime", s.AbsoluteLifetime, hour, 8760*hour)
	if s.AbsoluteLifetime < s.IdleLifetime {
		p.add("sessions.absolute_lifetime", "must be at least sessions.idle_lifetime (%v), got %v",
			s.IdleLifetime, s.AbsoluteLifetime)
	}
}

func (pw Password) validate(p *problems) {
	// NIST SP 800-63B §5.1.1.2: at least 8 characters, and verifiers
	// SHOULD permit at least 64.
	p.intBetween("password.min_length", int64(pw.MinLength), 8, 64)
	p.intBetween("password.max_length", int64(pw.MaxLength), 64, 1024)
	if pw.MaxLength < pw.MinLength {
		p.add("password.max_length", "must be at least password.min_length (%d), got %d", pw.MinLength, pw.MaxLength)
	}
	p.intBetween("password.hash_workers", int64(pw.HashWorkers), 0, 1024)
	p.durationBetween("password.hash_queue_timeout", pw.HashQueueTimeout, Duration(time.Millisecond), Duration(time.Minute))
}

// hexColor is strict because the colour is written into CSS.
var hexColor = regexp.MustCompile(`^#[0-9a-fA-F]{6}$`)

func (t Theme) validate(p *problems) {
	switch n := utf8.RuneCountInString(t.ProductName); {
	case strings.TrimSpace(t.ProductName) == "":
		p.add("theme.product_name", "required")
	case n > 60:
		p.add("theme.product_name", "must be at most 60 characters, got %d", n)
	case strings.ContainsFunc(t.ProductName, unicode.IsControl):
		p.add("theme.product_name", "must not contain control characters")
	}
	if err := checkLogoURL(t.LogoURL); err != nil {
		p.add("theme.logo_url", "%v", err)
	}
	if !hexColor.MatchString(t.PrimaryColor) {
		p.add("theme.primary_color", "must be a colour like #2563eb, got %q", t.PrimaryColor)
	}
}

// checkLogoURL allows an absolute http(s) URL or a path on this server.
// A protocol-relative "//host" (or "/\host", which browsers read the same
// way) would load from another host, so it is refused.
func checkLogoURL(s string) error {
	if s == "" {
		return nil
	}
	if strings.ContainsAny(s, " \t\r\n\"'()<>\\") {
		return errors.New("must not contain whitespace, quotes, parentheses, angle brackets or backslashes")
	}
	if strings.HasPrefix(s, "//") {
		return errors.New("must be an absolute http(s) URL or a path starting with a single /")
	}
	u, err := url.Parse(s)
	if err != nil {
		return fmt.Errorf("not a URL: %v", err)
	}
	if strings.HasPrefix(s, "/") {
		return nil
	}
	if (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" {
		return fmt.Errorf("must be an absolute http(s) URL or a path starting with /, got %q", s)
	}
	return nil
}

func (h HTTP) validate(p *problems) {
	for i, s := range h.TrustedProxies {
		if _, err := parseProxy(s); err != nil {
			p.add(fmt.Sprintf("http.trusted_proxies[%d]", i), "not an IP address or CIDR: %q", s)
		}
	}
	p.intBetween("http.max_body_bytes", h.MaxBodyBytes, 1<<10, 64<<20)
	p.intBetween("http.max_header_bytes", int64(h.MaxHeaderBytes), 4<<10, 1<<20)
	p.durationBetween("http.request_timeout", h.RequestTimeout, Duration(time.Second), Duration(5*time.Minute))
	p.durationBetween("http.shutdown_timeout", h.ShutdownTimeout, Duration(time.Second), Duration(10*time.Minute))
	p.durationBetween("http.shutdown_delay", h.ShutdownDelay, 0, Duration(time.Minute))
	if h.ShutdownDelay > 0 && h.ShutdownDelay >= h.ShutdownTimeout {
		p.add("http.shutdown_delay", "must be shorter than http.shutdown_timeout (%v)", h.ShutdownTimeout)
	}
}

// TrustedProxyPrefixes parses TrustedProxies; a bare IP becomes a
// single-address prefix.
func (h HTTP) TrustedProxyPrefixes() ([]netip.Prefix, error) {
	out := make([]netip.Prefix, 0, len(h.TrustedProxies))
	for _, s := range h.TrustedProxies {
		pfx, err := parseProxy(s)
		if err != nil {
			return nil, fmt.Errorf("config: http.trusted_proxies: %w", err)
		}
		out = append(out, pfx)
	}
	return out, nil
}

func parseProxy(s string) (netip.Prefix, error) {
	if strings.Contains(s, "/") {
		pfx, err := netip.ParsePrefix(s)
		return pfx.Masked(), err
	}
	ip, err := netip.ParseAddr(s)
	if err != nil {
		return netip.Prefix{}, err
	}
	if ip.Zone() != "" {
		return netip.Prefix{}, fmt.Errorf("%q: an IPv6 zone cannot match a remote address", s)
	}
	return ip.Prefix(ip.BitLen())
}

// reservedClaims are the claims that tokens, userinfo or introspection
// already carry (RFC 7519 §4.1, OIDC Core §2 and §5.1, RFC 9068 §2.2,
// RFC 7662 §2.2): the roles must not overwrite any of them.
var reservedClaims = []string{
	"iss", "sub", "aud", "exp", "nbf", "iat", "jti", "auth_time", "nonce", "acr", "amr", "azp", "sid", "at_hash", "c_hash",
	"name", "given_name", "family_name", "middle_name", "nickname", "preferred_username", "profile", "picture", "website",
	"email", "email_verified", "gender", "birthdate", "zoneinfo", "locale", "phone_number", "phone_number_verified",
	"address", "updated_at", "client_id", "scope", "active", "token_type", "username", "cnf",
}

var claimNamePattern = regexp.MustCompile(`^[A-Za-z][A-Za-z0-9_.:/-]{0,199}$`)

// validateRolesClaim: a name a client can read back from JSON (a plain
// word or a namespaced URI such as https://example.com/roles) that no
// standard claim has.
func validateRolesClaim(p *problems, name string) {
	switch {
	case !claimNamePattern.MatchString(name):
		p.add("tokens.roles_claim", "%q is not a claim name: want a letter, then up to 199 letters, digits or _ . : / -", name)
	case slices.Contains(reservedClaims, name):
		p.add("tokens.roles_claim", "%q is a standard claim already; choose another name, e.g. roles", name)
	}
}
