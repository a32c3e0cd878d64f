package config

import (
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

func TestRateParse(t *testing.T) {
	tests := []struct {
		in         Rate
		wantLimit  int
		wantWindow time.Duration
		wantErr    bool
	}{
		{in: "30/1m", wantLimit: 30, wantWindow: time.Minute},
		{in: "3/15m", wantLimit: 3, wantWindow: 15 * time.Minute},
		{in: " 2 / h ", wantLimit: 2, wantWindow: time.Hour},
		{in: "100/s", wantLimit: 100, wantWindow: time.Second},
		{in: "", wantErr: true},
		{in: "30", wantErr: true},
		{in: "30/60", wantErr: true},
		{in: "0/1m", wantErr: true},
		{in: "-3/1m", wantErr: true},
		{in: "three/1m", wantErr: true},
		{in: "3/0s", wantErr: true},
		{in: "3/-1m", wantErr: true},
		{in: "3/1m/1", wantErr: true},
	}
	for _, tc := range tests {
		t.Run(string(tc.in), func(t *testing.T) {
			limit, window, err := tc.in.Parse()
			if (err != nil) != tc.wantErr {
				t.Fatalf("Rate(%q).Parse() error = %v, want error: %v", tc.in, err, tc.wantErr)
			}
			if diff := cmp.Diff([]any{tc.wantLimit, tc.wantWindow}, []any{limit, window}); diff != "" {
				t.Errorf("Rate(%q).Parse() mismatch (-want +got):\n%s", tc.in, diff)
			}
		})
	}
}

func TestValidateProtection(t *testing.T) {
	tests := []struct {
		name   string
		mutate func(c *Config)
		want   []string
	}{
		// redis
		{name: "redis URL", mutate: func(c *Config) { c.Redis.URL = "redis://127.0.0.1:6379/0" }},
		{name: "rediss URL with password", mutate: func(c *Config) { c.Redis.URL = "rediss://u:pw@cache.example.com:6380" }},
		{name: "redis URL with options", mutate: func(c *Config) { c.Redis.URL = "redis://cache/3?dial_timeout=2s" }},
		{
			name:   "redis URL with another scheme",
			mutate: func(c *Config) { c.Redis.URL = "http://u:pw@cache:6379" },
			want:   []string{"redis.url: must start with redis:// or rediss://"},
		},
		{
			name:   "redis URL without host",
			mutate: func(c *Config) { c.Redis.URL = "redis:///0" },
			want:   []string{"redis.url: must include a host, such as redis://127.0.0.1:6379/0"},
		},
		{
			name:   "redis URL with a bad database",
			mutate: func(c *Config) { c.Redis.URL = "redis://cache/sessions" },
			want:   []string{"redis.url: path must be a database number, such as /0"},
		},
		{
			name:   "redis URL with a bad port",
			mutate: func(c *Config) { c.Redis.URL = "redis://cache:99999" },
			want:   []string{"redis.url: has an invalid port"},
		},

		// rate_limits
		{name: "bare unit", mutate: func(c *Config) { c.RateLimits.TokenPerClient = "50/s" }},
		{
			name: "bad rates",
			mutate: func(c *Config) {
				c.RateLimits.LoginPerIP = "30"
				c.RateLimits.LoginPerAccount = "0/1m"
				c.RateLimits.RegistrationPerIP = "10/60"
				c.RateLimits.PasswordResetPerAccount = "3/48h"
				c.RateLimits.VerificationPerIP = "5/100ms"
				c.RateLimits.TokenPerIP = "2000000/1m"
			},
			want: []string{
				`rate_limits.login_per_ip: must be N/duration, such as 30/1m, got "30"`,
				`rate_limits.login_per_account: the count before / must be a positive integer, got "0/1m"`,
				`rate_limits.registration_per_ip: the window after / must be a positive duration, such as 1m, got "10/60"`,
				"rate_limits.password_reset_per_account: the window must be between 1s and 24h, got 48h0m0s",
				"rate_limits.verification_per_ip: the window must be between 1s and 24h, got 100ms",
				"rate_limits.token_per_ip: the count must be at most 1000000, got 2000000",
			},
		},

		// lockout
		{name: "permanent lockout", mutate: func(c *Config) { c.Lockout.PermanentAfter = 3 }},
		{
			name: "bad lockout",
			mutate: func(c *Config) {
				c.Lockout.MaxFailures = 0
				c.Lockout.FirstLockout = Duration(time.Hour)
				c.Lockout.MaxLockout = Duration(10 * time.Minute)
				c.Lockout.PermanentAfter = -1
			},
			want: []string{
				"lockout.max_failures: must be between 1 and 100, got 0",
				"lockout.max_lockout: must be at least lockout.first_lockout (1h0m0s), got 10m0s",
				"lockout.permanent_after: must be between 0 and 100, got -1",
			},
		},
		{
			name:   "lockout too long",
			mutate: func(c *Config) { c.Lockout.MaxLockout = Duration(1000 * time.Hour) },
			want:   []string{"lockout.max_lockout: must be between 1s and 720h0m0s, got 1000h0m0s"},
		},

		// captcha
		{name: "captcha off", mutate: func(c *Config) { c.Captcha.Provider = "off" }},
		{name: "captcha always", mutate: func(c *Config) { c.Captcha.AfterFailures = 0 }},
		{
			name: "recaptcha with keys",
			mutate: func(c *Config) {
				c.Captcha = Captcha{Provider: "recaptcha", PowMaxNumber: 100000, SiteKey: "site", SecretKey: "secret", AfterFailures: 3}
			},
		},
		{
			name:   "turnstile without keys",
			mutate: func(c *Config) { c.Captcha.Provider = "turnstile" },
			want: []string{
				"captcha.site_key: required when captcha.provider is turnstile",
				"captcha.secret_key: required when captcha.provider is turnstile",
			},
		},
		{
			name: "bad captcha",
			mutate: func(c *Config) {
				c.Captcha.Provider = "friendly"
				c.Captcha.PowMaxNumber = 999
				c.Captcha.AfterFailures = -1
			},
			want: []string{
				`captcha.provider: must be one of pow, turnstile, hcaptcha, recaptcha, off, got "friendly"`,
				"captcha.pow_max_number: must be between 1000 and 10000000, got 999",
				"captcha.after_failures: must be between 0 and 1000, got -1",
			},
		},

		// audit
		{name: "audit kept forever", mutate: func(c *Config) { c.Audit.Retention = 0 }},
		{name: "audit kept a day", mutate: func(c *Config) { c.Audit.Retention = Duration(24 * time.Hour) }},
		{
			name:   "audit kept an hour",
			mutate: func(c *Config) { c.Audit.Retention = Duration(time.Hour) },
			want:   []string{"audit.retention: must be 0 (keep forever) or at least 24h, got 1h0m0s"},
		},

		// usage
		{name: "every count shown", mutate: func(c *Config) { c.Usage.MinCell = 1 }},
		{
			name:   "no minimum cell",
			mutate: func(c *Config) { c.Usage.MinCell = 0 },
			want:   []string{"usage.min_cell: must be between 1 and 1000, got 0"},
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
			for _, p := range got {
				if strings.Contains(p, "pw") || strings.Contains(p, "secret\"") {
					t.Errorf("problem %q shows a secret", p)
				}
			}
		})
	}
}
