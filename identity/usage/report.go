// Package usage keeps the figures of how Gatehouse is used (sign-ups,
// sign-ins by client and method, active users, tokens by grant, ...) as
// aggregates per day, and reports them for a period without personal
// data: counts only, small counts suppressed.
package usage

import "time"

// Metric names a daily count.
type Metric string

// The daily counts a Report holds.
const (
	SignUps          Metric = "sign_ups"
	SignIns          Metric = "sign_ins"        // successful sign-ins
	SignInsFailed    Metric = "sign_ins_failed" // wrong passwords, codes, ...
	Lockouts         Metric = "lockouts"
	PasswordResets   Metric = "password_resets" // completed resets
	EmailsVerified   Metric = "emails_verified" // verification completed
	DailyActiveUsers Metric = "daily_active_users"
	TokensIssued     Metric = "tokens_issued"
)

// Metrics lists the daily counts in the order a report shows them.
func Metrics() []Metric {
	return []Metric{SignUps, SignIns, SignInsFailed, DailyActiveUsers, Lockouts, PasswordResets, EmailsVerified, TokensIssued}
}

// Sign-in methods of Report.SignInsByMethod.
const (
	MethodPassword = "password"
	MethodPasskey  = "passkey"
	MethodTOTP     = "totp" // a password followed by an authenticator app code
	MethodCode     = "code" // a password followed by an e-mail or SMS code
	MethodRecovery = "recovery_code"
	MethodLDAP     = "ldap"
	MethodSocial   = "social"
)

// Query selects a report: the days [From, To) in UTC (both at midnight)
// and optionally one client.
type Query struct {
	From, To time.Time
	ClientID string // "" for every client
}

// Count is a figure that may be suppressed: a count from 1 to below the
// minimum cell size could single out a person, so it is reported as
// Suppressed with Value 0, and shown as "< MinCell".
type Count struct {
	Value      int64
	Suppressed bool
}

// Point is one day's (or week's, or month's) count; Start is the first
// day of the bucket, UTC midnight.
type Point struct {
	Start time.Time
	Count Count
}

// Share is one part of a breakdown: a client, a method or a grant.
type Share struct {
	Key   string // client ID, method or grant type
	Label string // the client's name for a client; Key otherwise
	Count Count
}

// Report is the usage of a period. Every count has had suppression
// applied: no user can be singled out from it.
type Report struct {
	Query Query
	// MinCell is the smallest count shown as it is (default 5).
	MinCell int
	// Daily holds one point per day of the period for each metric.
	Daily map[Metric][]Point
	// Totals sums each daily metric over the period (active users
	// excepted: see ActiveUsers).
	Totals map[Metric]Count
	// WeeklyActiveUsers and MonthlyActiveUsers hold distinct users per
	// ISO week (Monday) and calendar month overlapping the period.
	WeeklyActiveUsers  []Point
	MonthlyActiveUsers []Point
	// ActiveUsersExact is false when weekly and monthly figures are
	// estimates (a sketch), as the page's footnote says.
	ActiveUsersExact bool
	// ActiveUsers is the distinct users who signed in in the period.
	ActiveUsers Count
	// SignInsByClient, SignInsByMethod and TokensByGrant break the
	// period's sign-ins and token issuance down, largest first.
	SignInsByClient []Share
	SignInsByMethod []Share
	TokensByGrant   []Share
	// UsersTotal and UsersWithMFA are as of the end of the period: MFA
	// adoption is their ratio.
	UsersTotal   Count
	UsersWithMFA Count
	// Generated is when the report was made.
	Generated time.Time
}
