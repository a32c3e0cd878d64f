package recovery_test

import (
	"context"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/labstack/echo/v4"

	"gatehouse/identity"
	"gatehouse/oidc"
	"gatehouse/oidc/recovery"
	"gatehouse/templates"
)

// unlocker is a fake identity service that answers every token with err.
type unlocker struct{ err error }

func (u unlocker) UnlockWithToken(context.Context, string) error { return u.err }

// TestMountUnlock: Mount serves the unlock link, which answers by what the
// identity service says of its token, and is 404 without an Unlocker.
func TestMountUnlock(t *testing.T) {
	pages, err := templates.New(templates.Theme{ProductName: "Gatehouse", PrimaryColor: "#2563eb"})
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name     string
		unlocker recovery.Unlocker
		want     int
		body     string
	}{
		{"unlocked", unlocker{}, http.StatusOK, "Your account is unlocked"},
		{"used link", unlocker{identity.ErrCodeInvalid}, http.StatusBadRequest, "This link has expired"},
		{"no unlocker", nil, http.StatusNotFound, ""},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			e := echo.New()
			e.HTTPErrorHandler = oidc.ErrorHandler(pages, slog.New(slog.DiscardHandler), nil)
			h := &recovery.Handler{Unlocker: tc.unlocker, Browser: &oidc.Browser{}, Pages: pages, Logger: slog.New(slog.DiscardHandler)}
			h.Mount(e.Group(""))
			rec := httptest.NewRecorder()
			e.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, oidc.PathUnlock+"?token=t", nil))
			if rec.Code != tc.want || !strings.Contains(rec.Body.String(), tc.body) {
				t.Errorf("GET %s: status %d, want %d with %q:\n%s", oidc.PathUnlock, rec.Code, tc.want, tc.body, rec.Body)
			}
		})
	}
}
