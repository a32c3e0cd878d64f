package main

import (
	"net/http"
	"slices"
	"strings"
	"testing"

	"gatehouse/migrations/dbtest"
)

// TestAdminAPIReads: a service with users:read searches, reads and looks
// up users over the admin API, and bad input is answered with problem
// details naming the field.
func TestAdminAPIReads(t *testing.T) {
	t.Parallel()
	for _, dialect := range dbtest.Dialects {
		t.Run(dialect, func(t *testing.T) { testAdminAPIReads(t, dialect) })
	}
}

func testAdminAPIReads(t *testing.T, dialect string) {
	srv := startServer(t, dialect, nil)
	var ids []string
	for _, name := range []string{"ada", "bob", "carol"} {
		ids = append(ids, srv.createUser(t, name, testUserPassword).ID)
	}
	api := adminAPI{base: srv.URL, token: srv.serviceToken(t, "users:read")}

	var page struct {
		Users []struct {
			ID       string `json:"id"`
			Username string `json:"username"`
			Email    string `json:"email"`
		} `json:"users"`
		NextCursor string `json:"next_cursor"`
	}
	api.call(t, "GET", "/users?limit=2&sort=username", nil).decode(t, http.StatusOK, &page)
	if len(page.Users) != 2 || page.Users[0].Username != "ada" || page.NextCursor == "" {
		t.Fatalf("first page %+v", page)
	}
	cursor := page.NextCursor
	page.NextCursor = ""
	api.call(t, "GET", "/users?limit=2&sort=username&cursor="+cursor, nil).decode(t, http.StatusOK, &page)
	if len(page.Users) != 1 || page.Users[0].Username != "carol" || page.NextCursor != "" {
		t.Fatalf("last page %+v", page)
	}
	api.call(t, "GET", "/users?q=CAR", nil).decode(t, http.StatusOK, &page)
	if len(page.Users) != 1 || page.Users[0].Email != "carol@example.com" {
		t.Fatalf("q=CAR found %+v", page.Users)
	}

	var one map[string]any
	got := api.call(t, "GET", "/users/"+ids[1], nil)
	got.decode(t, http.StatusOK, &one)
	if one["username"] != "bob" || one["password"] != nil || one["password_hash"] != nil {
		t.Fatalf("user %v", one)
	}
	if got.Header.Get("Cache-Control") != "no-store" {
		t.Errorf("Cache-Control %q", got.Header.Get("Cache-Control"))
	}
	api.call(t, "GET", "/users/00000000-0000-4000-8000-000000000000", nil).problem(t, http.StatusNotFound)

	var found struct {
		Users    []map[string]any `json:"users"`
		NotFound []string         `json:"not_found"`
	}
	missing := "00000000-0000-4000-8000-000000000001"
	api.call(t, "POST", "/users/lookup", map[string]any{"ids": []string{ids[0], ids[2], missing}}).decode(t, http.StatusOK, &found)
	if len(found.Users) != 2 || !slices.Equal(found.NotFound, []string{missing}) {
		t.Fatalf("lookup %+v", found)
	}
	api.call(t, "POST", "/users/lookup", map[string]any{"emails": []string{"BOB@example.com", "nobody@example.com"}}).decode(t, http.StatusOK, &found)
	if len(found.Users) != 1 || found.Users[0]["username"] != "bob" || !slices.Equal(found.NotFound, []string{"nobody@example.com"}) {
		t.Fatalf("lookup by e-mail %+v", found)
	}

	for _, c := range []struct {
		name, method, path string
		body               any
		field              string
	}{
		{"limit 0", "GET", "/users?limit=0", nil, "limit"},
		{"limit 10000", "GET", "/users?limit=10000", nil, "limit"},
		{"unknown sort", "GET", "/users?sort=password", nil, "sort"},
		{"bad cursor", "GET", "/users?cursor=not-a-cursor", nil, "cursor"},
		{"cursor of another search", "GET", "/users?sort=email&cursor=" + cursor, nil, "cursor"},
		{"short q", "GET", "/users?q=ab", nil, "q"},
		{"bad status", "GET", "/users?status=gone", nil, "status"},
		{"bad time", "GET", "/users?created_after=yesterday", nil, "created_after"},
		{"id not a UUID", "GET", "/users/42", nil, "id"},
		{"unknown field", "POST", "/users/lookup", map[string]any{"ids": []string{ids[0]}, "admin": true}, "admin"},
		{"both keys", "POST", "/users/lookup", map[string]any{"ids": []string{ids[0]}, "emails": []string{"a@b.c"}}, "body"},
		{"too many", "POST", "/users/lookup", map[string]any{"emails": slices.Repeat([]string{"a@example.com"}, 1001)}, "emails"},
		{"not JSON", "POST", "/users/lookup", "{", "body"},
	} {
		t.Run(c.name, func(t *testing.T) {
			p := api.call(t, c.method, c.path, c.body).problem(t, http.StatusBadRequest)
			if !slices.Contains(p.fields(), c.field) {
				t.Fatalf("problem names %v, want %q: %+v", p.fields(), c.field, p)
			}
			for _, e := range p.Errors {
				if strings.Contains(e.Detail, "not-a-cursor") || strings.Contains(e.Detail, "yesterday") {
					t.Errorf("detail repeats the value sent: %q", e.Detail)
				}
			}
		})
	}
}

// TestAdminAPIRouting: a method a route does not take is 405 with Allow,
// a path the API does not have 404, both as problem details; an unknown
// field deep in a body is named by its path.
func TestAdminAPIRouting(t *testing.T) {
	t.Parallel()
	srv := startServer(t, "sqlite", nil)
	api := adminAPI{base: srv.URL, token: srv.serviceToken(t, "users:write")}
	got := api.call(t, "PUT", "/users", nil)
	got.problem(t, http.StatusMethodNotAllowed)
	if allow := got.Header.Get("Allow"); allow != "GET, POST" {
		t.Errorf("Allow %q", allow)
	}
	api.call(t, "GET", "/nothing/here", nil).problem(t, http.StatusNotFound)
	p := api.call(t, "POST", "/users", map[string]any{"username": "zed", "password": "a long passphrase 12",
		"is_admin": true, "address": map[string]any{"town": "x"}}).problem(t, http.StatusBadRequest)
	if f := p.fields(); !slices.Contains(f, "is_admin") || !slices.Contains(f, "address/town") {
		t.Errorf("unknown fields named %v, want is_admin and address/town", f)
	}
	p = api.call(t, "POST", "/users", map[string]any{"password": "a long passphrase 12"}).problem(t, http.StatusBadRequest)
	if f := p.fields(); !slices.Equal(f, []string{"username"}) {
		t.Errorf("missing username named %v", f)
	}
}
