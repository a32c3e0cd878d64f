package config

import (
	"errors"
	"net/url"
	"strconv"
	"strings"
	"time"
)

// Redis names the shared store for rate-limit counters.
type Redis struct {
	// URL is redis://[[user]:password@]host[:port][/db] or rediss://… for
	// TLS. Empty keeps the limits in each process. Its password is masked
	// wherever the configuration is shown.
	URL Secret `yaml:"url"`
	// Timeout bounds each call to Redis. Three failures in a row switch
	// the limits to in-process counters for a few seconds, so a Redis
	// that stops answering costs requests at most this long.
	Timeout Duration `yaml:"timeout"`
}

// Rate is a rate limit written "N/duration": at most N requests per
// duration ("30/1m", "3/15m"). A bare unit means one of it ("10/s").
type Rate string

// Parse returns the request count and the window.
func (r Rate) Parse() (limit int, window time.Duration, err error) {
	n, w, ok := strings.Cut(strings.TrimSpace(string(r)), "/")
	if !ok {
		return 0, 0, errors.New("must be N/duration, such as 30/1m")
	}
	limit, err = strconv.Atoi(strings.TrimSpace(n))
	if err != nil || limit < 1 {
		return 0, 0, errors.New("the count before / must be a positive integer")
	}
	w = strings.TrimSpace(w)
	if w != "" && (w[0] < '0' || w[0] > '9') && w[0] != '.' {
		w = "1" + w
	}
	window, err = time.ParseDuration(w)
	if err != nil || window <= 0 {
		return 0, 0, errors.New("the window after / must be a positive duration, such as 1m")
	}
	return limit, window, nil
}

// RateLimits caps how often sensitive endpoints answer one client IP, one
// account (the login or e-mail typed in) or one OAuth client.
type RateLimits struct {
	LoginPerIP              Rate `yaml:"login_per_ip"`
	LoginPerAccount         Rate `yaml:"login_per_account"`
	RegistrationPerIP       Rate `yaml:"registration_per_ip"`
	PasswordResetPerIP      Rate `yaml:"password_reset_per_ip"`
	PasswordResetPerAccount Rate `yaml:"password_reset_per_account"`
	VerificationPerIP       Rate `yaml:"verification_per_ip"`
	VerificationPerAccount  Rate `yaml:"verification_per_account"`
	TokenPerClient          Rate `yaml:"token_per_client"`
	TokenPerIP              Rate `yaml:"token_per_ip"`
	// ClientAuthFailuresPerClient and ClientAuthFailuresPerIP cap failed
	// client authentications at the token, revocation and introspection
	// endpoints; past them every attempt gets 429 until the window ends.
	ClientAuthFailuresPerClient Rate `yaml:"client_auth_failures_per_client"`
	ClientAuthFailuresPerIP     Rate `yaml:"client_auth_failures_per_ip"`
}

// Lockout locks an account after repeated failed logins, for longer each
// time.
type Lockout struct {
	// MaxFailures is how many failed logins in a row lock the account.
	MaxFailures int `yaml:"max_failures"`
	// FirstLockout is the first lock's length; each further lock doubles
	// it, up to MaxLockout.
	FirstLockout Duration `yaml:"first_lockout"`
	MaxLockout   Duration `yaml:"max_lockout"`
	// PermanentAfter locks the account until an administrator unlocks it
	// after this many locks; 0 never does.
	PermanentAfter int `yaml:"permanent_after"`
}

// Captcha configures the challenge on public forms.
type Captcha struct {
	// Provider is pow (self-hosted proof of work, the default), turnstile,
	// hcaptcha, recaptcha or off.
	Provider string `yaml:"provider"`
	// PowMaxNumber is the proof-of-work difficulty: the largest number
	// the browser may have to try (ALTCHA maxnumber).
	PowMaxNumber int `yaml:"pow_max_number"`
	// SiteKey and SecretKey are the third-party provider's keys; both are
	// required for turnstile, hcaptcha and recaptcha.
	SiteKey   string `yaml:"site_key"`
	SecretKey Secret `yaml:"secret_key"`
	// VerifyURL replaces the provider's own verification API (its base
	// URL, before the siteverify path): for tests or an egress proxy.
	VerifyURL string `yaml:"verify_url"`
	// AfterFailures is how many failed logins from one IP or for one
	// account make the login form ask for a CAPTCHA; 0 asks always.
	AfterFailures int `yaml:"after_failures"`
}

// Audit configures the audit trail.
type Audit struct {
	// Retention is how long audit events are kept; 0 keeps them forever.
	Retention Duration `yaml:"retention"`
}

// checkRedisURL never repeats the URL: it may hold a password.
func checkRedisURL(s string) error {
	u, err := url.Parse(s)
	if err != nil {
		return errors.New("not a valid URL")
	}
	if u.Scheme != "redis" && u.Scheme != "rediss" {
		return errors.New("must start with redis:// or rediss://")
	}
	if u.Opaque != "" || u.Hostname() == "" {
		return errors.New("must include a host, such as redis://127.0.0.1:6379/0")
	}
	if port := u.Port(); port != "" {
		if n, err := strconv.Atoi(port); err != nil || n < 1 || n > 65535 {
			return errors.New("has an invalid port")
		}
	}
	if db := strings.TrimPrefix(u.Path, "/"); db != "" {
		if n, err := strconv.Atoi(db); err != nil || n < 0 {
			return errors.New("path must be a database number, such as /0")
		}
	}
	if u.Fragment != "" {
		return errors.New("must not contain a fragment")
	}
	return nil
}

func (r RateLimits) validate(p *problems) {
	rates := []struct {
		key  string
		rate Rate
	}{
		{"login_per_ip", r.LoginPerIP},
		{"login_per_account", r.LoginPerAccount},
		{"registration_per_ip", r.RegistrationPerIP},
		{"password_reset_per_ip", r.PasswordResetPerIP},
		{"password_reset_per_account", r.PasswordResetPerAccount},
		{"verification_per_ip", r.VerificationPerIP},
		{"verification_per_account", r.VerificationPerAccount},
		{"token_per_client", r.TokenPerClient},
		{"token_per_ip", r.TokenPerIP},
		{"client_auth_failures_per_client", r.ClientAuthFailuresPerClient},
		{"client_auth_failures_per_ip", r.ClientAuthFailuresPerIP},
	}
	// With these bounds a rule never asks for more than one request per
	// microsecond, the finest step the Redis limiter counts in.
	for _, x := range rates {
		key := "rate_limits." + x.key
		limit, window, err := x.rate.Parse()
		switch {
		case err != nil:
			p.add(key, "%v, got %q", err, x.rate)
		case limit > 1_000_000:
			p.add(key, "the count must be at most 1000000, got %d", limit)
		case window < time.Second || window > 24*time.Hour:
			p.add(key, "the window must be between 1s and 24h, got %v", window)
		}
	}
}

func (l Lockout) validate(p *problems) {
	p.intBetween("lockout.max_failures", int64(l.MaxFailures), 1, 100)
	p.durationBetween("lockout.first_lockout", l.FirstLockout, Duration(time.Second), Duration(24*time.Hour))
	p.durationBetween("lockout.max_lockout", l.MaxLockout, Duration(time.Second), Duration(720*time.Hour))
	if l.MaxLockout < l.FirstLockout {
		p.add("lockout.max_lockout", "must be at least lockout.first_lockout (%v), got %v", l.FirstLockout, l.MaxLockout)
	}
	p.intBetween("lockout.permanent_after", int64(l.PermanentAfter), 0, 100)
}

func (c Captcha) validate(p *problems) {
	p.oneOf("captcha.provider", c.Provider, "pow", "turnstile", "hcaptcha", "recaptcha", "off")
	p.intBetween("captcha.pow_max_number", int64(c.PowMaxNumber), 1000, 10_000_000)
	switch c.Provider {
	case "turnstile", "hcaptcha", "recaptcha":
		if c.SiteKey == "" {
			p.add("captcha.site_key", "required when captcha.provider is %s", c.Provider)
		}
		if c.SecretKey == "" {
			p.add("captcha.secret_key", "required when captcha.provider is %s", c.Provider)
		}
	}
	p.intBetween("captcha.after_failures", int64(c.AfterFailures), 0, 1000)
	if c.VerifyURL != "" {
		if u, err := url.Parse(c.VerifyURL); err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" {
			p.add("captcha.verify_url", "must be an absolute http(s) URL")
		}
	}
}

func (a Audit) validate(p *problems) {
	if a.Retention != 0 && a.Retention < Duration(24*time.Hour) {
		p.add("audit.retention", "must be 0 (keep forever) or at least 24h, got %v", a.Retention)
	}
}
