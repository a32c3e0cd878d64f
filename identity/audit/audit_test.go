package audit_test

import (
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"gatehouse/identity/audit"
)

func TestComputeHash(t *testing.T) {
	base := audit.Entry{Seq: 4, Time: time.Date(2026, 1, 2, 3, 4, 5, 123456789, time.UTC), ActorType: audit.ActorUser,
		ActorID: "u1", Subject: "u1", Action: audit.ActionLogout, Outcome: audit.OutcomeSuccess,
		Details: audit.Details{"a": "1", "b": "2"}, PrevHash: "00ff"}
	h := base.ComputeHash()

	same := base
	same.Time = base.Time.Truncate(time.Microsecond).In(time.FixedZone("CET", 3600))
	same.Details = audit.Details{"b": "2", "a": "1"}
	if got := same.ComputeHash(); got != h {
		t.Errorf("hash of the same entry in another zone = %s, want %s", got, h)
	}
	empty := base
	empty.Details = nil
	emptyMap := base
	emptyMap.Details = audit.Details{}
	if empty.ComputeHash() != emptyMap.ComputeHash() {
		t.Error("nil and empty Details hash differently")
	}

	tests := []struct {
		name   string
		change func(e *audit.Entry)
	}{
		{"seq", func(e *audit.Entry) { e.Seq++ }},
		{"time", func(e *audit.Entry) { e.Time = e.Time.Add(time.Microsecond) }},
		{"prev", func(e *audit.Entry) { e.PrevHash = "00fe" }},
		{"action", func(e *audit.Entry) { e.Action = audit.ActionLoginSucceeded }},
		{"field boundary", func(e *audit.Entry) { e.ActorID, e.Subject = "u1u", "1" }},
		{"detail key boundary", func(e *audit.Entry) { e.Details = audit.Details{"a": "1b", "": "2"} }},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			e := base
			tc.change(&e)
			if e.ComputeHash() == h {
				t.Errorf("changing %s left the hash unchanged", tc.name)
			}
		})
	}
}

func TestDetailsClean(t *testing.T) {
	tests := []struct {
		name string
		in   audit.Details
		want audit.Details
	}{
		{"nil", nil, nil},
		{"clean", audit.Details{"reason": "bad_password", "jti": "x"}, audit.Details{"reason": "bad_password", "jti": "x"}},
		{"secrets", audit.Details{"password": "p", "new-password": "p", "access_token": "t", "OTP": "1", "code": "c", "reason": "r"},
			audit.Details{"reason": "r", audit.RedactedKey: "OTP,access_token,code,new-password,password"}},
		{"words only", audit.Details{"passwordless": "yes", "tokens_revoked": "3"}, audit.Details{"passwordless": "yes", "tokens_revoked": "3"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if diff := cmp.Diff(tc.want, tc.in.Clean()); diff != "" {
				t.Errorf("Clean(%v) mismatch (-want +got):\n%s", tc.in, diff)
			}
		})
	}
}
