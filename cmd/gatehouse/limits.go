package main

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"net/http"
	"time"

	"github.com/labstack/echo/v4"
	"github.com/redis/go-redis/v9"

	"gatehouse/config"
	"gatehouse/oidc"
	"gatehouse/oidc/account"
	"gatehouse/oidc/authflow"
	"gatehouse/oidc/ratelimit"
)

// openLimits builds the rate limiter and the failed-login counter: in
// the process, or in Redis when configured so that several instances share
// them. Both Redis users go through one circuit breaker: a Redis that fails
// or stops answering switches them to in-process counters, instead of
// letting everything through or holding each request for the Redis timeout.
func (a *App) openLimits() error {
	memory := ratelimit.NewMemory(time.Now)
	failures := &ratelimit.MemoryCounter{Now: time.Now}
	a.Limiter, a.Failures = memory, failures
	if a.Config.Redis.URL == "" {
		a.Metrics.observeBreaker(nil)
		return nil
	}
	opts, err := ratelimit.RedisOptions(a.Config.Redis.URL.Reveal())
	if err != nil {
		return fmt.Errorf("redis.url: %w", err)
	}
	a.Redis = redis.NewClient(opts)
	a.Breaker = &ratelimit.Breaker{Timeout: a.Config.Redis.Timeout.Std(), Logger: a.Logger, Now: time.Now}
	a.Limiter = &ratelimit.Failover{Primary: ratelimit.NewRedis(a.Redis, "gatehouse:rl:"), Fallback: memory, Breaker: a.Breaker}
	a.Failures = &ratelimit.FailoverCounter{Primary: &ratelimit.RedisCounter{Client: a.Redis, Prefix: "gatehouse:lf:"},
		Fallback: failures, Breaker: a.Breaker}
	a.Metrics.observeBreaker(a.Breaker)
	return nil
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
		"POST " + oidc.PathSignUp: ratelimit.Middleware(l, []ratelimit.KeyedRule{
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
	// A passkey sign-in has no login name to key by; its ceremonies (each
	// a row for five minutes) and answers share one budget per address.
	passkeys := []ratelimit.KeyedRule{{Name: "passkey_ip", Rule: rule(rl.LoginPerIP), Key: ratelimit.ByIP}}
	routes["POST "+authflow.PathPasskeyOptions] = ratelimit.Middleware(l, passkeys, api)
	routes["POST "+authflow.PathPasskeyLogin] = ratelimit.Middleware(l, passkeys, page)
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
