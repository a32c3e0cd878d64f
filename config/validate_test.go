package config

import (
	"encoding/base64"
	"encoding/hex"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

// testKey returns n distinct bytes: 0, 1, 2, …
func testKey(n int) []byte {
	b := make([]byte, n)
	for i := range b {
		b[i] = byte(i)
	}
	return b
}

// problemsOf returns the problems in err, nil for a nil error, and fails
// the test for any other kind of error.
func problemsOf(t testing.TB, err error) []string {
	t.Helper()
	if err == nil {
		return nil
	}
	var cerr *Error
	if !errors.As(err, &cerr) {
		t.Fatalf("error is %T, want *config.Error: %v", err, err)
	}
	return cerr.Problems
}

func TestValidate(t *testing.T) {
	key32 := testKey(32)
	tests := []struct {
		name   string
		mutate func(c *Config)
		want   []string
	}{
		{name: "defaults", mutate: func(c *Config) {}},

		// tokens.roles_claim
		{name: "roles claim as a namespaced URI", mutate: func(c *Config) { c.Tokens.RolesClaim = "https://example.com/roles" }},
		{
			name:   "roles claim empty",
			mutate: func(c *Config) { c.Tokens.RolesClaim = "" },
			want:   []string{`tokens.roles_claim: "" is not a claim name: want a letter, then up to 199 letters, digits or _ . : / -`},
		},
		{
			name:   "roles claim with a space",
			mutate: func(c *Config) { c.Tokens.RolesClaim = "my roles" },
			want:   []string{`tokens.roles_claim: "my roles" is not a claim name: want a letter, then up to 199 letters, digits or _ . : / -`},
		},
		{
			name:   "roles claim overwriting a standard claim",
			mutate: func(c *Config) { c.Tokens.RolesClaim = "sub" },
			want:   []string{`tokens.roles_claim: "sub" is a standard claim already; choose another name, e.g. roles`},
		},

		// console
		{name: "console sign-ins good for an hour", mutate: func(c *Config) { c.Console.MaxAuthAge = Duration(time.Hour) }},
		{
			name:   "console.max_auth_age too short",
			mutate: func(c *Config) { c.Console.MaxAuthAge = Duration(10 * time.Second) },
			want:   []string{"console.max_auth_age: must be between 1m0s and 24h0m0s, got 10s"},
		},
		{
			name:   "console.max_auth_age too long",
			mutate: func(c *Config) { c.Console.MaxAuthAge = Duration(48 * time.Hour) },
			want:   []string{"console.max_auth_age: must be between 1m0s and 24h0m0s, got 48h0m0s"},
		},

		// mfa
		{name: "mfa for everyone, with grace and remembered browsers", mutate: func(c *Config) {
			c.MFA = MFA{Required: "everyone", RequiredRoles: []string{"admin", "no-such-role"}, RequiredClients: []string{"payroll"},
				GracePeriod: Duration(14 * 24 * time.Hour), RememberBrowser: Duration(90 * 24 * time.Hour)}
		}},
		{
			name:   "mfa.required misspelt",
			mutate: func(c *Config) { c.MFA.Required = "all" },
			want:   []string{`mfa.required: must be one of none, everyone, got "all"`},
		},
		{
			name:   "mfa.required_roles with a blank and a repeat",
			mutate: func(c *Config) { c.MFA.RequiredRoles = []string{"admin", " ", "admin"} },
			want:   []string{"mfa.required_roles[1]: must not be empty", `mfa.required_roles[2]: "admin" is listed twice`},
		},
		{
			name:   "mfa.required_clients with a space",
			mutate: func(c *Config) { c.MFA.RequiredClients = []string{"pay roll"} },
			want:   []string{`mfa.required_clients[0]: a client ID must not contain spaces or control characters, got "pay roll"`},
		},
		{
			name:   "mfa.grace_period negative",
			mutate: func(c *Config) { c.MFA.GracePeriod = Duration(-time.Hour) },
			want:   []string{"mfa.grace_period: must be between 0s and 8760h0m0s, got -1h0m0s"},
		},
		{
			name:   "mfa.remember_browser over 90 days",
			mutate: func(c *Config) { c.MFA.RememberBrowser = Duration(91 * 24 * time.Hour) },
			want:   []string{"mfa.remember_browser: must be between 0s and 2160h0m0s, got 2184h0m0s"},
		},
		{
			name:   "mfa.remember_browser too short to mean anything",
			mutate: func(c *Config) { c.MFA.RememberBrowser = Duration(time.Minute) },
			want:   []string{"mfa.remember_browser: must be 0 (off) or at least 1h, got 1m0s"},
		},

		// issuer
		{name: "https issuer", mutate: func(c *Config) { c.Issuer = "https://login.example.com" }},
		{name: "https issuer with path", mutate: func(c *Config) { c.Issuer = "https://example.com/auth" }},
		{name: "http issuer on 127.0.0.1", mutate: func(c *Config) { c.Issuer = "http://127.0.0.1:8080" }},
		{name: "http issuer on 127.1.2.3", mutate: func(c *Config) { c.Issuer = "http://127.1.2.3" }},
		{name: "http issuer on localhost", mutate: func(c *Config) { c.Issuer = "http://localhost" }},
		{name: "http issuer on ::1", mutate: func(c *Config) { c.Issuer = "http://[::1]:8080" }},
		{
			name:   "http issuer on non-loopback host",
			mutate: func(c *Config) { c.Issuer = "http://login.example.com" },
			want:   []string{"issuer: http is only allowed on loopback hosts; use https"},
		},
		{
			name:   "http issuer on private address",
			mutate: func(c *Config) { c.Issuer = "http://10.0.0.1:8080" },
			want:   []string{"issuer: http is only allowed on loopback hosts; use https"},
		},
		{
			name:   "http issuer on localhost lookalike",
			mutate: func(c *Config) { c.Issuer = "http://localhost.example.com" },
			want:   []string{"issuer: http is only allowed on loopback hosts; use https"},
		},
		{
			name:   "relative issuer",
			mutate: func(c *Config) { c.Issuer = "/auth" },
			want:   []string{`issuer: must be an absolute URL such as https://login.example.com, got "/auth"`},
		},
		{
			name:   "issuer without scheme",
			mutate: func(c *Config) { c.Issuer = "login.example.com" },
			want:   []string{`issuer: must be an absolute URL such as https://login.example.com, got "login.example.com"`},
		},
		{
			name:   "issuer host:port without scheme",
			mutate: func(c *Config) { c.Issuer = "localhost:8080" },
			want:   []string{`issuer: must be an absolute URL such as https://login.example.com, got "localhost:8080"`},
		},
		{
			name:   "issuer with other scheme",
			mutate: func(c *Config) { c.Issuer = "ftp://example.com" },
			want:   []string{`issuer: scheme must be https, got "ftp"`},
		},
		{
			name:   "issuer without host",
			mutate: func(c *Config) { c.Issuer = "https:///auth" },
			want:   []string{"issuer: must include a host"},
		},
		{
			name:   "issuer with query and fragment",
			mutate: func(c *Config) { c.Issuer = "https://example.com/?a=b#top" },
			want: []string{
				"issuer: must not contain a query",
				"issuer: must not contain a fragment",
			},
		},
		{
			name:   "issuer with empty fragment",
			mutate: func(c *Config) { c.Issuer = "https://example.com#" },
			want:   []string{"issuer: must not contain a fragment"},
		},
		{
			name:   "issuer with user info",
			mutate: func(c *Config) { c.Issuer = "https://admin@example.com" },
			want:   []string{"issuer: must not contain user information"},
		},
		{
			name:   "issuer with trailing slash",
			mutate: func(c *Config) { c.Issuer = "https://example.com/" },
			want:   []string{"issuer: must not end with a slash"},
		},
		{
			name:   "empty issuer",
			mutate: func(c *Config) { c.Issuer = "" },
			want:   []string{"issuer: required"},
		},

		// listen, data_dir, database
		{name: "listen on all interfaces", mutate: func(c *Config) { c.Listen = ":443" }},
		{
			name:   "listen without port",
			mutate: func(c *Config) { c.Listen = "localhost" },
			want:   []string{"listen: must be host:port, such as 127.0.0.1:8080: address localhost: missing port in address"},
		},
		{name: "admin_listen off", mutate: func(c *Config) { c.AdminListen = "" }},
		{
			name:   "admin_listen without port",
			mutate: func(c *Config) { c.AdminListen = "127.0.0.1" },
			want:   []string{"admin_listen: must be host:port, such as 127.0.0.1:9464, or empty to turn it off: address 127.0.0.1: missing port in address"},
		},
		{name: "admin_pprof on", mutate: func(c *Config) { c.AdminPprof = true }},
		{
			name:   "admin_pprof without admin_listen",
			mutate: func(c *Config) { c.AdminListen, c.AdminPprof = "", true },
			want:   []string{"admin_pprof: needs admin_listen: the profiler is served only on the admin listener"},
		},
		{
			name:   "admin_listen on the public address",
			mutate: func(c *Config) { c.AdminListen = c.Listen },
			want:   []string{"admin_listen: must differ from listen"},
		},
		{
			name:   "empty data_dir",
			mutate: func(c *Config) { c.DataDir = "" },
			want:   []string{"data_dir: required"},
		},
		{name: "postgres URL", mutate: func(c *Config) { c.Database.URL = "postgres://gh:pw@db/gatehouse" }},
		{name: "postgresql URL", mutate: func(c *Config) { c.Database.URL = "postgresql://db/gatehouse" }},
		{
			name:   "mysql URL",
			mutate: func(c *Config) { c.Database.URL = "mysql://root:hunter2@db/gatehouse" },
			want:   []string{"database.url: must start with sqlite:, postgres:// or postgresql://"},
		},
		{
			name:   "sqlite without path",
			mutate: func(c *Config) { c.Database.URL = "sqlite:" },
			want:   []string{"database.url: sqlite: needs a file path, such as sqlite:/var/lib/gatehouse/gatehouse.db"},
		},

		// master_key
		{name: "master key 32 bytes std base64", mutate: func(c *Config) { c.MasterKey = Secret(base64.StdEncoding.EncodeToString(key32)) }},
		{name: "master key 32 bytes raw URL base64", mutate: func(c *Config) { c.MasterKey = Secret(base64.RawURLEncoding.EncodeToString(key32)) }},
		{name: "master key 32 bytes hex", mutate: func(c *Config) { c.MasterKey = Secret(hex.EncodeToString(key32)) }},
		{name: "master key with trailing newline", mutate: func(c *Config) { c.MasterKey = Secret(hex.EncodeToString(key32) + "\n") }},
		{
			name:   "master key 31 bytes base64",
			mutate: func(c *Config) { c.MasterKey = Secret(base64.StdEncoding.EncodeToString(testKey(31))) },
			want:   []string{"master_key: must be 32 bytes (base64 or hex), got 31"},
		},
		{
			name:   "master key 31 bytes hex",
			mutate: func(c *Config) { c.MasterKey = Secret(hex.EncodeToString(testKey(31))) },
			want:   []string{"master_key: must be 32 bytes (base64 or hex), got 31"},
		},
		{
			name:   "master key 33 bytes base64",
			mutate: func(c *Config) { c.MasterKey = Secret(base64.RawStdEncoding.EncodeToString(testKey(33))) },
			want:   []string{"master_key: must be 32 bytes (base64 or hex), got 33"},
		},
		{
			name:   "master key neither base64 nor hex",
			mutate: func(c *Config) { c.MasterKey = "correct horse battery staple!" },
			want:   []string{"master_key: must be 32 bytes (base64 or hex), got text that is neither"},
		},

		// signing
		{name: "ES256", mutate: func(c *Config) { c.Signing.Algorithm = "ES256" }},
		{
			name:   "HS256",
			mutate: func(c *Config) { c.Signing.Algorithm = "HS256" },
			want:   []string{`signing.algorithm: must be one of RS256, ES256, got "HS256"`},
		},

		// tokens
		{
			name: "lifetimes at their bounds",
			mutate: func(c *Config) {
				c.Tokens.AccessTokenLifetime = Duration(24 * time.Hour)
				c.Tokens.RefreshTokenLifetime = Duration(time.Hour)
				c.Tokens.RefreshTokenAbsoluteLifetime = Duration(8760 * time.Hour)
				c.Tokens.IDTokenLifetime = Duration(time.Minute)
				c.Tokens.AuthorizationCodeLifetime = Duration(10 * time.Second)
			},
		},
		{
			name:   "access token lifetime too long",
			mutate: func(c *Config) { c.Tokens.AccessTokenLifetime = Duration(48 * time.Hour) },
			want:   []string{"tokens.access_token_lifetime: must be between 1m0s and 24h0m0s, got 48h0m0s"},
		},
		{
			name: "lifetimes out of range",
			mutate: func(c *Config) {
				c.Tokens.AccessTokenLifetime = Duration(59 * time.Second)
				c.Tokens.RefreshTokenLifetime = Duration(8761 * time.Hour)
				c.Tokens.RefreshTokenAbsoluteLifetime = Duration(59 * time.Minute)
				c.Tokens.IDTokenLifetime = 0
				c.Tokens.AuthorizationCodeLifetime = Duration(11 * time.Minute)
			},
			want: []string{
				"tokens.access_token_lifetime: must be between 1m0s and 24h0m0s, got 59s",
				"tokens.refresh_token_lifetime: must be between 1h0m0s and 8760h0m0s, got 8761h0m0s",
				"tokens.refresh_token_absolute_lifetime: must be between 1h0m0s and 8760h0m0s, got 59m0s",
				"tokens.id_token_lifetime: must be between 1m0s and 24h0m0s, got 0s",
				"tokens.authorization_code_lifetime: must be between 10s and 10m0s, got 11m0s",
			},
		},
		{
			name:   "negative lifetime",
			mutate: func(c *Config) { c.Tokens.AuthorizationCodeLifetime = Duration(-time.Minute) },
			want:   []string{"tokens.authorization_code_lifetime: must be between 10s and 10m0s, got -1m0s"},
		},

		// registration
		{
			name:   "initial access token of 32 characters",
			mutate: func(c *Config) { c.Registration.InitialAccessToken = Secret(strings.Repeat("t", 32)) },
		},
		{
			name:   "initial access token too short",
			mutate: func(c *Config) { c.Registration.InitialAccessToken = Secret(strings.Repeat("t", 31)) },
			want:   []string{"registration.initial_access_token: must be at least 32 characters when set (leave it empty to turn dynamic client registration off)"},
		},

		// sessions
		{
			name:   "idle session too short",
			mutate: func(c *Config) { c.Sessions.IdleLifetime = Duration(time.Minute) },
			want:   []string{"sessions.idle_lifetime: must be between 5m0s and 720h0m0s, got 1m0s"},
		},
		{
			name: "absolute session shorter than idle",
			mutate: func(c *Config) {
				c.Sessions.IdleLifetime = Duration(48 * time.Hour)
				c.Sessions.AbsoluteLifetime = Duration(24 * time.Hour)
			},
			want: []string{"sessions.absolute_lifetime: must be at least sessions.idle_lifetime (48h0m0s), got 24h0m0s"},
		},

		// password
		{
			name:   "password min length below NIST minimum",
			mutate: func(c *Config) { c.Password.MinLength = 6 },
			want:   []string{"password.min_length: must be between 8 and 64, got 6"},
		},
		{
			name:   "password max length too small",
			mutate: func(c *Config) { c.Password.MaxLength = 32 },
			want:   []string{"password.max_length: must be between 64 and 1024, got 32"},
		},
		{
			name:   "password min and max equal",
			mutate: func(c *Config) { c.Password.MinLength, c.Password.MaxLength = 64, 64 },
		},
		{
			name:   "hash workers and queue timeout at their limits",
			mutate: func(c *Config) { c.Password.HashWorkers, c.Password.HashQueueTimeout = 1024, Duration(time.Minute) },
		},
		{
			name:   "hash workers negative, queue timeout zero",
			mutate: func(c *Config) { c.Password.HashWorkers, c.Password.HashQueueTimeout = -1, 0 },
			want: []string{
				"password.hash_workers: must be between 0 and 1024, got -1",
				"password.hash_queue_timeout: must be between 1ms and 1m0s, got 0s",
			},
		},
		{
			name:   "memory limit too small",
			mutate: func(c *Config) { c.MemoryLimitMiB = 32 },
			want:   []string{"memory_limit_mib: must be between 64 and 1048576, got 32"},
		},
		{
			name:   "memory limit set",
			mutate: func(c *Config) { c.MemoryLimitMiB = 300 },
		},

		// email
		{name: "smtp URL with credentials", mutate: func(c *Config) {
			c.Email.SMTPURL, c.Email.From = "smtp://user%40x:p%40ss@mail.example.com:587", "no-reply@example.com"
		}},
		{name: "smtps URL", mutate: func(c *Config) {
			c.Email.SMTPURL, c.Email.From = "smtps://mail.example.com", `"Example, Inc." <no-reply@example.com>`
		}},
		{name: "from without smtp URL", mutate: func(c *Config) { c.Email.From = "Gatehouse <no-reply@example.com>" }},
		{name: "message age of a week", mutate: func(c *Config) { c.Email.MaxMessageAge = Duration(168 * time.Hour) }},
		{
			name:   "message age shorter than the unlock link",
			mutate: func(c *Config) { c.Email.MaxMessageAge = Duration(30 * time.Minute) },
			want:   []string{"email.max_message_age: must be between 1h0m0s and 720h0m0s, got 30m0s"},
		},
		{
			name:   "message age of zero",
			mutate: func(c *Config) { c.Email.MaxMessageAge = 0 },
			want:   []string{"email.max_message_age: must be between 1h0m0s and 720h0m0s, got 0s"},
		},
		{
			name:   "smtp URL without from",
			mutate: func(c *Config) { c.Email.SMTPURL = "smtp://mail.example.com" },
			want:   []string{"email.from: required when email.smtp_url is set"},
		},
		{
			name:   "bad from",
			mutate: func(c *Config) { c.Email.From = "Gatehouse no-reply at example.com" },
			want:   []string{`email.from: must be an address such as no-reply@example.com or "Gatehouse <no-reply@example.com>", got "Gatehouse no-reply at example.com"`},
		},
		{
			name: "bad smtp URLs",
			mutate: func(c *Config) {
				c.Email.SMTPURL, c.Email.From = "http://u:pw@mail.example.com", "a@example.com"
			},
			want: []string{"email.smtp_url: must start with smtp:// or smtps://"},
		},
		{
			name:   "smtp URL without host",
			mutate: func(c *Config) { c.Email.SMTPURL, c.Email.From = "smtp://u:pw@:25", "a@example.com" },
			want:   []string{"email.smtp_url: must include a host, such as smtp://mail.example.com:587"},
		},
		{
			name: "smtp URL with query",
			mutate: func(c *Config) {
				c.Email.SMTPURL, c.Email.From = "smtp://mail.example.com?starttls=no", "a@example.com"
			},
			want: []string{"email.smtp_url: must not contain a path, query or fragment"},
		},
		{
			name:   "smtp URL with bad port",
			mutate: func(c *Config) { c.Email.SMTPURL, c.Email.From = "smtp://mail.example.com:0", "a@example.com" },
			want:   []string{"email.smtp_url: has an invalid port"},
		},
		{
			name:   "smtp URL with password only",
			mutate: func(c *Config) { c.Email.SMTPURL, c.Email.From = "smtp://:pw@mail.example.com", "a@example.com" },
			want:   []string{"email.smtp_url: has a password but no user name"},
		},
		{
			name:   "unparseable smtp URL",
			mutate: func(c *Config) { c.Email.SMTPURL, c.Email.From = "smtp://u:pw@mail example.com", "a@example.com" },
			want:   []string{"email.smtp_url: not a valid URL"},
		},

		// sms
		{name: "webhook", mutate: func(c *Config) {
			c.SMS.Provider = "webhook"
			c.SMS.WebhookURL = "https://sms.example.com/send"
			c.SMS.WebhookSecret = Secret(strings.Repeat("s", 32))
		}},
		{name: "webhook on loopback http", mutate: func(c *Config) {
			c.SMS.Provider = "webhook"
			c.SMS.WebhookURL = "http://127.0.0.1:9000/send"
			c.SMS.WebhookSecret = Secret(strings.Repeat("s", 32))
		}},
		{
			name:   "webhook without URL and secret",
			mutate: func(c *Config) { c.SMS.Provider = "webhook" },
			want: []string{
				"sms.webhook_url: required when sms.provider is webhook",
				"sms.webhook_secret: required when sms.provider is webhook",
			},
		},
		{
			name: "webhook over http, short secret",
			mutate: func(c *Config) {
				c.SMS.Provider = "webhook"
				c.SMS.WebhookURL = "http://sms.example.com/send"
				c.SMS.WebhookSecret = Secret(strings.Repeat("s", 31))
			},
			want: []string{
				"sms.webhook_url: http is only allowed on loopback hosts; use https",
				"sms.webhook_secret: must be at least 32 characters",
			},
		},
		{
			name: "webhook relative URL",
			mutate: func(c *Config) {
				c.SMS.Provider = "webhook"
				c.SMS.WebhookURL = "/send"
				c.SMS.WebhookSecret = Secret(strings.Repeat("s", 32))
			},
			want: []string{"sms.webhook_url: must be an absolute https URL"},
		},
		{name: "twilio with number", mutate: func(c *Config) {
			c.SMS = SMS{Provider: "twilio", TwilioAccountSID: "AC0123456789abcdef0123456789ABCDEF", TwilioAuthToken: "t",
				TwilioFrom: "+15005550006", TwilioBaseURL: "https://api.twilio.com", DefaultRegion: "US"}
		}},
		{name: "twilio with messaging service", mutate: func(c *Config) {
			c.SMS = SMS{Provider: "twilio", TwilioAccountSID: "AC0123456789abcdef0123456789abcdef", TwilioAuthToken: "t",
				TwilioFrom: "MG0123456789abcdef0123456789abcdef", DefaultRegion: "US"}
		}},
		{name: "twilio with sender ID", mutate: func(c *Config) {
			c.SMS = SMS{Provider: "twilio", TwilioAccountSID: "AC0123456789abcdef0123456789abcdef", TwilioAuthToken: "t",
				TwilioFrom: "Gate House", DefaultRegion: "US"}
		}},
		{
			name:   "twilio without settings",
			mutate: func(c *Config) { c.SMS.Provider = "twilio" },
			want: []string{
				"sms.twilio_account_sid: required when sms.provider is twilio",
				"sms.twilio_auth_token: required when sms.provider is twilio",
				"sms.twilio_from: required when sms.provider is twilio",
			},
		},
		{
			name: "twilio settings of the wrong shape",
			mutate: func(c *Config) {
				c.SMS = SMS{Provider: "twilio", TwilioAccountSID: "SK0123456789abcdef0123456789abcdef", TwilioAuthToken: "t",
					TwilioFrom: "+0123", TwilioBaseURL: "http://api.twilio.com", DefaultRegion: "USA"}
			},
			want: []string{
				`sms.twilio_account_sid: must be AC followed by 32 hexadecimal digits, got "SK0123456789abcdef0123456789abcdef"`,
				`sms.twilio_from: must be an E.164 number such as +15005550006, an alphanumeric sender ID of at most 11 characters or a Messaging Service SID (MG…), got "+0123"`,
				"sms.twilio_base_url: http is only allowed on loopback hosts; use https",
				`sms.default_region: must be an ISO 3166-1 alpha-2 region code with phone numbers, such as US or GB, got "USA"`,
			},
		},
		{
			name: "twilio sender ID too long",
			mutate: func(c *Config) {
				c.SMS = SMS{Provider: "twilio", TwilioAccountSID: "AC0123456789abcdef0123456789abcdef", TwilioAuthToken: "t",
					TwilioFrom: "GatehouseLogin", DefaultRegion: "US"}
			},
			want: []string{`sms.twilio_from: must be an E.164 number such as +15005550006, an alphanumeric sender ID of at most 11 characters or a Messaging Service SID (MG…), got "GatehouseLogin"`},
		},
		{
			name:   "unknown provider",
			mutate: func(c *Config) { c.SMS.Provider = "sns" },
			want:   []string{`sms.provider: must be one of log, webhook, twilio, got "sns"`},
		},
		{name: "region GB", mutate: func(c *Config) { c.SMS.DefaultRegion = "GB" }},
		{
			name:   "region not upper-cased",
			mutate: func(c *Config) { c.SMS.DefaultRegion = "gb" },
			want:   []string{`sms.default_region: must be an ISO 3166-1 alpha-2 region code with phone numbers, such as US or GB, got "gb"`},
		},
		{
			name:   "region without phone numbers",
			mutate: func(c *Config) { c.SMS.DefaultRegion = "ZZ" },
			want:   []string{`sms.default_region: must be an ISO 3166-1 alpha-2 region code with phone numbers, such as US or GB, got "ZZ"`},
		},
		{
			name: "twilio sender ID of digits only",
			mutate: func(c *Config) {
				c.SMS = SMS{Provider: "twilio", TwilioAccountSID: "AC0123456789abcdef0123456789abcdef", TwilioAuthToken: "t",
					TwilioFrom: "12345", DefaultRegion: "US"}
			},
			want: []string{`sms.twilio_from: must be an E.164 number such as +15005550006, an alphanumeric sender ID of at most 11 characters or a Messaging Service SID (MG…), got "12345"`},
		},
		{name: "webhook keys ignored with another provider", mutate: func(c *Config) { c.SMS.WebhookSecret = "short" }},

		// theme
		{
			name:   "empty product name",
			mutate: func(c *Config) { c.Theme.ProductName = " " },
			want:   []string{"theme.product_name: required"},
		},
		{
			name:   "long product name",
			mutate: func(c *Config) { c.Theme.ProductName = strings.Repeat("é", 61) },
			want:   []string{"theme.product_name: must be at most 60 characters, got 61"},
		},
		{name: "logo path", mutate: func(c *Config) { c.Theme.LogoURL = "/static/logo.svg" }},
		{name: "logo https URL", mutate: func(c *Config) { c.Theme.LogoURL = "https://cdn.example.com/logo.png" }},
		{
			name:   "logo protocol-relative URL",
			mutate: func(c *Config) { c.Theme.LogoURL = "//evil.example/logo.png" },
			want:   []string{"theme.logo_url: must be an absolute http(s) URL or a path starting with a single /"},
		},
		{
			name:   "logo with backslash",
			mutate: func(c *Config) { c.Theme.LogoURL = `/\evil.example/logo.png` },
			want:   []string{"theme.logo_url: must not contain whitespace, quotes, parentheses, angle brackets or backslashes"},
		},
		{
			name:   "logo javascript URL",
			mutate: func(c *Config) { c.Theme.LogoURL = "javascript:alert(1)" },
			want:   []string{"theme.logo_url: must not contain whitespace, quotes, parentheses, angle brackets or backslashes"},
		},
		{
			name:   "logo relative path",
			mutate: func(c *Config) { c.Theme.LogoURL = "logo.png" },
			want:   []string{`theme.logo_url: must be an absolute http(s) URL or a path starting with /, got "logo.png"`},
		},
		{name: "upper-case colour", mutate: func(c *Config) { c.Theme.PrimaryColor = "#ABCDEF" }},
		{
			name:   "colour name",
			mutate: func(c *Config) { c.Theme.PrimaryColor = "blue" },
			want:   []string{`theme.primary_color: must be a colour like #2563eb, got "blue"`},
		},
		{
			name:   "short colour",
			mutate: func(c *Config) { c.Theme.PrimaryColor = "#fff" },
			want:   []string{`theme.primary_color: must be a colour like #2563eb, got "#fff"`},
		},
		{
			name:   "colour smuggling CSS",
			mutate: func(c *Config) { c.Theme.PrimaryColor = "#2563eb;}body{display:none" },
			want:   []string{`theme.primary_color: must be a colour like #2563eb, got "#2563eb;}body{display:none"`},
		},

		// log
		{
			name: "bad log level and format",
			mutate: func(c *Config) {
				c.Log.Level = "verbose"
				c.Log.Format = "xml"
			},
			want: []string{
				`log.level: must be one of debug, info, warn, error, got "verbose"`,
				`log.format: must be one of json, text, got "xml"`,
			},
		},

		// http
		{
			name:   "trusted proxies IPs and CIDRs",
			mutate: func(c *Config) { c.HTTP.TrustedProxies = []string{"10.0.0.0/8", "192.168.1.1", "::1", "fd00::/8"} },
		},
		{
			name:   "bad CIDR",
			mutate: func(c *Config) { c.HTTP.TrustedProxies = []string{"10.0.0.0/8", "10.0.0.0/33", "proxy.local"} },
			want: []string{
				`http.trusted_proxies[1]: not an IP address or CIDR: "10.0.0.0/33"`,
				`http.trusted_proxies[2]: not an IP address or CIDR: "proxy.local"`,
			},
		},
		{
			name: "timeouts out of range",
			mutate: func(c *Config) {
				c.HTTP.RequestTimeout = Duration(0)
				c.HTTP.ShutdownTimeout = Duration(time.Hour)
				c.Database.ConnectTimeout = Duration(2 * time.Minute)
				c.Database.MaxOpenConns = 0
				c.Database.StatementTimeout = Duration(time.Millisecond)
				c.Redis.Timeout = Duration(5 * time.Millisecond)
				c.Tokens.RotatedRefreshTokenRetention = Duration(0)
				c.Registration.UnusedClientLifetime = Duration(time.Minute)
			},
			want: []string{
				"database.connect_timeout: must be between 100ms and 1m0s, got 2m0s",
				"database.max_open_conns: must be between 1 and 1000, got 0",
				"database.statement_timeout: must be between 100ms and 1h0m0s, got 1ms",
				"tokens.rotated_refresh_token_retention: must be between 1m0s and 720h0m0s, got 0s",
				"registration.unused_client_lifetime: must be between 1h0m0s and 87600h0m0s, got 1m0s",
				"http.request_timeout: must be between 1s and 5m0s, got 0s",
				"http.shutdown_timeout: must be between 1s and 10m0s, got 1h0m0s",
				"redis.timeout: must be between 10ms and 10s, got 5ms",
			},
		},
		{
			name: "shutdown delay not inside the shutdown timeout",
			mutate: func(c *Config) {
				c.HTTP.ShutdownTimeout = Duration(5 * time.Second)
				c.HTTP.ShutdownDelay = Duration(5 * time.Second)
			},
			want: []string{"http.shutdown_delay: must be shorter than http.shutdown_timeout (5s)"},
		},
		{
			name:   "shutdown delay out of range",
			mutate: func(c *Config) { c.HTTP.ShutdownDelay = Duration(-time.Second) },
			want:   []string{"http.shutdown_delay: must be between 0s and 1m0s, got -1s"},
		},
		{
			name:   "body limit too small",
			mutate: func(c *Config) { c.HTTP.MaxBodyBytes = 512 },
			want:   []string{"http.max_body_bytes: must be between 1024 and 67108864, got 512"},
		},
		{
			name:   "body limit too large",
			mutate: func(c *Config) { c.HTTP.MaxBodyBytes = 64<<20 + 1 },
			want:   []string{"http.max_body_bytes: must be between 1024 and 67108864, got 67108865"},
		},
		{
			name:   "header limit too small",
			mutate: func(c *Config) { c.HTTP.MaxHeaderBytes = 1024 },
			want:   []string{"http.max_header_bytes: must be between 4096 and 1048576, got 1024"},
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			c := Default()
			tc.mutate(c)
			got := problemsOf(t, c.Validate())
			if diff := cmp.Diff(tc.want, got); diff != "" {
				t.Errorf("Validate() problems mismatch (-want +got):\n%s", diff)
			}
		})
	}
}

func TestValidateReportsEveryProblem(t *testing.T) {
	c := Default()
	c.Issuer = "http://gatehouse.example.com"
	c.MasterKey = Secret(base64.StdEncoding.EncodeToString(testKey(31)))
	c.Tokens.AccessTokenLifetime = Duration(48 * time.Hour)
	c.Theme.PrimaryColor = "red"
	c.HTTP.TrustedProxies = []string{"10.0.0.0/40"}

	err := c.Validate()
	want := "invalid configuration:\n" +
		"  - issuer: http is only allowed on loopback hosts; use https\n" +
		"  - master_key: must be 32 bytes (base64 or hex), got 31\n" +
		"  - tokens.access_token_lifetime: must be between 1m0s and 24h0m0s, got 48h0m0s\n" +
		"  - theme.primary_color: must be a colour like #2563eb, got \"red\"\n" +
		"  - http.trusted_proxies[0]: not an IP address or CIDR: \"10.0.0.0/40\""
	if err == nil {
		t.Fatal("Validate() = nil, want an error")
	}
	if diff := cmp.Diff(want, err.Error()); diff != "" {
		t.Errorf("Validate() error text mismatch (-want +got):\n%s", diff)
	}
}

func TestTrustedProxyPrefixes(t *testing.T) {
	h := HTTP{TrustedProxies: []string{"10.1.2.3/8", "192.168.0.1", "::1"}}
	got, err := h.TrustedProxyPrefixes()
	if err != nil {
		t.Fatalf("TrustedProxyPrefixes() error: %v", err)
	}
	var gotS []string
	for _, p := range got {
		gotS = append(gotS, p.String())
	}
	want := []string{"10.0.0.0/8", "192.168.0.1/32", "::1/128"}
	if diff := cmp.Diff(want, gotS); diff != "" {
		t.Errorf("TrustedProxyPrefixes() mismatch (-want +got):\n%s", diff)
	}

	if _, err := (HTTP{TrustedProxies: []string{"fe80::1%eth0"}}).TrustedProxyPrefixes(); err == nil {
		t.Error("TrustedProxyPrefixes() with a zoned address: error = nil, want one")
	}
}
