package usage

import (
	"strings"

	"gatehouse/identity/audit"
)

// More metrics the aggregates keep beside Metrics(): the by-method and
// by-client sign-ins live in SignIns rows with a dimension, and the user
// counts are daily snapshots (gauges), not sums.
const (
	// SignInsByMethod rows hold SignIns per method (dimension).
	SignInsByMethodMetric Metric = "sign_ins_by_method"
	// TokensByGrant rows hold TokensIssued per grant type (dimension).
	TokensByGrantMetric Metric = "tokens_by_grant"
	// UsersTotalGauge and UsersWithMFAGauge are snapshots of the number
	// of users, and of users with a second factor, taken once a day.
	UsersTotalGauge   Metric = "users_total"
	UsersWithMFAGauge Metric = "users_with_mfa"
)

// Delta adds N to the count of (Day, Metric, ClientID, Dimension).
// ClientID "" is every client together.
type Delta struct {
	Day       string // DayKey
	Metric    Metric
	ClientID  string
	Dimension string
	N         int64
}

// Activity is a user's sign-in on a day through a client ("" for every
// client): the worker counts the first of each (day, client, user) into
// DailyActiveUsers and adds the user to the day's sketch.
type Activity struct {
	Day      string
	ClientID string
	UserID   string
}

// Batch is what a run of audit entries adds to the aggregates.
type Batch struct {
	Deltas   []Delta
	Activity []Activity
}

// Tally turns audit entries into the counts they add. Each count is
// recorded for its client and for "" (every client); events with no
// client (a sign-up, a reset) count under "" only.
func Tally(entries []audit.Entry) Batch {
	var b Batch
	sums := map[Delta]int64{}
	add := func(day string, m Metric, client, dim string) {
		sums[Delta{Day: day, Metric: m, ClientID: "", Dimension: dim}]++
		if client != "" {
			sums[Delta{Day: day, Metric: m, ClientID: client, Dimension: dim}]++
		}
	}
	for _, e := range entries {
		day := DayKey(e.Time)
		client := e.Details["client_id"]
		switch {
		case e.Action == audit.ActionLoginSucceeded && e.Outcome == audit.OutcomeSuccess:
			add(day, SignIns, client, "")
			add(day, SignInsByMethodMetric, client, signInMethod(e.Details))
			b.Activity = append(b.Activity, Activity{Day: day, UserID: e.Subject})
			if client != "" {
				b.Activity = append(b.Activity, Activity{Day: day, ClientID: client, UserID: e.Subject})
			}
		case e.Action == audit.ActionLoginFailed:
			add(day, SignInsFailed, client, "")
		case e.Action == audit.ActionUserRegistered, e.Action == audit.ActionUsersCreated, e.Action == audit.ActionUsersInvited:
			add(day, SignUps, client, "")
		case e.Action == audit.ActionLockoutStarted:
			add(day, Lockouts, "", "")
		case e.Action == audit.ActionPasswordReset && e.Outcome == audit.OutcomeSuccess:
			add(day, PasswordResets, "", "")
		case e.Action == audit.ActionEmailVerified && e.Outcome == audit.OutcomeSuccess:
			add(day, EmailsVerified, "", "")
		}
	}
	for d, n := range sums {
		d.N = n
		b.Deltas = append(b.Deltas, d)
	}
	return b
}

// signInMethod is the method of a login.succeeded entry: its "method"
// detail, or for entries written before there was one, a guess from amr.
func signInMethod(d audit.Details) string {
	if m := d["method"]; m != "" {
		return m
	}
	amr := strings.Fields(d["amr"])
	has := func(v string) bool {
		for _, a := range amr {
			if a == v {
				return true
			}
		}
		return false
	}
	switch {
	case has("hwk") || has("swk"):
		return MethodPasskey
	case has("otp"):
		return MethodTOTP
	case has("email") || has("sms"):
		return MethodCode
	default:
		return MethodPassword
	}
}

// TokenDeltas turns in-memory token counts into deltas (see Tokens).
func tokenDeltas(counts map[tokenKey]int64) []Delta {
	var out []Delta
	for k, n := range counts {
		out = append(out,
			Delta{Day: k.day, Metric: TokensIssued, N: n},
			Delta{Day: k.day, Metric: TokensByGrantMetric, Dimension: k.grant, N: n})
		if k.client != "" {
			out = append(out,
				Delta{Day: k.day, Metric: TokensIssued, ClientID: k.client, N: n},
				Delta{Day: k.day, Metric: TokensByGrantMetric, ClientID: k.client, Dimension: k.grant, N: n})
		}
	}
	return mergeDeltas(out)
}

func mergeDeltas(ds []Delta) []Delta {
	sums := map[Delta]int64{}
	for _, d := range ds {
		n := d.N
		d.N = 0
		sums[d] += n
	}
	out := make([]Delta, 0, len(sums))
	for d, n := range sums {
		d.N = n
		out = append(out, d)
	}
	return out
}
