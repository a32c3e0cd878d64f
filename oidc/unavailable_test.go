package oidc

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/labstack/echo/v4"
	"github.com/ory/fosite"

	"gatehouse/migrations/dberr"
)

// newTestProvider assembles fosite over clients; nothing here issues
// tokens, so no key or token store is needed.
func newTestProvider(clients ClientStore) *Provider {
	return New(ProviderConfig{
		Issuer:      providerTestIssuer,
		TokenSecret: []byte("0123456789abcdef0123456789abcdef"),
		Hasher:      &SecretHasher{Pepper: []byte("pepper")},
		Clients:     &ClientCache{Store: clients, TTL: time.Minute, Now: newStepClock().Now, Issuer: providerTestIssuer},
		Lifetimes:   Lifetimes{AccessToken: time.Hour, RefreshToken: time.Hour, IDToken: time.Hour, Code: time.Minute},
	})
}

// TestClientLookupUnavailable: when the client cannot be read because the
// database is down, client authentication fails with an error that says
// so, not with a bare invalid_client that a caller would take for a wrong
// secret.
func TestClientLookupUnavailable(t *testing.T) {
	store := newMemClientStore()
	store.getErr = dberr.Mark(io.ErrUnexpectedEOF)
	p := newTestProvider(store)
	r := httptest.NewRequest(http.MethodPost, PathToken, strings.NewReader("grant_type=client_credentials"))
	r.SetBasicAuth("batch", "secret")
	_, err := p.AuthenticateClient(t.Context(), r, url.Values{"grant_type": {"client_credentials"}})
	if !dberr.IsUnavailable(err) {
		t.Errorf("AuthenticateClient with the database down: %v, want an unavailable error", err)
	}
}

// TestAccessErrorAnswers: the token endpoint answers an unavailable
// database, or a request whose context ended, with 503
// temporarily_unavailable and Retry-After, never invalid_client; an error
// fosite does not know is server_error, never {"error":"error"}.
func TestAccessErrorAnswers(t *testing.T) {
	h := &Handler{Provider: newTestProvider(newMemClientStore()), Logger: slog.New(slog.DiscardHandler)}
	cancelled, cancel := context.WithCancel(t.Context())
	cancel()
	tests := []struct {
		name       string
		ctx        context.Context
		err        error
		wantStatus int
		wantCode   string
	}{
		{"client lookup failed, database down", t.Context(),
			fosite.ErrInvalidClient.WithWrap(dberr.Mark(io.ErrUnexpectedEOF)), http.StatusServiceUnavailable, "temporarily_unavailable"},
		{"storage failed, database down", t.Context(),
			fosite.ErrServerError.WithWrap(dberr.Mark(io.EOF)), http.StatusServiceUnavailable, "temporarily_unavailable"},
		{"request cancelled", cancelled, fosite.ErrServerError.WithWrap(context.Canceled), http.StatusServiceUnavailable, "temporarily_unavailable"},
		{"unknown error", t.Context(), errors.New("boom"), http.StatusInternalServerError, "server_error"},
		{"wrong secret", t.Context(), fosite.ErrInvalidClient, http.StatusUnauthorized, "invalid_client"},
		{"used code", t.Context(), ErrCodeRedeemed, http.StatusBadRequest, "invalid_grant"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			req := httptest.NewRequestWithContext(tc.ctx, http.MethodPost, PathToken, nil)
			rec := httptest.NewRecorder()
			if err := (tokenEndpoint{h}).accessError(echo.New().NewContext(req, rec), nil, tc.err); err != nil {
				t.Fatal(err)
			}
			var body map[string]any
			_ = json.Unmarshal(rec.Body.Bytes(), &body)
			if rec.Code != tc.wantStatus || body["error"] != tc.wantCode {
				t.Errorf("answer %d %s, want %d %q", rec.Code, rec.Body, tc.wantStatus, tc.wantCode)
			}
			if retry := rec.Header().Get("Retry-After"); (tc.wantStatus == http.StatusServiceUnavailable) != (retry != "") {
				t.Errorf("Retry-After %q with status %d", retry, rec.Code)
			}
		})
	}
}
