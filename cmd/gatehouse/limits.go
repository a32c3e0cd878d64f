package main

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"log/slog"
	"net/http"
	"time"

	"github.com/labstack/echo/v4"
	"github.com/redis/go-redis/v9"

	"gatehouse/config"
	"gatehouse/oidc"
	"gatehouse/oidc/account"
	"gatehouse/oidc/ratelimit"
)

// newLimiter keeps counters in the process, or in Redis when configured
// so that several instances share them; a Redis outage falls back to the
// in-process counters instead of letting everything through.
func newLimiter(cfg *config.Config, log *slog.Logger) (ratelimit.Limiter, *redis.Client, error) {
	memory := ratelimit.NewMemory(time.Now)
	if cfg.Redis.URL == "" {
		return memory, nil, nil
	}
	opts, err := redis.ParseURL(cfg.Redis.URL)
	if err != nil {
		return nil, nil, fmt.Errorf("redis.url: %w", err)
	}
	client := redis.NewClient(opts)
	return &ratelimit.Failover{Primary: ratelimit.NewRedis(client, "gatehouse:rl:"), Fallback: memory, Logger: log}, client, nil
}

// clientAuthLimit counts failed client authentications in failures (the
// counter shared through Redis when configured).
func clientAuthLimit(failures ratelimit.Counter, rl config.RateLimits) (*oidc.ClientAuthLimit, error) {
	l := &oidc.ClientAuthLimit{Failures: failures}
	for _, x := range []struct {
		rate config.Rate
		rule *ratelimit.Rule
	}{{rl.ClientAuthFailuresPerClient, &l.PerClient}, {rl.ClientAuthFailuresPerIP, &l.PerIP}} {
		n, w, err := x.rate.Parse()
		if err != nil {
			return nil, fmt.Errorf("rate limits: %w", err)
		}
		*x.rule = ratelimit.Rule{Limit: n, Window: w}
	}
	return l, nil
}

// bySession keys a limit by the browser's session cookie: the signed-in
// account, for the verification and account forms.
func bySession(c echo.Context) string {
	ck, err := c.Cookie(oidc.SessionCookieName(true))
	if err != nil {
		ck, err = c.Cookie(oidc.SessionCookieName(false))
	}
	if err != nil || ck.Value == "" {
		return ""
	}
	sum := sha256.Sum256([]byte(ck.Value))
	return hex.EncodeToString(sum[:16])
}

// rateLimits protects the routes attackers aim at: logins, registration,
// recovery, verification codes and the token endpoint. One middleware
// looks the route up, so the routes themselves stay where they are mounted.
func rateLimits(l ratelimit.Limiter, rl config.RateLimits) (echo.MiddlewareFunc, error) {
	var problems []error
	rule := func(r config.Rate) ratelimit.Rule {
		n, w, err := r.Parse()
		if err != nil {
			problems = append(problems, err)
		}
		return ratelimit.Rule{Limit: n, Window: w}
	}
	page := func(c echo.Context, d ratelimit.Decision) error { return ratelimit.Respond(c, d, false) }
	api := func(c echo.Context, d ratelimit.Decision) error { return ratelimit.Respond(c, d, true) }
	verification := []ratelimit.KeyedRule{
		{Name: "verify_ip", Rule: rule(rl.VerificationPerIP), Key: ratelimit.ByIP},
		{Name: "verify_account", Rule: rule(rl.VerificationPerAccount), Key: bySession},
	}
	routes := map[string]echo.MiddlewareFunc{
		"POST " + oidc.PathLogin: ratelimit.Middleware(l, []ratelimit.KeyedRule{
			{Name: "login_ip", Rule: rule(rl.LoginPerIP), Key: ratelimit.ByIP},
			{Name: "login_account", Rule: rule(rl.LoginPerAccount), Key: ratelimit.ByFormField("login")},
		}, page),
		"POST " + oidc.PathSignup: ratelimit.Middleware(l, []ratelimit.KeyedRule{
			{Name: "register_ip", Rule: rule(rl.RegistrationPerIP), Key: ratelimit.ByIP},
		}, page),
		"POST " + oidc.PathForgotPassword: ratelimit.Middleware(l, []ratelimit.KeyedRule{
			{Name: "reset_ip", Rule: rule(rl.PasswordResetPerIP), Key: ratelimit.ByIP},
			{Name: "reset_account", Rule: rule(rl.PasswordResetPerAccount), Key: ratelimit.ByFormField("login")},
		}, page),
		"POST " + oidc.PathToken: ratelimit.Middleware(l, []ratelimit.KeyedRule{
			{Name: "token_client", Rule: rule(rl.TokenPerClient), Key: ratelimit.ByClient},
			{Name: "token_ip", Rule: rule(rl.TokenPerIP), Key: ratelimit.ByIP},
		}, api),
	}
	for _, p := range []string{oidc.PathVerifyEmail, oidc.PathVerifyResend, oidc.PathResetPassword,
		account.Path + "/email", account.Path + "/email/code", account.Path + "/email/resend",
		account.Path + "/phone", account.Path + "/phone/code", account.Path + "/password"} {
		routes["POST "+p] = ratelimit.Middleware(l, verification, page)
	}
	if len(problems) > 0 {
		return nil, fmt.Errorf("rate limits: %v", problems)
	}
	return func(next echo.HandlerFunc) echo.HandlerFunc {
		wrapped := make(map[string]echo.HandlerFunc, len(routes))
		for k, mw := range routes {
			wrapped[k] = mw(next)
		}
		return func(c echo.Context) error {
			r := c.Request()
			if r.Method != http.MethodPost {
				return next(c)
			}
			if h, ok := wrapped[r.Method+" "+r.URL.Path]; ok {
				return h(c)
			}
			return next(c)
		}
	}, nil
}
