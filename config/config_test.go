package config

import (
	"bytes"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"gopkg.in/yaml.v3"
)

func TestDefault(t *testing.T) {
	want := &Config{
		Issuer:      "http://localhost:8080",
		Listen:      "127.0.0.1:8080",
		AdminListen: "127.0.0.1:9464",
		DataDir:     "./data",
		Database:    Database{URL: "sqlite:data/gatehouse.db", MigrateOnStart: true, ConnectTimeout: Duration(5 * time.Second), MaxOpenConns: 32},
		Signing:     Signing{Algorithm: "RS256"},
		Tokens: Tokens{
			AccessTokenLifetime:          Duration(time.Hour),
			RefreshTokenLifetime:         Duration(720 * time.Hour),
			RefreshTokenAbsoluteLifetime: Duration(2160 * time.Hour),
			IDTokenLifetime:              Duration(time.Hour),
			AuthorizationCodeLifetime:    Duration(60 * time.Second),
			RotatedRefreshTokenRetention: Duration(24 * time.Hour),
			RolesClaim:                   "roles",
		},
		Registration: Registration{AllowSelfSignup: true, UnusedClientLifetime: Duration(720 * time.Hour)},
		Sessions: Sessions{
			IdleLifetime:     Duration(24 * time.Hour),
			AbsoluteLifetime: Duration(168 * time.Hour),
		},
		Password: Password{MinLength: 8, MaxLength: 128, HashQueueTimeout: Duration(2 * time.Second)},
		Email:    Email{MaxMessageAge: Duration(24 * time.Hour)},
		SMS:      SMS{Provider: "log", TwilioBaseURL: "https://api.twilio.com", DefaultRegion: "US"},
		Theme:    Theme{ProductName: "Gatehouse", PrimaryColor: "#2563eb"},
		Log:      Log{Level: "info", Format: "json"},
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
		Lockout: Lockout{MaxFailures: 5, FirstLockout: Duration(time.Minute), MaxLockout: Duration(15 * time.Minute)},
		Captcha: Captcha{Provider: "pow", PowMaxNumber: 100000, AfterFailures: 3},
		Audit:   Audit{Retention: Duration(8760 * time.Hour)},
		MFA:     MFA{Required: "none", RequiredRoles: []string{}, RequiredClients: []string{}},
		Console: Console{MaxAuthAge: Duration(15 * time.Minute)},
		Usage:   Usage{MinCell: 5},
	}
	got := Default()
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("Default() mismatch (-want +got):\n%s", diff)
	}
	if err := got.Validate(); err != nil {
		t.Errorf("Default().Validate() = %v, want nil", err)
	}
	if !got.DevelopmentMode() {
		t.Error("Default().DevelopmentMode() = false, want true")
	}
}

func TestMasterKeyBytes(t *testing.T) {
	key := testKey(32)
	tests := []struct {
		name    string
		in      string
		want    []byte
		wantErr string
	}{
		{name: "std base64", in: base64.StdEncoding.EncodeToString(key), want: key},
		{name: "raw std base64", in: base64.RawStdEncoding.EncodeToString(key), want: key},
		{name: "URL base64", in: base64.URLEncoding.EncodeToString(bytes.Repeat([]byte{0xfb}, 32)), want: bytes.Repeat([]byte{0xfb}, 32)},
		{name: "raw URL base64", in: base64.RawURLEncoding.EncodeToString(bytes.Repeat([]byte{0xff}, 32)), want: bytes.Repeat([]byte{0xff}, 32)},
		{name: "hex", in: hex.EncodeToString(key), want: key},
		{name: "upper-case hex", in: strings.ToUpper(hex.EncodeToString(key)), want: key},
		{
			name:    "31 bytes",
			in:      base64.StdEncoding.EncodeToString(testKey(31)),
			wantErr: "config: master_key: must be 32 bytes (base64 or hex), got 31",
		},
		{name: "unset", in: "", wantErr: ErrNoMasterKey.Error()},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			c := Default()
			c.MasterKey = Secret(tc.in)
			got, err := c.MasterKeyBytes()
			gotErr := ""
			if err != nil {
				gotErr = err.Error()
			}
			if diff := cmp.Diff(tc.wantErr, gotErr); diff != "" {
				t.Errorf("MasterKeyBytes() error mismatch (-want +got):\n%s", diff)
			}
			if diff := cmp.Diff(tc.want, got); diff != "" {
				t.Errorf("MasterKeyBytes() mismatch (-want +got):\n%s", diff)
			}
			if tc.in != "" && strings.Contains(gotErr, tc.in) {
				t.Errorf("MasterKeyBytes() error %q contains the key", gotErr)
			}
		})
	}
	c := Default()
	if _, err := c.MasterKeyBytes(); !errors.Is(err, ErrNoMasterKey) {
		t.Errorf("MasterKeyBytes() without a key: error = %v, want ErrNoMasterKey", err)
	}
}

func TestDuration(t *testing.T) {
	d := Duration(90 * time.Minute)
	if got, want := d.String(), "1h30m0s"; got != want {
		t.Errorf("String() = %q, want %q", got, want)
	}
	if got, want := d.Std(), 90*time.Minute; got != want {
		t.Errorf("Std() = %v, want %v", got, want)
	}
	out, err := yaml.Marshal(struct {
		D Duration `yaml:"d"`
	}{d})
	if err != nil {
		t.Fatalf("yaml.Marshal: %v", err)
	}
	if diff := cmp.Diff("d: 1h30m0s\n", string(out)); diff != "" {
		t.Errorf("yaml.Marshal mismatch (-want +got):\n%s", diff)
	}
	var back Duration
	if err := back.UnmarshalText([]byte("1h30m")); err != nil || back != d {
		t.Errorf("UnmarshalText(1h30m) = %v, %v; want %v, nil", back, err, d)
	}
	if err := back.UnmarshalText([]byte("60")); err == nil {
		t.Error("UnmarshalText(60) = nil error, want one: a bare number has no unit")
	}
}

// secretConfig returns a valid configuration whose secrets are set to
// recognisable values.
func secretConfig() (c *Config, masterKey, token string) {
	c = Default()
	c.MasterKey = Secret(base64.StdEncoding.EncodeToString(testKey(32)))
	c.Registration.InitialAccessToken = Secret("iat-" + strings.Repeat("s3cr3t", 6))
	c.Database.URL = "postgres://gatehouse:db-password@db.internal/gatehouse?sslmode=verify-full"
	c.Email = Email{SMTPURL: "smtp://mailer:smtp-password@mail.internal:587", From: "Gatehouse <no-reply@example.com>"}
	c.SMS = SMS{
		Provider:         "twilio",
		WebhookURL:       "https://hooks:hook-password@sms.internal/send",
		WebhookSecret:    Secret("webhook-" + strings.Repeat("s3cr3t", 6)),
		TwilioAccountSID: "AC0123456789abcdef0123456789abcdef",
		TwilioAuthToken:  "twilio-auth-token-0123456789",
		TwilioFrom:       "+15005550006",
		TwilioBaseURL:    "https://api.twilio.com",
		DefaultRegion:    "GB",
	}
	c.Redis.URL = "rediss://default:redis-password@cache.internal:6380/2"
	c.Captcha = Captcha{Provider: "turnstile", PowMaxNumber: 100000, SiteKey: "0x4AAA-site", SecretKey: "0x4AAA-captcha-secret", AfterFailures: 3}
	return c, c.MasterKey.Reveal(), c.Registration.InitialAccessToken.Reveal()
}

func TestRedacted(t *testing.T) {
	c, _, _ := secretConfig()
	c.HTTP.TrustedProxies = []string{"10.0.0.0/8"}
	got := c.Redacted()

	want := *c
	want.MasterKey = "[redacted]"
	want.Registration.InitialAccessToken = "[redacted]"
	want.Database.URL = "postgres://gatehouse:xxxxx@db.internal/gatehouse?sslmode=verify-full"
	want.Email.SMTPURL = "smtp://mailer:xxxxx@mail.internal:587"
	want.SMS.WebhookURL = "https://hooks:xxxxx@sms.internal/send"
	want.SMS.WebhookSecret = "[redacted]"
	want.SMS.TwilioAuthToken = "[redacted]"
	want.Redis.URL = "rediss://default:xxxxx@cache.internal:6380/2"
	want.Captcha.SecretKey = "[redacted]"
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("Redacted() mismatch (-want +got):\n%s", diff)
	}

	got.HTTP.TrustedProxies[0] = "changed"
	if c.HTTP.TrustedProxies[0] != "10.0.0.0/8" {
		t.Error("Redacted() shares TrustedProxies with the original")
	}
	if d := Default().Redacted(); d.MasterKey != "" || d.Registration.InitialAccessToken != "" ||
		d.SMS.WebhookSecret != "" || d.SMS.TwilioAuthToken != "" || d.Email.SMTPURL != "" ||
		d.Redis.URL != "" || d.Captcha.SecretKey != "" {
		t.Errorf("Redacted() of unset secrets = %+v; want them left empty", d)
	}
}

func TestRedactURL(t *testing.T) {
	tests := []struct{ name, in, want string }{
		{"sqlite", "sqlite:data/gatehouse.db", "sqlite:data/gatehouse.db"},
		{"no password", "postgres://gatehouse@db/gh", "postgres://gatehouse@db/gh"},
		{"password in user info", "postgresql://u:pw@db/gh", "postgresql://u:xxxxx@db/gh"},
		{"password in query", "postgres://db/gh?password=pw&user=u", "postgres://db/gh?password=xxxxx&user=u"},
		{"unparseable", "postgres://u:pw@db:port/gh", "[redacted]"},
		{"smtp with password", "smtp://u%40x:p%40ss@mail.example.com:587", "smtp://u%40x:xxxxx@mail.example.com:587"},
		{"smtps without password", "smtps://mail.example.com", "smtps://mail.example.com"},
		{"redis with password only", "redis://:pw@cache:6379/0", "redis://:xxxxx@cache:6379/0"},
		{"empty", "", ""},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if diff := cmp.Diff(tc.want, redactURL(tc.in)); diff != "" {
				t.Errorf("redactURL(%q) mismatch (-want +got):\n%s", tc.in, diff)
			}
		})
	}
}

// TestSecretsNeverShown prints a Config every way a caller might and checks
// that no secret comes out.
func TestSecretsNeverShown(t *testing.T) {
	c, masterKey, token := secretConfig()
	var jsonLog, textLog bytes.Buffer
	slog.New(slog.NewJSONHandler(&jsonLog, nil)).Info("config loaded", "config", c)
	slog.New(slog.NewTextHandler(&textLog, nil)).Info("config loaded", "config", *c)

	shown := map[string]string{
		"%v pointer":           fmt.Sprintf("%v", c),
		"%v value":             fmt.Sprintf("%v", *c),
		"%+v":                  fmt.Sprintf("%+v", c),
		"%#v":                  fmt.Sprintf("%#v", c),
		"%s":                   fmt.Sprintf("%s", c),
		"%q":                   fmt.Sprintf("%q", c),
		"%x":                   fmt.Sprintf("%x", c),
		"%d":                   fmt.Sprintf("%d", *c),
		"String":               c.String(),
		"Redacted %+v":         fmt.Sprintf("%+v", c.Redacted()),
		"Registration %+v":     fmt.Sprintf("%+v", c.Registration),
		"Registration %#v":     fmt.Sprintf("%#v", &c.Registration),
		"Email %+v":            fmt.Sprintf("%+v", c.Email),
		"Email %#v":            fmt.Sprintf("%#v", &c.Email),
		"SMS %+v":              fmt.Sprintf("%+v", c.SMS),
		"SMS %#v":              fmt.Sprintf("%#v", &c.SMS),
		"Redis %+v":            fmt.Sprintf("%+v", c.Redis),
		"Redis %#v":            fmt.Sprintf("%#v", &c.Redis),
		"Captcha %+v":          fmt.Sprintf("%+v", c.Captcha),
		"Captcha %#v":          fmt.Sprintf("%#v", &c.Captcha),
		"slog JSON":            jsonLog.String(),
		"slog text":            textLog.String(),
		"Validate of bad copy": fmt.Sprint(badCopy(c).Validate()),
	}
	secrets := map[string]string{
		"master key":           masterKey,
		"master key hex":       hex.EncodeToString(testKey(32)),
		"initial access token": token,
		"database password":    "db-password",
		"SMTP password":        "smtp-password",
		"webhook password":     "hook-password",
		"webhook secret":       c.SMS.WebhookSecret.Reveal(),
		"Twilio auth token":    c.SMS.TwilioAuthToken.Reveal(),
		"Redis password":       "redis-password",
		"CAPTCHA secret key":   c.Captcha.SecretKey.Reveal(),
	}
	for how, text := range shown {
		for what, secret := range secrets {
			if strings.Contains(text, secret) || strings.Contains(text, fmt.Sprintf("%x", secret)) {
				t.Errorf("%s shows the %s: %s", how, what, text)
			}
		}
	}
	for _, how := range []string{"%+v", "String", "slog JSON", "slog text", "SMS %+v"} {
		if !strings.Contains(shown[how], "[redacted]") {
			t.Errorf("%s does not mark secrets as redacted: %s", how, shown[how])
		}
	}
	if !strings.Contains(shown["slog JSON"], `"access_token_lifetime":"1h0m0s"`) {
		t.Errorf("slog JSON does not use YAML keys and duration strings: %s", shown["slog JSON"])
	}
}

// badCopy returns c with secrets of the wrong shape: the master key one
// byte short, the tokens too short, the database and SMTP schemes unknown,
// the webhook over http, the Redis scheme unknown.
func badCopy(c *Config) *Config {
	b := *c
	b.MasterKey = c.MasterKey[:40] // 30 bytes
	b.Registration.InitialAccessToken = c.Registration.InitialAccessToken[:20]
	b.Database.URL = Secret(strings.Replace(c.Database.URL.Reveal(), "postgres://", "mysql://", 1))
	b.Email.SMTPURL = Secret(strings.Replace(c.Email.SMTPURL.Reveal(), "smtp://", "smtpx://", 1))
	b.SMS.Provider = "webhook"
	b.SMS.WebhookURL = Secret(strings.Replace(c.SMS.WebhookURL.Reveal(), "https://", "http://", 1))
	b.SMS.WebhookSecret = c.SMS.WebhookSecret[:20]
	b.Redis.URL = Secret(strings.Replace(c.Redis.URL.Reveal(), "rediss://", "redis+tls://", 1))
	return &b
}

// TestEnvCoversEveryKey sets every key through its canonical variable, so
// a new key of a type the environment cannot parse fails here.
func TestEnvCoversEveryKey(t *testing.T) {
	sample := map[string]string{}
	c := defaults()
	for _, f := range fields(c) {
		v := "x"
		switch {
		case f.value.Type() == durationType:
			v = "2h"
		case f.value.Kind().String() == "bool":
			v = "true"
		case strings.HasPrefix(f.value.Kind().String(), "int"):
			v = "100"
		}
		sample[envName(f.path)] = v
	}
	if problems := c.applyEnv(envMap(sample)); len(problems) > 0 {
		t.Errorf("applyEnv: unexpected problems: %q", problems)
	}
	for _, a := range envAliases {
		found := false
		for _, f := range fields(c) {
			found = found || f.path == a.path
		}
		if !found {
			t.Errorf("alias %s points at unknown key %s", a.name, a.path)
		}
	}
}

// TestLoadAdminListenOff: an empty admin_listen in the file turns the
// admin listener off instead of falling back to the default address.
func TestLoadAdminListenOff(t *testing.T) {
	got := mustLoad(t, writeFile(t, "admin_listen: \"\"\n"), nil)
	if got.AdminListen != "" {
		t.Errorf("admin_listen = %q, want empty", got.AdminListen)
	}
}
