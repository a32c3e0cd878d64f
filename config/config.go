package config

import (
	"path/filepath"
	"strings"
	"time"
)

// Config is the complete Gatehouse configuration. The yaml tags are the
// schema: they name the keys in the file, in problems and, upper-cased, in
// environment variables.
type Config struct {
	// Issuer is the OpenID Connect issuer identifier, the base URL that
	// appears in the iss claim. Load strips a trailing slash.
	Issuer string `yaml:"issuer"`
	// Listen is the host:port the HTTP server binds to.
	Listen string `yaml:"listen"`
	// AdminListen is the host:port of the admin listener, which serves
	// /metrics, /healthz and /readyz; empty turns it off.
	AdminListen string `yaml:"admin_listen"`
	// AdminPprof serves Go's profiler (net/http/pprof) on the admin
	// listener under /debug/pprof/; off by default, as a profile shows
	// much of the process's memory.
	AdminPprof bool `yaml:"admin_pprof"`
	// DataDir holds the SQLite database and, in development mode, the
	// generated master key.
	DataDir  string   `yaml:"data_dir"`
	Database Database `yaml:"database"`
	// MemoryLimitMiB is the soft memory limit of the serve process, in
	// MiB (Go's runtime/debug.SetMemoryLimit): near it the garbage
	// collector works harder and returns memory to the operating system.
	// 0 means password.hash_workers times the argon2id memory of a hash
	// plus 256 MiB. The GOMEMLIMIT environment variable, when set, wins.
	MemoryLimitMiB int64 `yaml:"memory_limit_mib"`
	// MasterKey encrypts secrets at rest: 32 bytes as base64 or hex. When
	// empty Gatehouse runs in development mode (see DevelopmentMode).
	MasterKey    Secret       `yaml:"master_key"`
	Signing      Signing      `yaml:"signing"`
	Tokens       Tokens       `yaml:"tokens"`
	Registration Registration `yaml:"registration"`
	Sessions     Sessions     `yaml:"sessions"`
	Password     Password     `yaml:"password"`
	Email        Email        `yaml:"email"`
	SMS          SMS          `yaml:"sms"`
	Theme        Theme        `yaml:"theme"`
	Log          Log          `yaml:"log"`
	HTTP         HTTP         `yaml:"http"`
	Redis        Redis        `yaml:"redis"`
	RateLimits   RateLimits   `yaml:"rate_limits"`
	Lockout      Lockout      `yaml:"lockout"`
	Captcha      Captcha      `yaml:"captcha"`
	Audit        Audit        `yaml:"audit"`
	Outbound     Outbound     `yaml:"outbound"`
	MFA          MFA          `yaml:"mfa"`
	Console      Console      `yaml:"console"`
	Usage        Usage        `yaml:"usage"`
	// Connectors are the upstream identity sources, tried in order by the
	// login form (see connectors.go).
	Connectors []Connector `yaml:"connectors,omitempty"`
}

// Database says where Gatehouse keeps its state.
type Database struct {
	// URL is "sqlite:<path>", "postgres://…" or "postgresql://…". When
	// empty, Load uses "sqlite:<data_dir>/gatehouse.db".
	URL            Secret `yaml:"url"`
	MigrateOnStart bool   `yaml:"migrate_on_start"`
	// ConnectTimeout bounds each attempt to reach the database at start;
	// serve retries with backoff until one succeeds.
	ConnectTimeout Duration `yaml:"connect_timeout"`
	// MaxOpenConns caps the PostgreSQL connection pool of one instance
	// (SQLite always uses one connection).
	MaxOpenConns int `yaml:"max_open_conns"`
	// StatementTimeout makes PostgreSQL cancel statements that run longer;
	// zero keeps the server's setting.
	StatementTimeout Duration `yaml:"statement_timeout"`
}

// Signing configures the keys that sign ID tokens and JWT access tokens.
type Signing struct {
	// Algorithm is the JWS algorithm: RS256 or ES256.
	Algorithm string `yaml:"algorithm"`
}

// Tokens sets the lifetimes of what the token endpoint issues.
type Tokens struct {
	AccessTokenLifetime  Duration `yaml:"access_token_lifetime"`
	RefreshTokenLifetime Duration `yaml:"refresh_token_lifetime"`
	// RefreshTokenAbsoluteLifetime ends a grant this long after the
	// original authorization, however often its refresh token rotates;
	// RefreshTokenLifetime is the idle lifetime of each refresh token.
	RefreshTokenAbsoluteLifetime Duration `yaml:"refresh_token_absolute_lifetime"`
	IDTokenLifetime              Duration `yaml:"id_token_lifetime"`
	AuthorizationCodeLifetime    Duration `yaml:"authorization_code_lifetime"`
	// RequirePKCEForAllClients extends the PKCE requirement from public
	// clients to confidential ones too.
	RequirePKCEForAllClients bool `yaml:"require_pkce_for_all_clients"`
	// RotatedRefreshTokenRetention is how long a refresh token is kept
	// after it was rotated or revoked: presenting it again meanwhile
	// revokes its whole grant (reuse detection); afterwards it is unknown.
	RotatedRefreshTokenRetention Duration `yaml:"rotated_refresh_token_retention"`
	// RolesClaim names the claim that carries the user's roles in ID
	// tokens, userinfo, JWT access tokens and introspection, when the
	// client was granted the "roles" scope.
	RolesClaim string `yaml:"roles_claim"`
}

// Registration controls how clients and users come into being.
type Registration struct {
	// InitialAccessToken guards dynamic client registration (RFC 7591 §3).
	// Empty turns dynamic registration off.
	InitialAccessToken Secret `yaml:"initial_access_token"`
	// AllowSelfSignup shows the hosted "Create account" page.
	AllowSelfSignup bool `yaml:"allow_self_signup"`
	// RequireVerifiedEmail makes a new user verify their e-mail address
	// before their first login.
	RequireVerifiedEmail bool `yaml:"require_verified_email"`
	// UnusedClientLifetime deletes a dynamically registered client that
	// has not authenticated for this long; 0 keeps them forever.
	UnusedClientLifetime Duration `yaml:"unused_client_lifetime"`
}

// Sessions sets the lifetime of the browser login session.
type Sessions struct {
	// IdleLifetime ends a session that has not been used for this long.
	IdleLifetime Duration `yaml:"idle_lifetime"`
	// AbsoluteLifetime ends a session this long after login, used or not.
	AbsoluteLifetime Duration `yaml:"absolute_lifetime"`
}

// Password is the password policy for local accounts and the capacity
// for hashing them.
type Password struct {
	MinLength int `yaml:"min_length"`
	MaxLength int `yaml:"max_length"`
	// HashWorkers is how many argon2id hashes or checks may run at once;
	// 0 means one per CPU the process may use (GOMAXPROCS, which follows
	// a container's CPU limit). Sign-ins, registrations and password changes
	// beyond it wait for a worker.
	HashWorkers int `yaml:"hash_workers"`
	// HashQueueTimeout is how long one may wait for a worker before it is
	// answered 503 with Retry-After.
	HashQueueTimeout Duration `yaml:"hash_queue_timeout"`
}

// Email configures how e-mail goes out.
type Email struct {
	// SMTPURL names the SMTP server: smtp://[user:password@]host[:port]
	// (port 587 by default) upgrades with STARTTLS when the server offers
	// it and refuses to send credentials without it; smtps://… (port 465)
	// is TLS from the start. Empty means development delivery: e-mails,
	// codes and links included, are written to the log instead of sent.
	// Its password is masked wherever the configuration is shown.
	SMTPURL Secret `yaml:"smtp_url"`
	// From is the sender, an address with an optional display name:
	// "Gatehouse <no-reply@example.com>". Required with smtp_url.
	From string `yaml:"from"`
	// MaxMessageAge is how long a queued message (e-mail, text message or
	// back-channel logout) is retried before it is given up; one carrying
	// a code or link is dropped earlier, when that expires.
	MaxMessageAge Duration `yaml:"max_message_age"`
}

// SMS configures how text messages go out.
type SMS struct {
	// Provider is log (development delivery: messages, codes included,
	// are written to the log instead of sent), webhook or twilio.
	Provider string `yaml:"provider"`
	// WebhookURL receives one signed JSON POST per message: https, or
	// http on a loopback host.
	WebhookURL Secret `yaml:"webhook_url"`
	// WebhookSecret keys the HMAC-SHA256 signature of each webhook
	// request; at least 32 characters.
	WebhookSecret    Secret `yaml:"webhook_secret"`
	TwilioAccountSID string `yaml:"twilio_account_sid"`
	TwilioAuthToken  Secret `yaml:"twilio_auth_token"`
	// TwilioFrom is the sender: an E.164 number, an alphanumeric sender
	// ID or a Messaging Service SID (MG…).
	TwilioFrom string `yaml:"twilio_from"`
	// TwilioBaseURL is Twilio's API; change it only for tests.
	TwilioBaseURL string `yaml:"twilio_base_url"`
	// DefaultRegion is the ISO 3166-1 alpha-2 code (US, GB, …) of the
	// country whose numbers may be entered without a +country code.
	DefaultRegion string `yaml:"default_region"`
}

// Theme brands the hosted pages.
type Theme struct {
	ProductName string `yaml:"product_name"`
	// LogoURL is empty, an absolute http(s) URL or a path starting with "/".
	LogoURL string `yaml:"logo_url"`
	// PrimaryColor is a #rrggbb colour; it is written into CSS.
	PrimaryColor string `yaml:"primary_color"`
}

// Log configures the process logger.
type Log struct {
	Level  string `yaml:"level"`  // debug, info, warn or error
	Format string `yaml:"format"` // json or text
}

// HTTP configures the HTTP server.
type HTTP struct {
	// TrustedProxies lists the IPs and CIDRs whose X-Forwarded-* headers
	// are believed.
	TrustedProxies []string `yaml:"trusted_proxies"`
	// MaxBodyBytes caps the size of a request body (413 above).
	MaxBodyBytes int64 `yaml:"max_body_bytes"`
	// MaxHeaderBytes caps the size of the request line and headers
	// (431 above).
	MaxHeaderBytes int `yaml:"max_header_bytes"`
	// RequestTimeout is every request's deadline: work still waiting on
	// the database then is answered 503.
	RequestTimeout Duration `yaml:"request_timeout"`
	// ShutdownTimeout bounds a graceful shutdown: in-flight requests get
	// most of it to finish, then their contexts are cancelled.
	ShutdownTimeout Duration `yaml:"shutdown_timeout"`
	// ShutdownDelay is the first part of a shutdown, in which the server
	// still serves but answers /readyz 503 and closes each connection
	// after its answer: requests already on their way over a kept-alive
	// connection are read and answered instead of meeting a closed one.
	ShutdownDelay Duration `yaml:"shutdown_delay"`
}

// Default returns a configuration with every default filled in, derived
// ones included. It is valid and suits local development.
func Default() *Config {
	c := defaults()
	c.fillDerived()
	return c
}

// defaults returns the built-in defaults without the derived ones, which
// depend on other keys and so are filled only after the file and the
// environment have been read.
func defaults() *Config {
	return &Config{
		Issuer:      "http://localhost:8080",
		Listen:      "127.0.0.1:8080",
		AdminListen: "127.0.0.1:9464",
		DataDir:     "./data",
		Database: Database{
			MigrateOnStart: true,
			ConnectTimeout: Duration(5 * time.Second),
			MaxOpenConns:   32,
		},
		Signing: Signing{Algorithm: "RS256"},
		Tokens: Tokens{
			AccessTokenLifetime:          Duration(time.Hour),
			RefreshTokenLifetime:         Duration(720 * time.Hour),
			RefreshTokenAbsoluteLifetime: Duration(90 * 24 * time.Hour),
			IDTokenLifetime:              Duration(time.Hour),
			AuthorizationCodeLifetime:    Duration(60 * time.Second),
			RotatedRefreshTokenRetention: Duration(24 * time.Hour),
			RolesClaim:                   "roles",
		},
		Registration: Registration{AllowSelfSignup: true, UnusedClientLifetime: Duration(30 * 24 * time.Hour)},
		Sessions: Sessions{
			IdleLifetime:     Duration(24 * time.Hour),
			AbsoluteLifetime: Duration(168 * time.Hour),
		},
		// NIST SP 800-63B §5.1.1.2: at least 8 characters, and permit at
		// least 64.
		Password: Password{MinLength: 8, MaxLength: 128, HashQueueTimeout: Duration(2 * time.Second)},
		Email:    Email{MaxMessageAge: Duration(24 * time.Hour)},
		SMS: SMS{
			Provider:      "log",
			TwilioBaseURL: "https://api.twilio.com",
			DefaultRegion: "US",
		},
		Theme: Theme{
			ProductName:  "Gatehouse",
			PrimaryColor: "#2563eb",
		},
		Log: Log{Level: "info", Format: "json"},
		HTTP: HTTP{TrustedProxies: []string{}, MaxBodyBytes: 64 << 10, MaxHeaderBytes: 16 << 10,
			RequestTimeout: Duration(10 * time.Second), ShutdownTimeout: Duration(15 * time.Second), ShutdownDelay: Duration(time.Second)},
		Redis: Redis{Timeout: Duration(100 * time.Millisecond)},
		RateLimits: RateLimits{
			LoginPerIP:                  "30/1m",
			LoginPerAccount:             "10/1m",
			RegistrationPerIP:           "10/1m",
			PasswordResetPerIP:          "10/1m",
			PasswordResetPerAccount:     "3/15m",
			VerificationPerIP:           "30/1m",
			VerificationPerAccount:      "10/10m",
			TokenPerClient:              "60000/1m",
			TokenPerIP:                  "120000/1m",
			ClientAuthFailuresPerClient: "20/1m",
			ClientAuthFailuresPerIP:     "20/1m",
		},
		Lockout: Lockout{
			MaxFailures:  5,
			FirstLockout: Duration(time.Minute),
			MaxLockout:   Duration(15 * time.Minute),
		},
		Captcha: Captcha{Provider: "pow", PowMaxNumber: 100_000, AfterFailures: 3},
		Audit:   Audit{Retention: Duration(8760 * time.Hour)},
		MFA:     MFA{Required: MFARequiredNone, RequiredRoles: []string{}, RequiredClients: []string{}},
		Console: Console{MaxAuthAge: DefaultConsoleMaxAuthAge},
		Usage:   Usage{MinCell: 5},
	}
}

// fillDerived fills the defaults that depend on other keys and normalises
// values whose spelling varies.
func (c *Config) fillDerived() {
	c.fillConnectorDefaults()
	if c.Database.URL == "" {
		c.Database.URL = Secret("sqlite:" + filepath.Join(c.DataDir, "gatehouse.db"))
	}
	// The issuer must match the iss claim byte for byte; one spelling only.
	c.Issuer = strings.TrimRight(c.Issuer, "/")
	if c.HTTP.TrustedProxies == nil {
		c.HTTP.TrustedProxies = []string{}
	}
	c.SMS.DefaultRegion = strings.ToUpper(c.SMS.DefaultRegion)
	if c.MFA.RequiredRoles == nil {
		c.MFA.RequiredRoles = []string{}
	}
	if c.MFA.RequiredClients == nil {
		c.MFA.RequiredClients = []string{}
	}
}

// DevelopmentMode reports whether no master key is configured. The binary
// then generates one in DataDir, which is fine on a laptop and wrong in
// production.
func (c *Config) DevelopmentMode() bool {
	return c.MasterKey == ""
}
