package console

import (
	"errors"
	"fmt"
	"net/http"
	"testing"
	"time"

	"gatehouse/identity"
	"gatehouse/identity/access"
	"gatehouse/oidc"
)

// TestRefusal: every refusal of the services becomes words on the page
// or the page of its status; only errors that are nobody's doing reach
// the error handler as they are.
func TestRefusal(t *testing.T) {
	wrap := func(err error) error { return fmt.Errorf("identity: change: %w", err) }
	dbDown := errors.New("database unreachable")
	tests := []struct {
		name    string
		err     error
		msg     string
		status  int   // of the page error; 0 when words
		passErr error // returned as it is
	}{
		{name: "forbidden", err: wrap(identity.ErrForbidden), status: http.StatusForbidden},
		{name: "not found", err: wrap(identity.ErrNotFound), status: http.StatusNotFound},
		{name: "stale", err: wrap(identity.ErrPreconditionFailed), msg: msgStale},
		{name: "last admin", err: wrap(&identity.LastAdminError{UserID: "x"}), msg: msgLastAdmin},
		{name: "unknown role", err: wrap(identity.ErrUnknownRole), msg: msgUnknownRole},
		{name: "disabled", err: wrap(identity.ErrAccountDisabled), msg: msgDisabled},
		{name: "cooldown", err: wrap(&identity.CooldownError{RetryAfter: 30 * time.Second}), msg: "A link was sent moments ago. Try again in 30s."},
		{name: "fields", err: wrap(&identity.ValidationError{Fields: map[string]string{"email": "No address.", "username": "Too short."}}),
			msg: "No address. Too short."},
		{name: "database", err: dbDown, passErr: dbDown},
	}
	for _, tc := range tests {
		msg, err := refusal(tc.err)
		var pe *oidc.PageError
		switch {
		case tc.status != 0:
			if !errors.As(err, &pe) || pe.Status != tc.status {
				t.Errorf("%s: refusal = %q, %v; want a %d page", tc.name, msg, err, tc.status)
			}
		case tc.passErr != nil:
			if !errors.Is(err, tc.passErr) || errors.As(err, &pe) {
				t.Errorf("%s: refusal = %q, %v; want the error itself", tc.name, msg, err)
			}
		case err != nil || msg != tc.msg:
			t.Errorf("%s: refusal = %q, %v; want %q", tc.name, msg, err, tc.msg)
		}
	}
}

func TestOnlyUsage(t *testing.T) {
	for _, tc := range []struct {
		roles []string
		want  bool
	}{
		{[]string{access.RoleManager}, true},
		{[]string{access.RoleUser, access.RoleManager}, true},
		{[]string{access.RoleAdmin}, false},
		{[]string{access.RoleManager, access.RoleAdmin}, false},
		{[]string{access.RoleUser}, false},
		{nil, false},
	} {
		if got := onlyUsage(access.PermissionsOf(tc.roles, nil)); got != tc.want {
			t.Errorf("onlyUsage(%v) = %v, want %v", tc.roles, got, tc.want)
		}
	}
}
