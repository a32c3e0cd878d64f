package config

import (
	"encoding/base64"
	"encoding/hex"
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"gopkg.in/yaml.v3"
)

// writeFile writes content to a fresh file and returns its path.
func writeFile(t testing.TB, content string) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), "gatehouse.yaml")
	if err := os.WriteFile(path, []byte(content), 0o600); err != nil {
		t.Fatalf("write config file: %v", err)
	}
	return path
}

// envMap is a getenv over a fixed set of variables.
func envMap(m map[string]string) func(string) (string, bool) {
	return func(name string) (string, bool) {
		v, ok := m[name]
		return v, ok
	}
}

// mustLoad calls Load and fails the test on error.
func mustLoad(t testing.TB, path string, env map[string]string) *Config {
	t.Helper()
	c, err := Load(path, envMap(env))
	if err != nil {
		t.Fatalf("Load(%q): %v", path, err)
	}
	return c
}

func TestLoadWithoutFileIsDefault(t *testing.T) {
	got := mustLoad(t, "", nil)
	if diff := cmp.Diff(Default(), got); diff != "" {
		t.Errorf("Load(\"\") mismatch (-want +got):\n%s", diff)
	}
	if _, err := Load("", nil); err != nil {
		t.Errorf("Load(\"\", nil) = %v, want nil error", err)
	}
}

func TestLoadFile(t *testing.T) {
	masterKey := hex.EncodeToString(testKey(32))
	file := `# every key, none at its default
issuer: https://login.example.com/
listen: 0.0.0.0:9000
admin_listen: 10.0.0.5:9100
admin_pprof: true
data_dir: /var/lib/gatehouse
database:
  url: postgres://gatehouse@db.internal/gatehouse
  migrate_on_start: false
  connect_timeout: 3s
  max_open_conns: 20
  statement_timeout: 30s
master_key: ` + masterKey + `
memory_limit_mib: 512
signing:
  algorithm: ES256
tokens:
  access_token_lifetime: 15m
  refresh_token_lifetime: 336h
  refresh_token_absolute_lifetime: 2160h
  id_token_lifetime: 30m
  authorization_code_lifetime: 30s
  require_pkce_for_all_clients: true
  rotated_refresh_token_retention: 2h
  roles_claim: https://example.com/roles
registration:
  initial_access_token: 0123456789abcdef0123456789abcdef
  allow_self_signup: false
  require_verified_email: true
  unused_client_lifetime: 0s
sessions:
  idle_lifetime: 2h
  absolute_lifetime: 12h
password:
  min_length: 12
  max_length: 256
  hash_workers: 4
  hash_queue_timeout: 500ms
email:
  smtp_url: smtps://mailer:pw@mail.example.com
  from: Example Login <login@example.com>
  max_message_age: 48h
sms:
  provider: webhook
  webhook_url: https://sms.example.com/send
  webhook_secret: whsec-0123456789abcdef0123456789abcdef
  twilio_account_sid: AC0123456789abcdef0123456789abcdef
  twilio_auth_token: twilio-token
  twilio_from: Example
  twilio_base_url: http://127.0.0.1:9999
  default_region: gb
theme:
  product_name: Example Login
  logo_url: /static/logo.svg
  primary_color: "#112233"
log:
  level: debug
  format: text
http:
  trusted_proxies:
    - 10.0.0.0/8
    - 192.168.1.1
  max_body_bytes: 65536
  max_header_bytes: 8192
  request_timeout: 4s
  shutdown_timeout: 30s
  shutdown_delay: 5s
redis:
  url: redis://:pw@cache.internal:6379/1
  timeout: 250ms
rate_limits:
  login_per_ip: 60/1m
  login_per_account: 5/1m
  registration_per_ip: 5/1h
  password_reset_per_ip: 20/1m
  password_reset_per_account: 2/h
  verification_per_ip: 15/1m
  verification_per_account: 5/10m
  token_per_client: 100/s
  token_per_ip: 300/1m
  client_auth_failures_per_client: 10/5m
  client_auth_failures_per_ip: 50/1m
lockout:
  max_failures: 10
  first_lockout: 30s
  max_lockout: 1h
  permanent_after: 5
captcha:
  provider: hcaptcha
  pow_max_number: 50000
  site_key: 10000000-ffff-ffff-ffff-000000000001
  secret_key: 0x0000000000000000000000000000000000000000
  after_failures: 0
audit:
  retention: 720h
mfa:
  required: everyone
  required_roles: [admin]
  required_clients: [payroll, hr-portal]
  grace_period: 168h
  remember_browser: 720h
console:
  max_auth_age: 5m
usage:
  min_cell: 10
`
	want := &Config{
		Issuer:      "https://login.example.com",
		Listen:      "0.0.0.0:9000",
		AdminListen: "10.0.0.5:9100",
		AdminPprof:  true,
		DataDir:     "/var/lib/gatehouse",
		Database: Database{URL: "postgres://gatehouse@db.internal/gatehouse", ConnectTimeout: Duration(3 * time.Second),
			MaxOpenConns: 20, StatementTimeout: Duration(30 * time.Second)},
		MasterKey:      Secret(masterKey),
		MemoryLimitMiB: 512,
		Signing:        Signing{Algorithm: "ES256"},
		Tokens: Tokens{
			AccessTokenLifetime:          Duration(15 * time.Minute),
			RefreshTokenLifetime:         Duration(336 * time.Hour),
			RefreshTokenAbsoluteLifetime: Duration(2160 * time.Hour),
			IDTokenLifetime:              Duration(30 * time.Minute),
			AuthorizationCodeLifetime:    Duration(30 * time.Second),
			RequirePKCEForAllClients:     true,
			RotatedRefreshTokenRetention: Duration(2 * time.Hour),
			RolesClaim:                   "https://example.com/roles",
		},
		Registration: Registration{InitialAccessToken: "0123456789abcdef0123456789abcdef", RequireVerifiedEmail: true},
		Sessions:     Sessions{IdleLifetime: Duration(2 * time.Hour), AbsoluteLifetime: Duration(12 * time.Hour)},
		Password:     Password{MinLength: 12, MaxLength: 256, HashWorkers: 4, HashQueueTimeout: Duration(500 * time.Millisecond)},
		Email:        Email{SMTPURL: "smtps://mailer:pw@mail.example.com", From: "Example Login <login@example.com>", MaxMessageAge: Duration(48 * time.Hour)},
		SMS: SMS{
			Provider:         "webhook",
			WebhookURL:       "https://sms.example.com/send",
			WebhookSecret:    "whsec-0123456789abcdef0123456789abcdef",
			TwilioAccountSID: "AC0123456789abcdef0123456789abcdef",
			TwilioAuthToken:  "twilio-token",
			TwilioFrom:       "Example",
			TwilioBaseURL:    "http://127.0.0.1:9999",
			DefaultRegion:    "GB", // upper-cased by Load
		},
		Theme: Theme{ProductName: "Example Login", LogoURL: "/static/logo.svg", PrimaryColor: "#112233"},
		Log:   Log{Level: "debug", Format: "text"},
		HTTP: HTTP{TrustedProxies: []string{"10.0.0.0/8", "192.168.1.1"}, MaxBodyBytes: 65536, MaxHeaderBytes: 8192,
			RequestTimeout: Duration(4 * time.Second), ShutdownTimeout: Duration(30 * time.Second), ShutdownDelay: Duration(5 * time.Second)},
		Redis: Redis{URL: "redis://:pw@cache.internal:6379/1", Timeout: Duration(250 * time.Millisecond)},
		RateLimits: RateLimits{
			LoginPerIP:                  "60/1m",
			LoginPerAccount:             "5/1m",
			RegistrationPerIP:           "5/1h",
			PasswordResetPerIP:          "20/1m",
			PasswordResetPerAccount:     "2/h",
			VerificationPerIP:           "15/1m",
			VerificationPerAccount:      "5/10m",
			TokenPerClient:              "100/s",
			TokenPerIP:                  "300/1m",
			ClientAuthFailuresPerClient: "10/5m",
			ClientAuthFailuresPerIP:     "50/1m",
		},
		Lockout: Lockout{MaxFailures: 10, FirstLockout: Duration(30 * time.Second), MaxLockout: Duration(time.Hour), PermanentAfter: 5},
		Captcha: Captcha{
			Provider:      "hcaptcha",
			PowMaxNumber:  50000,
			SiteKey:       "10000000-ffff-ffff-ffff-000000000001",
			SecretKey:     "0x0000000000000000000000000000000000000000",
			AfterFailures: 0,
		},
		Audit: Audit{Retention: Duration(720 * time.Hour)},
		MFA: MFA{Required: "everyone", RequiredRoles: []string{"admin"}, RequiredClients: []string{"payroll", "hr-portal"},
			GracePeriod: Duration(168 * time.Hour), RememberBrowser: Duration(720 * time.Hour)},
		Console: Console{MaxAuthAge: Duration(5 * time.Minute)},
		Usage:   Usage{MinCell: 10},
	}
	got := mustLoad(t, writeFile(t, file), nil)
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("Load mismatch (-want +got):\n%s", diff)
	}
	if got.DevelopmentMode() {
		t.Error("DevelopmentMode() = true with a master key set")
	}

	// Round trip: what Load returned, written back out, loads the same.
	out, err := yaml.Marshal(got)
	if err != nil {
		t.Fatalf("yaml.Marshal: %v", err)
	}
	again := mustLoad(t, writeFile(t, string(out)), nil)
	if diff := cmp.Diff(got, again); diff != "" {
		t.Errorf("round trip mismatch (-first +second):\n%s\nfile:\n%s", diff, out)
	}
}

func TestLoadDerivedDefaults(t *testing.T) {
	tests := []struct {
		name   string
		file   string
		env    map[string]string
		wantDB string
	}{
		{name: "from data_dir in file", file: "data_dir: /srv/gh\n", wantDB: "sqlite:/srv/gh/gatehouse.db"},
		{name: "from data_dir in env", env: map[string]string{"GATEHOUSE_DATA_DIR": "/tmp/gh/"}, wantDB: "sqlite:/tmp/gh/gatehouse.db"},
		{name: "explicit url wins", file: "data_dir: /srv/gh\ndatabase:\n  url: sqlite:/elsewhere.db\n", wantDB: "sqlite:/elsewhere.db"},
		{name: "empty file", file: "", wantDB: "sqlite:data/gatehouse.db"},
		{name: "comments only", file: "# nothing yet\n", wantDB: "sqlite:data/gatehouse.db"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got := mustLoad(t, writeFile(t, tc.file), tc.env)
			if diff := cmp.Diff(tc.wantDB, got.Database.URL.Reveal()); diff != "" {
				t.Errorf("database.url mismatch (-want +got):\n%s", diff)
			}
		})
	}
}

func TestLoadUnknownKeys(t *testing.T) {
	file := `issuer: https://login.example.com
isuer: https://typo.example.com
tokens:
  access_token_lifetime: 30m
  acces_token_lifetime: 15m
`
	_, err := Load(writeFile(t, file), nil)
	want := []string{
		"isuer: unknown key (line 2)",
		"tokens.acces_token_lifetime: unknown key (line 5)",
	}
	if diff := cmp.Diff(want, problemsOf(t, err)); diff != "" {
		t.Errorf("Load problems mismatch (-want +got):\n%s", diff)
	}
}

func TestLoadFileProblems(t *testing.T) {
	tests := []struct {
		name string
		file string
		want []string // "FILE" stands for the file's path
	}{
		{
			name: "bad duration",
			file: "tokens:\n  access_token_lifetime: 5 minutes\n",
			want: []string{`tokens.access_token_lifetime: not a duration: "5 minutes" (line 2)`},
		},
		{
			name: "bare number for duration",
			file: "sessions: {idle_lifetime: 3600}\n",
			want: []string{`sessions.idle_lifetime: not a duration: "3600" (line 1)`},
		},
		{
			name: "list for duration",
			file: "tokens:\n  id_token_lifetime:\n    - 1h\n",
			want: []string{`tokens.id_token_lifetime: cannot unmarshal !!seq into a duration; want a string such as "60s" or "1h" (line 3)`},
		},
		{
			name: "string for integer",
			file: "password:\n  min_length: twelve\n",
			want: []string{"password.min_length: cannot unmarshal !!str `twelve` into int (line 2)"},
		},
		{
			name: "string for boolean",
			file: "registration:\n  allow_self_signup: sometimes\n",
			want: []string{"registration.allow_self_signup: cannot unmarshal !!str `sometimes` into bool (line 2)"},
		},
		{
			name: "map for string",
			file: "issuer:\n  url: https://example.com\n",
			want: []string{"issuer: cannot unmarshal !!map into string (line 2)"},
		},
		{
			name: "scalar for list",
			file: "http:\n  trusted_proxies: 10.0.0.0/16\n",
			want: []string{"http.trusted_proxies: cannot unmarshal !!str `10.0.0....` into []string (line 2)"},
		},
		{
			name: "map in list",
			file: "http:\n  trusted_proxies:\n    - 10.0.0.0/8\n    - {cidr: 10.0.0.0/8}\n",
			want: []string{"http.trusted_proxies[1]: cannot unmarshal !!map into string (line 4)"},
		},
		{
			name: "secret never quoted",
			file: "master_key:\n  - abcdefghijk\n",
			want: []string{"master_key: cannot decode value (line 2)"},
		},
		{
			name: "repeated key",
			file: "listen: 127.0.0.1:1\nlisten: 127.0.0.1:2\n",
			want: []string{`listen: mapping key "listen" already defined at line 1 (line 2)`},
		},
		{
			name: "not YAML",
			file: "issuer: [\n",
			want: []string{"FILE: yaml: line 1: did not find expected node content"},
		},
		{
			name: "not a mapping",
			file: "just a string\n",
			want: []string{"FILE: line 1: cannot unmarshal !!str `just a ...` into config.Config"},
		},
		{
			name: "two documents",
			file: "issuer: https://a.example.com\n---\nissuer: https://b.example.com\n",
			want: []string{"FILE: holds more than one YAML document; put every key in the first"},
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			path := writeFile(t, tc.file)
			_, err := Load(path, nil)
			var want []string
			for _, w := range tc.want {
				want = append(want, strings.ReplaceAll(w, "FILE", path))
			}
			if diff := cmp.Diff(want, problemsOf(t, err)); diff != "" {
				t.Errorf("Load problems mismatch (-want +got):\n%s", diff)
			}
		})
	}
}

func TestLoadMissingFile(t *testing.T) {
	_, err := Load(filepath.Join(t.TempDir(), "absent.yaml"), nil)
	if !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("Load(absent file) = %v, want an error wrapping fs.ErrNotExist", err)
	}
}

func TestLoadEnv(t *testing.T) {
	key := base64.RawURLEncoding.EncodeToString(testKey(32))
	token := strings.Repeat("dcr-token-", 4)
	tests := []struct {
		name string
		env  map[string]string
		want func(c *Config) // applied to the defaults
	}{
		{
			name: "aliases",
			env: map[string]string{
				"GATEHOUSE_ISSUER":                   "https://id.example.com/",
				"GATEHOUSE_LISTEN":                   ":8443",
				"GATEHOUSE_ADMIN_LISTEN":             "",
				"GATEHOUSE_DATABASE_URL":             "postgresql://db/gh",
				"GATEHOUSE_MASTER_KEY":               key,
				"GATEHOUSE_DATA_DIR":                 "/srv/gatehouse",
				"GATEHOUSE_DCR_INITIAL_ACCESS_TOKEN": token,
			},
			want: func(c *Config) {
				c.Issuer = "https://id.example.com"
				c.Listen = ":8443"
				c.AdminListen = "" // set but empty: turned off, not the default
				c.Database.URL = "postgresql://db/gh"
				c.MasterKey = Secret(key)
				c.DataDir = "/srv/gatehouse"
				c.Registration.InitialAccessToken = Secret(token)
			},
		},
		{
			name: "e-mail and SMS",
			env: map[string]string{
				"GATEHOUSE_SMTP_URL":                            "smtp://u:p@mail.example.com:2525",
				"GATEHOUSE_EMAIL_FROM":                          "Gatehouse <gh@example.com>",
				"GATEHOUSE_EMAIL_MAX_MESSAGE_AGE":               "6h",
				"GATEHOUSE_SMS_PROVIDER":                        "twilio",
				"GATEHOUSE_SMS_TWILIO_ACCOUNT_SID":              "AC0123456789abcdef0123456789abcdef",
				"GATEHOUSE_SMS_TWILIO_AUTH_TOKEN":               "tok",
				"GATEHOUSE_SMS_TWILIO_FROM":                     "MG0123456789abcdef0123456789abcdef",
				"GATEHOUSE_SMS_DEFAULT_REGION":                  "de",
				"GATEHOUSE_REGISTRATION_REQUIRE_VERIFIED_EMAIL": "true",
			},
			want: func(c *Config) {
				c.Email = Email{SMTPURL: "smtp://u:p@mail.example.com:2525", From: "Gatehouse <gh@example.com>", MaxMessageAge: Duration(6 * time.Hour)}
				c.SMS.Provider = "twilio"
				c.SMS.TwilioAccountSID = "AC0123456789abcdef0123456789abcdef"
				c.SMS.TwilioAuthToken = "tok"
				c.SMS.TwilioFrom = "MG0123456789abcdef0123456789abcdef"
				c.SMS.DefaultRegion = "DE"
				c.Registration.RequireVerifiedEmail = true
			},
		},
		{
			name: "protection",
			env: map[string]string{
				"GATEHOUSE_REDIS_URL":                     "redis://127.0.0.1:6379/0",
				"GATEHOUSE_RATE_LIMITS_LOGIN_PER_ACCOUNT": "5/30s",
				"GATEHOUSE_LOCKOUT_MAX_LOCKOUT":           "1h",
				"GATEHOUSE_LOCKOUT_PERMANENT_AFTER":       "3",
				"GATEHOUSE_CAPTCHA_PROVIDER":              "turnstile",
				"GATEHOUSE_CAPTCHA_SITE_KEY":              "site",
				"GATEHOUSE_CAPTCHA_SECRET_KEY":            "secret",
				"GATEHOUSE_AUDIT_RETENTION":               "0s",
				"GATEHOUSE_USAGE_MIN_CELL":                "3",
			},
			want: func(c *Config) {
				c.Redis.URL = "redis://127.0.0.1:6379/0"
				c.RateLimits.LoginPerAccount = "5/30s"
				c.Lockout.MaxLockout = Duration(time.Hour)
				c.Lockout.PermanentAfter = 3
				c.Captcha.Provider, c.Captcha.SiteKey, c.Captcha.SecretKey = "turnstile", "site", "secret"
				c.Audit.Retention = 0
				c.Usage.MinCell = 3
			},
		},
		{
			name: "canonical name for the SMTP URL",
			env: map[string]string{
				"GATEHOUSE_EMAIL_SMTP_URL": "smtps://mail.example.com",
				"GATEHOUSE_EMAIL_FROM":     "gh@example.com",
			},
			want: func(c *Config) { c.Email.SMTPURL, c.Email.From = "smtps://mail.example.com", "gh@example.com" },
		},
		{
			name: "canonical name for the initial access token",
			env:  map[string]string{"GATEHOUSE_REGISTRATION_INITIAL_ACCESS_TOKEN": token},
			want: func(c *Config) { c.Registration.InitialAccessToken = Secret(token) },
		},
		{
			name: "alias and canonical name agreeing",
			env: map[string]string{
				"GATEHOUSE_REGISTRATION_INITIAL_ACCESS_TOKEN": token,
				"GATEHOUSE_DCR_INITIAL_ACCESS_TOKEN":          token,
			},
			want: func(c *Config) { c.Registration.InitialAccessToken = Secret(token) },
		},
		{
			name: "nested keys of every type",
			env: map[string]string{
				"GATEHOUSE_TOKENS_ACCESS_TOKEN_LIFETIME":        "5m",
				"GATEHOUSE_TOKENS_REQUIRE_PKCE_FOR_ALL_CLIENTS": "true",
				"GATEHOUSE_DATABASE_MIGRATE_ON_START":           "false",
				"GATEHOUSE_PASSWORD_MIN_LENGTH":                 " 10 ",
				"GATEHOUSE_HTTP_MAX_BODY_BYTES":                 "4096",
				"GATEHOUSE_HTTP_REQUEST_TIMEOUT":                "2s",
				"GATEHOUSE_DATABASE_CONNECT_TIMEOUT":            "1s",
				"GATEHOUSE_THEME_PRIMARY_COLOR":                 "#000000",
				"GATEHOUSE_SIGNING_ALGORITHM":                   "ES256",
			},
			want: func(c *Config) {
				c.Tokens.AccessTokenLifetime = Duration(5 * time.Minute)
				c.Tokens.RequirePKCEForAllClients = true
				c.Database.MigrateOnStart = false
				c.Password.MinLength = 10
				c.HTTP.MaxBodyBytes = 4096
				c.HTTP.RequestTimeout = Duration(2 * time.Second)
				c.Database.ConnectTimeout = Duration(time.Second)
				c.Theme.PrimaryColor = "#000000"
				c.Signing.Algorithm = "ES256"
			},
		},
		{
			name: "multi-factor policy",
			env: map[string]string{
				"GATEHOUSE_MFA_REQUIRED":         "everyone",
				"GATEHOUSE_MFA_REQUIRED_ROLES":   "admin, auditor",
				"GATEHOUSE_MFA_REQUIRED_CLIENTS": "payroll",
				"GATEHOUSE_MFA_GRACE_PERIOD":     "336h",
				"GATEHOUSE_MFA_REMEMBER_BROWSER": "720h",
			},
			want: func(c *Config) {
				c.MFA = MFA{Required: "everyone", RequiredRoles: []string{"admin", "auditor"}, RequiredClients: []string{"payroll"},
					GracePeriod: Duration(336 * time.Hour), RememberBrowser: Duration(720 * time.Hour)}
			},
		},
		{
			name: "console",
			env:  map[string]string{"GATEHOUSE_CONSOLE_MAX_AUTH_AGE": "30m"},
			want: func(c *Config) { c.Console.MaxAuthAge = Duration(30 * time.Minute) },
		},
		{
			name: "list",
			env:  map[string]string{"GATEHOUSE_HTTP_TRUSTED_PROXIES": "10.0.0.0/8, 172.16.0.0/12,,::1"},
			want: func(c *Config) { c.HTTP.TrustedProxies = []string{"10.0.0.0/8", "172.16.0.0/12", "::1"} },
		},
		{
			name: "empty list",
			env:  map[string]string{"GATEHOUSE_HTTP_TRUSTED_PROXIES": ""},
			want: func(c *Config) {},
		},
		{
			name: "unrelated variables ignored",
			env:  map[string]string{"GATEHOUSE_TOKENS": "x", "ISSUER": "x", "GATEHOUSE_LOG": "x"},
			want: func(c *Config) {},
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			want := Default()
			tc.want(want)
			got := mustLoad(t, "", tc.env)
			if diff := cmp.Diff(want, got); diff != "" {
				t.Errorf("Load with env mismatch (-want +got):\n%s", diff)
			}
		})
	}
}

func TestLoadEnvOverridesFile(t *testing.T) {
	path := writeFile(t, "tokens:\n  access_token_lifetime: 30m\nhttp:\n  trusted_proxies: [10.0.0.1]\n")
	got := mustLoad(t, path, map[string]string{
		"GATEHOUSE_TOKENS_ACCESS_TOKEN_LIFETIME": "2h",
		"GATEHOUSE_HTTP_TRUSTED_PROXIES":         "10.0.0.2",
	})
	if got.Tokens.AccessTokenLifetime != Duration(2*time.Hour) {
		t.Errorf("access_token_lifetime = %v, want 2h0m0s from the environment", got.Tokens.AccessTokenLifetime)
	}
	if diff := cmp.Diff([]string{"10.0.0.2"}, got.HTTP.TrustedProxies); diff != "" {
		t.Errorf("trusted_proxies mismatch (-want +got):\n%s", diff)
	}
}

func TestLoadEnvProblems(t *testing.T) {
	tests := []struct {
		name string
		env  map[string]string
		want []string
	}{
		{
			name: "not a duration",
			env:  map[string]string{"GATEHOUSE_TOKENS_ACCESS_TOKEN_LIFETIME": "an hour"},
			want: []string{"GATEHOUSE_TOKENS_ACCESS_TOKEN_LIFETIME: not a duration"},
		},
		{
			name: "days are not a Go duration",
			env:  map[string]string{"GATEHOUSE_MFA_GRACE_PERIOD": "14d", "GATEHOUSE_MFA_REQUIRED": "admins"},
			want: []string{"GATEHOUSE_MFA_GRACE_PERIOD: not a duration", `mfa.required: must be one of none, everyone, got "admins"`},
		},
		{
			name: "not a boolean",
			env:  map[string]string{"GATEHOUSE_REGISTRATION_ALLOW_SELF_SIGNUP": "yes please"},
			want: []string{"GATEHOUSE_REGISTRATION_ALLOW_SELF_SIGNUP: not a boolean (true or false)"},
		},
		{
			name: "not an integer",
			env:  map[string]string{"GATEHOUSE_HTTP_MAX_BODY_BYTES": "1M"},
			want: []string{"GATEHOUSE_HTTP_MAX_BODY_BYTES: not an integer"},
		},
		{
			name: "alias conflicts with canonical name",
			env: map[string]string{
				"GATEHOUSE_REGISTRATION_INITIAL_ACCESS_TOKEN": strings.Repeat("a", 32),
				"GATEHOUSE_DCR_INITIAL_ACCESS_TOKEN":          strings.Repeat("b", 32),
			},
			want: []string{"GATEHOUSE_DCR_INITIAL_ACCESS_TOKEN: conflicts with GATEHOUSE_REGISTRATION_INITIAL_ACCESS_TOKEN; set only one"},
		},
		{
			name: "SMTP alias conflicts with canonical name",
			env: map[string]string{
				"GATEHOUSE_EMAIL_SMTP_URL": "smtp://a:pw-one@mail.example.com",
				"GATEHOUSE_SMTP_URL":       "smtp://a:pw-two@mail.example.com",
				"GATEHOUSE_EMAIL_FROM":     "gh@example.com",
			},
			want: []string{"GATEHOUSE_SMTP_URL: conflicts with GATEHOUSE_EMAIL_SMTP_URL; set only one"},
		},
		{
			name: "valid type, invalid value",
			env:  map[string]string{"GATEHOUSE_TOKENS_ACCESS_TOKEN_LIFETIME": "48h"},
			want: []string{"tokens.access_token_lifetime: must be between 1m0s and 24h0m0s, got 48h0m0s"},
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, err := Load("", envMap(tc.env))
			if diff := cmp.Diff(tc.want, problemsOf(t, err)); diff != "" {
				t.Errorf("Load problems mismatch (-want +got):\n%s", diff)
			}
		})
	}
}

// TestLoadCollectsAllProblems checks that file, environment and rule
// problems arrive together, in that order, in one *Error.
func TestLoadCollectsAllProblems(t *testing.T) {
	shortKey := base64.StdEncoding.EncodeToString(testKey(31))
	path := writeFile(t, `issuer: http://login.example.com
master_key: `+shortKey+`
tokens:
  refresh_token_lifetime: forever
theme:
  primary_colour: "#ffffff"
  primary_color: red
http:
  trusted_proxies: [10.0.0.0/8, not-an-ip]
`)
	_, err := Load(path, envMap(map[string]string{
		"GATEHOUSE_SESSIONS_IDLE_LIFETIME": "a day",
		"GATEHOUSE_PASSWORD_MIN_LENGTH":    "4",
	}))
	want := []string{
		`tokens.refresh_token_lifetime: not a duration: "forever" (line 4)`,
		"theme.primary_colour: unknown key (line 6)",
		"GATEHOUSE_SESSIONS_IDLE_LIFETIME: not a duration",
		"issuer: http is only allowed on loopback hosts; use https",
		"master_key: must be 32 bytes (base64 or hex), got 31",
		"password.min_length: must be between 8 and 64, got 4",
		`theme.primary_color: must be a colour like #2563eb, got "red"`,
		`http.trusted_proxies[1]: not an IP address or CIDR: "not-an-ip"`,
	}
	if diff := cmp.Diff(want, problemsOf(t, err)); diff != "" {
		t.Errorf("Load problems mismatch (-want +got):\n%s", diff)
	}
	if strings.Contains(err.Error(), shortKey) {
		t.Errorf("error text contains the master key: %v", err)
	}
}

// TestLoadErrorNeverShowsSecrets feeds secrets that are wrong in every way
// through the file and the environment and checks no error repeats them.
func TestLoadErrorNeverShowsSecrets(t *testing.T) {
	tests := []struct {
		name   string
		file   string
		env    map[string]string
		secret string
	}{
		{name: "short master key in file", file: "master_key: c2VjcmV0LW1hc3Rlci1rZXk=\n", secret: "c2VjcmV0LW1hc3Rlci1rZXk="},
		{name: "garbage master key in env", env: map[string]string{"GATEHOUSE_MASTER_KEY": "my secret master key!"}, secret: "my secret master key!"},
		{name: "master key of wrong shape", file: "master_key: {k: supersecretvalue}\n", secret: "supersecretvalue"},
		{name: "short token", env: map[string]string{"GATEHOUSE_DCR_INITIAL_ACCESS_TOKEN": "tok-3f9a"}, secret: "tok-3f9a"},
		{name: "database password", env: map[string]string{"GATEHOUSE_DATABASE_URL": "mysql://root:pw-8812@db/gh"}, secret: "pw-8812"},
		{name: "SMTP password in bad URL", env: map[string]string{"GATEHOUSE_SMTP_URL": "smtp://u:pw-4471@mail example.com"}, secret: "pw-4471"},
		{name: "SMTP password with bad scheme", env: map[string]string{"GATEHOUSE_SMTP_URL": "smtpx://u:pw-4472@mail.example.com"}, secret: "pw-4472"},
		{
			name:   "short webhook secret",
			env:    map[string]string{"GATEHOUSE_SMS_PROVIDER": "webhook", "GATEHOUSE_SMS_WEBHOOK_URL": "https://x.example", "GATEHOUSE_SMS_WEBHOOK_SECRET": "whsec-991"},
			secret: "whsec-991",
		},
		{
			name:   "Twilio token of wrong shape",
			file:   "sms:\n  provider: twilio\n  twilio_auth_token: [tw-secret-77]\n",
			secret: "tw-secret-77",
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			path := ""
			if tc.file != "" {
				path = writeFile(t, tc.file)
			}
			_, err := Load(path, envMap(tc.env))
			if err == nil {
				t.Fatal("Load() = nil error, want one")
			}
			if strings.Contains(err.Error(), tc.secret) {
				t.Errorf("error text contains the secret %q:\n%v", tc.secret, err)
			}
		})
	}
}
