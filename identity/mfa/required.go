package mfa

import (
	"slices"
	"time"
)

// Policy is when configuration requires a second factor, whether or not
// the user enrolled one: for everyone, for users holding one of Roles, or
// in sign-ins for one of Clients.
type Policy struct {
	Everyone bool
	Roles    []string
	Clients  []string
	// GracePeriod is how long a user the policy newly applies to may put
	// enrolment off, from the first sign-in where it applied to them; 0
	// means enrol at once.
	GracePeriod time.Duration
}

// Requires reports whether the policy requires a second factor of a user
// holding roles who signs in for clientID ("" outside any client).
func (p Policy) Requires(roles []string, clientID string) bool {
	if p.Everyone {
		return true
	}
	for _, r := range roles {
		if slices.Contains(p.Roles, r) {
			return true
		}
	}
	return clientID != "" && slices.Contains(p.Clients, clientID)
}

// InGrace reports whether a grace period that started at start still runs
// at now.
func (p Policy) InGrace(start, now time.Time) bool {
	return p.GracePeriod > 0 && now.Before(start.Add(p.GracePeriod))
}

// DaysLeft is how many days of the grace period that started at start are
// left at now, a part of a day counting as one.
func (p Policy) DaysLeft(start, now time.Time) int {
	left := start.Add(p.GracePeriod).Sub(now)
	if left <= 0 {
		return 0
	}
	return int((left + 24*time.Hour - 1) / (24 * time.Hour))
}
