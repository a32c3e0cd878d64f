package oidc

import (
	"bytes"
	"encoding/json"
	"fmt"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/labstack/echo/v4"

	"gatehouse/identity"
	"gatehouse/templates"
)

// TestErrorHandlerBusy: a request refused because no password hashing
// worker was free is 503 with Retry-After, a friendly page on the hosted
// pages and an OAuth error object on the protocol endpoints, and is
// logged as a warning, not as a failure.
func TestErrorHandlerBusy(t *testing.T) {
	pages, err := templates.New(templates.Theme{ProductName: "Gatehouse", PrimaryColor: "#2563eb"})
	if err != nil {
		t.Fatal(err)
	}
	busy := fmt.Errorf("identity: authenticate: %w", identity.ErrBusy)
	for _, tc := range []struct {
		path, contentType, want string
	}{
		{PathLogin, echo.MIMETextHTMLCharsetUTF8, msgBusy},
		{PathSignUp, echo.MIMETextHTMLCharsetUTF8, msgBusy},
		{"/account/password", echo.MIMETextHTMLCharsetUTF8, msgBusy},
		{PathToken, echo.MIMEApplicationJSON, `"temporarily_unavailable"`},
	} {
		t.Run(tc.path, func(t *testing.T) {
			var logs bytes.Buffer
			e := echo.New()
			rec := httptest.NewRecorder()
			c := e.NewContext(httptest.NewRequest(http.MethodPost, tc.path, nil), rec)
			ErrorHandler(pages, slog.New(slog.NewJSONHandler(&logs, nil)), nil)(busy, c)

			if rec.Code != http.StatusServiceUnavailable || rec.Header().Get("Retry-After") != busyRetryAfter {
				t.Errorf("status %d, Retry-After %q; want 503, %q", rec.Code, rec.Header().Get("Retry-After"), busyRetryAfter)
			}
			if got := rec.Header().Get(echo.HeaderContentType); !strings.HasPrefix(got, tc.contentType) {
				t.Errorf("Content-Type = %q, want %q", got, tc.contentType)
			}
			if !strings.Contains(rec.Body.String(), tc.want) {
				t.Errorf("body lacks %s:\n%s", tc.want, rec.Body)
			}
			var line struct{ Level, Msg string }
			if err := json.Unmarshal(logs.Bytes(), &line); err != nil || line.Level != "WARN" {
				t.Errorf("log = %s, want one warning", logs.Bytes())
			}
		})
	}
}
