package main

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"strings"
	"testing"

	"golang.org/x/oauth2/clientcredentials"
)

// adminAPI calls the admin API with one bearer token ("" for none).
type adminAPI struct {
	base, token string
}

// adminAnswer is one answer of the admin API.
type adminAnswer struct {
	Status int
	Header http.Header
	Body   []byte
}

// call sends a request with a JSON body (nil for none) and the extra
// headers given as name, value pairs.
func (a adminAPI) call(t testing.TB, method, path string, body any, headers ...string) adminAnswer {
	t.Helper()
	var r io.Reader
	if body != nil {
		raw, ok := body.(string)
		if !ok {
			b, err := json.Marshal(body)
			if err != nil {
				t.Fatal(err)
			}
			raw = string(b)
		}
		r = strings.NewReader(raw)
	}
	req, err := http.NewRequest(method, a.base+"/admin/api/v1"+path, r)
	if err != nil {
		t.Fatal(err)
	}
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	if a.token != "" {
		req.Header.Set("Authorization", "Bearer "+a.token)
	}
	for i := 0; i+1 < len(headers); i += 2 {
		req.Header.Set(headers[i], headers[i+1])
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return adminAnswer{Status: resp.StatusCode, Header: resp.Header, Body: b}
}

// decode reads the answer's JSON body into v, failing on another status.
func (r adminAnswer) decode(t testing.TB, status int, v any) {
	t.Helper()
	if r.Status != status {
		t.Fatalf("status %d, want %d: %s", r.Status, status, r.Body)
	}
	if v != nil {
		if err := json.NewDecoder(bytes.NewReader(r.Body)).Decode(v); err != nil {
			t.Fatalf("body %s: %v", r.Body, err)
		}
	}
}

// problem reads a problem details answer of the given status.
func (r adminAnswer) problem(t testing.TB, status int) apiProblem {
	t.Helper()
	if ct := r.Header.Get("Content-Type"); !strings.HasPrefix(ct, "application/problem+json") {
		t.Fatalf("status %d, Content-Type %q, want problem details: %s", r.Status, ct, r.Body)
	}
	var p apiProblem
	r.decode(t, status, &p)
	if p.Status != status || p.Title == "" || p.Type == "" {
		t.Fatalf("problem %+v", p)
	}
	return p
}

// apiProblem is an RFC 9457 answer.
type apiProblem struct {
	Type, Title, Detail string
	Status              int
	Errors              []struct{ Field, Detail string }
}

// fields are the names the problem says are bad.
func (p apiProblem) fields() []string {
	var out []string
	for _, e := range p.Errors {
		out = append(out, e.Field)
	}
	return out
}

// serviceToken registers a client_credentials client allowed scope and
// returns an access token for it holding that scope.
func (s *testServer) serviceToken(t testing.TB, scope string) string {
	t.Helper()
	id, secret := s.createClient(t, "--name", "Service "+scope, "--grant-type", "client_credentials", "--scope", scope)
	return s.serviceTokenOf(t, id, secret, scope)
}

// serviceTokenOf is a client_credentials token of the client for scope.
func (s *testServer) serviceTokenOf(t testing.TB, id, secret, scope string) string {
	t.Helper()
	cc := clientcredentials.Config{ClientID: id, ClientSecret: secret, TokenURL: s.URL + "/oauth2/token"}
	if scope != "" {
		cc.Scopes = strings.Fields(scope)
	}
	tok, err := cc.Token(context.Background())
	if err != nil {
		t.Fatalf("client_credentials token for %q: %v", scope, err)
	}
	return tok.AccessToken
}
