package main

import (
	"io"
	"net/http"
	"strings"
	"testing"
)

// TestRequestSizeCaps: form and JSON bodies above 64 KiB get 413, request
// headers above 16 KiB get 431, each in the route's format; requests just
// under the caps are read as usual.
func TestRequestSizeCaps(t *testing.T) {
	t.Parallel()
	srv := startServer(t, "sqlite", nil)
	const under, over = 64<<10 - 100, 64<<10 + 1

	type body struct {
		name, path, contentType, body string
		chunked                       bool
		wantStatus                    int
		wantJSON                      bool
	}
	form := func(n int) string { return "token=" + strings.Repeat("a", n-len("token=")) }
	jsonBody := func(n int) string {
		return `{"redirect_uris":["https://rp.example/cb"],"client_name":"` + strings.Repeat("a", n-60) + `"}`
	}
	for _, tc := range []body{
		{"token form over the cap", "/oauth2/introspect", "application/x-www-form-urlencoded", form(over), false, 413, true},
		{"token form over the cap, chunked", "/oauth2/introspect", "application/x-www-form-urlencoded", form(over), true, 413, true},
		{"token form under the cap", "/oauth2/introspect", "application/x-www-form-urlencoded", form(under), false, 401, true},
		{"page form over the cap", "/login", "application/x-www-form-urlencoded", form(over), false, 413, false},
		{"page form over the cap, chunked", "/login", "application/x-www-form-urlencoded", form(over), true, 413, false},
		{"page form under the cap", "/login", "application/x-www-form-urlencoded", form(under), false, 403, false},
		{"JSON over the cap", "/oauth2/register", "application/json", jsonBody(over), false, 413, true},
		{"JSON over the cap, chunked", "/oauth2/register", "application/json", jsonBody(over), true, 413, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var r io.Reader = strings.NewReader(tc.body)
			if tc.chunked {
				r = io.MultiReader(r) // unknown length: sent chunked, no Content-Length
			}
			req, _ := http.NewRequest(http.MethodPost, srv.URL+tc.path, r)
			req.Header.Set("Content-Type", tc.contentType)
			got := do(t, req)
			checkFormat(t, got, tc.wantStatus, tc.wantJSON)
		})
	}

	for _, tc := range []struct {
		name, path string
		size       int
		wantStatus int
		wantJSON   bool
	}{
		{"header over the cap on a protocol route", "/oauth2/token", 17 << 10, 431, true},
		{"header over the cap on a page", "/login", 17 << 10, 431, false},
		{"header far over the cap", "/login", 40 << 10, 431, false},
		{"header under the cap", "/login", 14 << 10, 200, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			req, _ := http.NewRequest(http.MethodGet, srv.URL+tc.path, nil)
			req.Header.Set("X-Padding", strings.Repeat("p", tc.size))
			got := do(t, req)
			if tc.size > 20<<10 {
				// Refused by the HTTP server itself before any route.
				if got.Status != tc.wantStatus {
					t.Fatalf("got %d, want %d", got.Status, tc.wantStatus)
				}
				return
			}
			if tc.wantStatus == 200 {
				if got.Status != 200 {
					t.Fatalf("got %d, want 200", got.Status)
				}
				return
			}
			checkFormat(t, got, tc.wantStatus, tc.wantJSON)
		})
	}
}

// checkFormat asserts the status and that the error is OAuth JSON or an
// HTML page as the route answers.
func checkFormat(t testing.TB, got rawResponse, status int, wantJSON bool) {
	t.Helper()
	if got.Status != status {
		t.Fatalf("got %d %.200s, want %d", got.Status, got.Body, status)
	}
	if wantJSON && got.JSON["error"] == nil {
		t.Errorf("want an OAuth error object, got %.200s", got.Body)
	}
	if !wantJSON && !strings.Contains(got.Body, "<!doctype html>") {
		t.Errorf("want an HTML page, got %.200s", got.Body)
	}
}
