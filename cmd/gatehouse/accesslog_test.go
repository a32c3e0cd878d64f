package main

import (
	"net/http"
	"strings"
	"testing"
)

// TestAccessLogStatus: the access log line of a request that ended in the
// error handler carries the status the client received, not the 200 the
// response held before the error handler ran.
func TestAccessLogStatus(t *testing.T) {
	t.Parallel()
	srv := startServer(t, "sqlite", nil)
	requests := []struct {
		name, method, path, body string
		want                     int
	}{
		{"unknown path", http.MethodGet, "/no-such-page", "", http.StatusNotFound},
		{"form without CSRF token", http.MethodPost, "/login", "login=a&password=b", http.StatusForbidden},
		{"unknown client", http.MethodGet, "/oauth2/authorize?client_id=nope&response_type=code", "", http.StatusBadRequest},
		{"NUL byte", http.MethodGet, "/consent?flow=%00", "", http.StatusBadRequest},
		{"token error", http.MethodPost, "/oauth2/token", "grant_type=client_credentials", http.StatusUnauthorized},
		{"body too large", http.MethodPost, "/oauth2/introspect", "token=" + strings.Repeat("a", 70<<10), http.StatusRequestEntityTooLarge},
	}
	for _, tc := range requests {
		req, _ := http.NewRequest(tc.method, srv.URL+tc.path, strings.NewReader(tc.body))
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		if got := do(t, req); got.Status != tc.want {
			t.Fatalf("%s: got %d, want %d", tc.name, got.Status, tc.want)
		}
	}
	// A closed database gives a 503 from the error handler.
	sqlDB, err := srv.App.DB.Gorm().DB()
	if err != nil {
		t.Fatal(err)
	}
	sqlDB.Close()
	if got := do(t, mustRequest(t, http.MethodGet, srv.URL+"/login?flow=abc")); got.Status != http.StatusServiceUnavailable {
		t.Fatalf("with the database closed: got %d, want 503", got.Status)
	}
	requests = append(requests, struct {
		name, method, path, body string
		want                     int
	}{"database down", http.MethodGet, "/login", "", http.StatusServiceUnavailable})

	lines := srv.Logs.Records("request")
	if len(lines) != len(requests) {
		t.Fatalf("%d access log lines for %d requests: %v", len(lines), len(requests), lines)
	}
	for i, tc := range requests {
		path, _, _ := strings.Cut(tc.path, "?")
		if got := lines[i]; got["path"] != path || got["status"] != float64(tc.want) {
			t.Errorf("%s: access log path %v status %v, want %s %d", tc.name, got["path"], got["status"], path, tc.want)
		}
	}
}
