package config

import (
	"fmt"
	"strings"
	"time"
	"unicode"
)

// MFA is the multi-factor policy: who must use a second factor, how long
// a new user may put enrolment off, and whether a browser may be
// remembered.
type MFA struct {
	// Required is "none" (only users who enrolled a factor use it, and a
	// relying party's acr_values) or "everyone".
	Required string `yaml:"required"`
	// RequiredRoles requires a second factor of users who hold any of
	// these roles ("admin"). A role nobody holds is fine.
	RequiredRoles []string `yaml:"required_roles"`
	// RequiredClients requires a second factor in every sign-in for
	// these client IDs.
	RequiredClients []string `yaml:"required_clients"`
	// GracePeriod lets a user the policy newly applies to put enrolment
	// off ("Set up later") for this long, counted from the first sign-in
	// where the policy applied to them; 0 makes them enrol at once.
	GracePeriod Duration `yaml:"grace_period"`
	// RememberBrowser offers "Don't ask again on this browser" on the
	// second-factor page, for this long; 0 turns it off.
	RememberBrowser Duration `yaml:"remember_browser"`
}

// The values of mfa.required.
const (
	MFARequiredNone     = "none"
	MFARequiredEveryone = "everyone"
)

const day = Duration(24 * time.Hour)

// MaxRememberBrowser is the longest mfa.remember_browser.
const MaxRememberBrowser = 90 * day

func (m MFA) validate(p *problems) {
	p.oneOf("mfa.required", m.Required, MFARequiredNone, MFARequiredEveryone)
	checkNames(p, "mfa.required_roles", "role", m.RequiredRoles)
	checkNames(p, "mfa.required_clients", "client ID", m.RequiredClients)
	p.durationBetween("mfa.grace_period", m.GracePeriod, 0, 365*day)
	p.durationBetween("mfa.remember_browser", m.RememberBrowser, 0, MaxRememberBrowser)
	if m.RememberBrowser > 0 && m.RememberBrowser < Duration(time.Hour) {
		p.add("mfa.remember_browser", "must be 0 (off) or at least 1h, got %v", m.RememberBrowser)
	}
}

// checkNames refuses empty, repeated and badly spelt entries of a list of
// names; a name nothing carries is fine.
func checkNames(p *problems, key, what string, names []string) {
	seen := map[string]bool{}
	for i, n := range names {
		k := fmt.Sprintf("%s[%d]", key, i)
		switch {
		case strings.TrimSpace(n) == "":
			p.add(k, "must not be empty")
		case strings.ContainsFunc(n, func(r rune) bool { return unicode.IsSpace(r) || unicode.IsControl(r) }):
			p.add(k, "a %s must not contain spaces or control characters, got %q", what, n)
		case len(n) > 255:
			p.add(k, "must be at most 255 bytes")
		case seen[n]:
			p.add(k, "%q is listed twice", n)
		}
		seen[n] = true
	}
}
