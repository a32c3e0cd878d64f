package upstream

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
)

// TestHandleCallbackRefusesBeforeCalling: an upstream error and a missing
// code are refusals, answered without a call to the upstream.
func TestHandleCallbackRefusesBeforeCalling(t *testing.T) {
	calls := 0
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { calls++ }))
	defer srv.Close()
	c, err := New(Config{ID: "up", Issuer: srv.URL, ClientID: "x", RedirectURL: "https://here/cb"})
	if err != nil {
		t.Fatal(err)
	}
	for _, q := range []map[string][]string{
		{"error": {"access_denied\n<script>"}, "code": {"abc"}},
		{"state": {"s"}},
	} {
		_, err := c.HandleCallback(context.Background(), q, "verifier", "nonce")
		if !errors.Is(err, ErrRefused) || strings.ContainsAny(err.Error(), "\n<") {
			t.Errorf("HandleCallback(%v) = %v; want ErrRefused, the upstream's text sanitised", q, err)
		}
	}
	if calls != 0 {
		t.Errorf("%d calls to the upstream; want none", calls)
	}
}

// TestNewDefaults: the scopes default to openid email profile, and the
// issuer, client and callback are required.
func TestNewDefaults(t *testing.T) {
	c, err := New(Config{ID: "up", Issuer: "https://id.example", ClientID: "x", RedirectURL: "https://here/cb"})
	if err != nil {
		t.Fatal(err)
	}
	if strings.Join(c.cfg.Scopes, " ") != "openid email profile" {
		t.Errorf("scopes = %v", c.cfg.Scopes)
	}
	if _, err := New(Config{ID: "up", ClientID: "x", RedirectURL: "https://here/cb"}); err == nil {
		t.Error("New without an issuer succeeded")
	}
}
