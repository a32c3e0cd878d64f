package oidc

import (
	"context"
	"net/http/httptest"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/labstack/echo/v4"

	"gatehouse/identity/audit"
)

// TestAuditRequest: an event reported below the handler through a hook
// gets the request's address, user agent and request ID from the context.
func TestAuditRequest(t *testing.T) {
	req := httptest.NewRequest("POST", "/login", nil)
	req.RemoteAddr = "192.0.2.7:4242"
	req.Header.Set("User-Agent", "guesser/1.0")
	rec := httptest.NewRecorder()
	rec.Header().Set(echo.HeaderXRequestID, "req-1")
	c := echo.New().NewContext(req, rec)
	e := audit.Entry{Action: audit.ActionLoginFailed, Subject: "u1"}

	got := AuditRequest(WithAuditRequest(context.Background(), c), e)
	want := audit.Entry{Action: audit.ActionLoginFailed, Subject: "u1", IP: "192.0.2.7", UserAgent: "guesser/1.0", RequestID: "req-1"}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("AuditRequest mismatch (-want +got):\n%s", diff)
	}
	if diff := cmp.Diff(e, AuditRequest(context.Background(), e)); diff != "" {
		t.Errorf("AuditRequest without request details mismatch (-want +got):\n%s", diff)
	}
}
