package config

import "time"

// Console is the admin console at /admin.
type Console struct {
	// MaxAuthAge is how recent the sign-in of a console user must be:
	// older, the console sends them through the sign-in again (password,
	// and the second factor when they have one) before any page.
	MaxAuthAge Duration `yaml:"max_auth_age"`
}

// DefaultConsoleMaxAuthAge is console.max_auth_age's default.
const DefaultConsoleMaxAuthAge = Duration(15 * time.Minute)

func (c Console) validate(p *problems) {
	// Under a minute a sign-in would go stale between two clicks; over a
	// day the rule would no longer mean anything.
	p.durationBetween("console.max_auth_age", c.MaxAuthAge, Duration(time.Minute), Duration(24*time.Hour))
}
