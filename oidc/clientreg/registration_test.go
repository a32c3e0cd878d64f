package clientreg_test

import (
	"encoding/json"
	"errors"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/labstack/echo/v4"
	"github.com/ory/fosite"
	"gorm.io/gorm"

	"gatehouse/migrations/dbtest"
	"gatehouse/oidc"
	"gatehouse/oidc/clientreg"
	"gatehouse/oidc/sqlstore"
)

const (
	testIssuer       = "http://localhost:8080"
	testInitialToken = "initial-access-token-for-tests"
)

// clientInfo is an RFC 7591 §3.2 response, success or error.
type clientInfo struct {
	ClientID                string `json:"client_id"`
	ClientSecret            string `json:"client_secret"`
	ClientIDIssuedAt        int64  `json:"client_id_issued_at"`
	ClientSecretExpiresAt   *int64 `json:"client_secret_expires_at"`
	RegistrationAccessToken string `json:"registration_access_token"`
	RegistrationClientURI   string `json:"registration_client_uri"`
	Error                   string `json:"error"`
	ErrorDescription        string `json:"error_description"`
	clientreg.Metadata
}

type registrationServer struct {
	e       *echo.Echo
	h       *clientreg.Handler
	store   *sqlstore.Clients
	hasher  fosite.Hasher
	initial string
}

func newRegistrationServer(t testing.TB, db *gorm.DB, initial string) *registrationServer {
	t.Helper()
	var store *sqlstore.Clients
	var clients oidc.ClientStore
	if db != nil {
		store = sqlstore.NewClients(db, sqlstore.Settings{})
		clients = store
	}
	hasher := &oidc.SecretHasher{Pepper: []byte("pepper-for-tests-0123456789abcdef")}
	h := &clientreg.Handler{
		Clients: clients,
		Provider: &oidc.Provider{
			Issuer:  testIssuer,
			Clients: &oidc.ClientCache{Store: clients, TTL: time.Second, Now: time.Now},
			Config:  &fosite.Config{ClientSecretsHasher: hasher},
		},
		InitialAccessToken: initial,
		Now:                time.Now,
		Logger:             slog.New(slog.DiscardHandler),
	}
	e := echo.New()
	h.Mount(e.Group(""))
	return &registrationServer{e: e, h: h, store: store, hasher: hasher, initial: initial}
}

// do sends a request; a non-empty body goes as application/json.
func (s *registrationServer) do(t testing.TB, method, path, token, body string) (*httptest.ResponseRecorder, clientInfo) {
	t.Helper()
	req := httptest.NewRequest(method, path, strings.NewReader(body))
	if body != "" {
		req.Header.Set(echo.HeaderContentType, echo.MIMEApplicationJSON)
	}
	if token != "" {
		req.Header.Set(echo.HeaderAuthorization, "Bearer "+token)
	}
	rec := httptest.NewRecorder()
	s.e.ServeHTTP(rec, req)
	var info clientInfo
	if rec.Body.Len() > 0 {
		if err := json.Unmarshal(rec.Body.Bytes(), &info); err != nil {
			t.Fatalf("%s %s: body %q is not JSON: %v", method, path, rec.Body, err)
		}
	}
	return rec, info
}

// mustRegister registers a client and fails the test unless it gets 201.
func (s *registrationServer) mustRegister(t testing.TB, body string) clientInfo {
	t.Helper()
	rec, info := s.do(t, http.MethodPost, clientreg.Path, s.initial, body)
	if rec.Code != http.StatusCreated {
		t.Fatalf("register: status %d, body %s", rec.Code, rec.Body)
	}
	return info
}

func TestRegisterDisabled(t *testing.T) {
	s := newRegistrationServer(t, nil, "")
	rec, got := s.do(t, http.MethodPost, clientreg.Path, "anything", `{"redirect_uris":["https://app.example.com/cb"]}`)
	if rec.Code != http.StatusForbidden || got.Error != "access_denied" {
		t.Errorf("register with registration off: status %d error %q, want 403 access_denied", rec.Code, got.Error)
	}
}

func TestRegisterRejects(t *testing.T) {
	good := `{"redirect_uris":["https://app.example.com/cb"]}`
	tests := []struct {
		name        string
		token       string
		contentType string
		body        string
		wantStatus  int
		wantError   string
	}{
		{name: "missing token", body: good, wantStatus: http.StatusUnauthorized, wantError: "invalid_token"},
		{name: "wrong token", token: "Bearer wrong", body: good, wantStatus: http.StatusUnauthorized, wantError: "invalid_token"},
		{name: "basic scheme", token: "Basic " + testInitialToken, body: good, wantStatus: http.StatusUnauthorized, wantError: "invalid_token"},
		{name: "malformed json", body: `{"redirect_uris":`, wantStatus: http.StatusBadRequest, wantError: "invalid_client_metadata"},
		{name: "wrong json type", body: `{"redirect_uris":"https://app.example.com/cb"}`, wantStatus: http.StatusBadRequest, wantError: "invalid_client_metadata"},
		{name: "not json", contentType: "application/x-www-form-urlencoded", body: "redirect_uris=x", wantStatus: http.StatusBadRequest, wantError: "invalid_client_metadata"},
		{name: "invalid redirect", body: `{"redirect_uris":["http://app.example.com/cb"]}`, wantStatus: http.StatusBadRequest, wantError: "invalid_redirect_uri"},
		{name: "unknown scope", body: `{"redirect_uris":["https://app.example.com/cb"],"scope":"openid admin"}`, wantStatus: http.StatusBadRequest, wantError: "invalid_client_metadata"},
		{name: "admin scope", body: `{"redirect_uris":["https://app.example.com/cb"],"scope":"openid users:admin"}`, wantStatus: http.StatusBadRequest, wantError: "invalid_client_metadata"},
	}
	s := newRegistrationServer(t, nil, testInitialToken) // every case fails before storage
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			req := httptest.NewRequest(http.MethodPost, clientreg.Path, strings.NewReader(tc.body))
			ct := tc.contentType
			if ct == "" {
				ct = echo.MIMEApplicationJSON
			}
			req.Header.Set(echo.HeaderContentType, ct)
			auth := tc.token
			if auth == "" && tc.wantStatus != http.StatusUnauthorized {
				auth = "Bearer " + testInitialToken
			}
			if auth != "" {
				req.Header.Set(echo.HeaderAuthorization, auth)
			}
			rec := httptest.NewRecorder()
			s.e.ServeHTTP(rec, req)
			var got clientInfo
			if err := json.Unmarshal(rec.Body.Bytes(), &got); err != nil {
				t.Fatalf("body %q is not JSON: %v", rec.Body, err)
			}
			if rec.Code != tc.wantStatus || got.Error != tc.wantError {
				t.Errorf("status %d error %q (%s), want %d %q", rec.Code, got.Error, got.ErrorDescription, tc.wantStatus, tc.wantError)
			}
			if wa := rec.Header().Get(echo.HeaderWWWAuthenticate); tc.wantStatus == http.StatusUnauthorized && wa != `Bearer error="invalid_token"` {
				t.Errorf("WWW-Authenticate = %q", wa)
			}
		})
	}
}

func TestRegisterWebClient(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, db *gorm.DB) {
		s := newRegistrationServer(t, db, testInitialToken)
		rec, got := s.do(t, http.MethodPost, clientreg.Path, testInitialToken, `{
			"client_name": "Example App",
			"redirect_uris": ["https://app.example.com/cb"],
			"grant_types": ["authorization_code", "refresh_token"],
			"scope": "openid email offline_access",
			"software_id": "ignored per RFC 7591 §2"
		}`)
		if rec.Code != http.StatusCreated {
			t.Fatalf("status %d, body %s", rec.Code, rec.Body)
		}
		for k, want := range map[string]string{"Cache-Control": "no-store", "Pragma": "no-cache", "Content-Type": echo.MIMEApplicationJSON} {
			if v := rec.Header().Get(k); v != want {
				t.Errorf("%s = %q, want %q", k, v, want)
			}
		}
		if got.ClientID == "" || got.ClientSecret == "" || got.RegistrationAccessToken == "" || got.ClientIDIssuedAt == 0 {
			t.Fatalf("response lacks identifiers: %s", rec.Body)
		}
		if got.ClientSecretExpiresAt == nil || *got.ClientSecretExpiresAt != 0 {
			t.Errorf("client_secret_expires_at = %v, want 0", got.ClientSecretExpiresAt)
		}
		if want := testIssuer + clientreg.Path + "/" + got.ClientID; got.RegistrationClientURI != want {
			t.Errorf("registration_client_uri = %q, want %q", got.RegistrationClientURI, want)
		}
		want := clientreg.Metadata{
			ClientName: "Example App", RedirectURIs: []string{"https://app.example.com/cb"},
			GrantTypes: []string{"authorization_code", "refresh_token"}, ResponseTypes: []string{"code"},
			TokenEndpointAuthMethod: oidc.AuthMethodBasic, ApplicationType: oidc.AppTypeWeb,
			Scope: "openid email offline_access", AccessTokenFormat: oidc.TokenFormatOpaque,
		}
		if diff := cmp.Diff(want, got.Metadata); diff != "" {
			t.Errorf("registered metadata mismatch (-want +got):\n%s", diff)
		}

		// Only keyed hashes are stored, and the issued values verify.
		stored, err := s.store.GetClient(t.Context(), got.ClientID)
		if err != nil {
			t.Fatal(err)
		}
		ctx := t.Context()
		if err := s.hasher.Compare(ctx, stored.SecretHash, []byte(got.ClientSecret)); err != nil {
			t.Errorf("issued secret does not verify against the stored hash: %v", err)
		}
		if err := s.hasher.Compare(ctx, stored.RegistrationTokenHash, []byte(got.RegistrationAccessToken)); err != nil {
			t.Errorf("registration token does not verify against the stored hash: %v", err)
		}
		if string(stored.SecretHash) == got.ClientSecret || string(stored.RegistrationTokenHash) == got.RegistrationAccessToken {
			t.Error("a secret is stored in the clear")
		}
	})
}

func TestRegisterNativePublicClient(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, db *gorm.DB) {
		s := newRegistrationServer(t, db, testInitialToken)
		got := s.mustRegister(t, `{"application_type":"native","token_endpoint_auth_method":"none",
			"redirect_uris":["com.example.app:/cb","http://127.0.0.1/cb"]}`)
		if got.ClientSecret != "" || got.ClientSecretExpiresAt != nil {
			t.Errorf("public client got a secret: %q, expires %v", got.ClientSecret, got.ClientSecretExpiresAt)
		}
		if got.TokenEndpointAuthMethod != oidc.AuthMethodNone || got.ApplicationType != oidc.AppTypeNative {
			t.Errorf("metadata = %+v", got.Metadata)
		}
		stored, err := s.store.GetClient(t.Context(), got.ClientID)
		if err != nil {
			t.Fatal(err)
		}
		if len(stored.SecretHash) != 0 || !stored.IsPublic() {
			t.Errorf("stored public client has secret hash %q", stored.SecretHash)
		}
	})
}

func TestRegisterManagement(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, db *gorm.DB) {
		s := newRegistrationServer(t, db, testInitialToken)
		reg := s.mustRegister(t, `{"redirect_uris":["https://app.example.com/cb"],"client_name":"App"}`)
		path := clientreg.Path + "/" + reg.ClientID
		token := reg.RegistrationAccessToken

		rec, got := s.do(t, http.MethodGet, path, token, "")
		if rec.Code != http.StatusOK {
			t.Fatalf("GET: status %d, body %s", rec.Code, rec.Body)
		}
		// RFC 7592 §3: the response carries the registration access token
		// (the presented one: only its hash is stored), never the secret.
		if got.ClientSecret != "" || got.RegistrationAccessToken != token {
			t.Errorf("GET returned a secret or not the presented token: %s", rec.Body)
		}
		if diff := cmp.Diff(reg.Metadata, got.Metadata); diff != "" || got.RegistrationClientURI != reg.RegistrationClientURI || got.ClientID != reg.ClientID {
			t.Errorf("GET mismatch (-registered +read):\n%s", diff)
		}

		// A wrong token and an unknown client answer alike.
		wrong, wrongInfo := s.do(t, http.MethodGet, path, "wrong", "")
		unknown, unknownInfo := s.do(t, http.MethodGet, clientreg.Path+"/no-such-client", token, "")
		missing, _ := s.do(t, http.MethodGet, path, "", "")
		for name, r := range map[string]*httptest.ResponseRecorder{"wrong token": wrong, "unknown client": unknown, "no token": missing} {
			if r.Code != http.StatusUnauthorized || r.Header().Get(echo.HeaderWWWAuthenticate) == "" {
				t.Errorf("GET with %s: status %d, WWW-Authenticate %q", name, r.Code, r.Header().Get(echo.HeaderWWWAuthenticate))
			}
		}
		if diff := cmp.Diff(wrongInfo, unknownInfo); diff != "" {
			t.Errorf("wrong token and unknown client differ:\n%s", diff)
		}

		// Fill the cache so the update must drop it.
		if _, err := s.h.Provider.Clients.Get(t.Context(), reg.ClientID); err != nil {
			t.Fatal(err)
		}
		updates := []struct {
			name, body string
			wantError  string
		}{
			{"mismatched client_id", `{"client_id":"other","redirect_uris":["https://app.example.com/new"]}`, "invalid_client_metadata"},
			{"missing client_id", `{"redirect_uris":["https://app.example.com/new"]}`, "invalid_client_metadata"},
			{"wrong client_secret", `{"client_id":"` + reg.ClientID + `","client_secret":"nope","redirect_uris":["https://app.example.com/new"]}`, "invalid_client_metadata"},
			{"invalid redirect", `{"client_id":"` + reg.ClientID + `","redirect_uris":["http://app.example.com/new"]}`, "invalid_redirect_uri"},
		}
		for _, u := range updates {
			rec, got := s.do(t, http.MethodPut, path, token, u.body)
			if rec.Code != http.StatusBadRequest || got.Error != u.wantError {
				t.Errorf("PUT with %s: status %d error %q, want 400 %q", u.name, rec.Code, got.Error, u.wantError)
			}
		}

		rec, got = s.do(t, http.MethodPut, path, token, `{"client_id":"`+reg.ClientID+`","client_secret":"`+reg.ClientSecret+`",
			"client_name":"App v2","redirect_uris":["https://app.example.com/new"]}`)
		if rec.Code != http.StatusOK {
			t.Fatalf("PUT: status %d, body %s", rec.Code, rec.Body)
		}
		if diff := cmp.Diff([]string{"https://app.example.com/new"}, got.RedirectURIs); diff != "" || got.ClientName != "App v2" {
			t.Errorf("PUT redirect_uris mismatch (-want +got):\n%s", diff)
		}
		if got.ClientSecret != "" || got.ClientIDIssuedAt != reg.ClientIDIssuedAt {
			t.Errorf("PUT changed the secret or issue time: %s", rec.Body)
		}
		cached, err := s.h.Provider.Clients.Get(t.Context(), reg.ClientID)
		if err != nil {
			t.Fatal(err)
		}
		if diff := cmp.Diff([]string{"https://app.example.com/new"}, cached.RedirectURIs); diff != "" {
			t.Errorf("cache still serves the old client (-want +got):\n%s", diff)
		}
		if err := s.hasher.Compare(t.Context(), cached.SecretHash, []byte(reg.ClientSecret)); err != nil {
			t.Errorf("PUT lost the client secret: %v", err)
		}

		rec, _ = s.do(t, http.MethodDelete, path, token, "")
		if rec.Code != http.StatusNoContent {
			t.Fatalf("DELETE: status %d, body %s", rec.Code, rec.Body)
		}
		if rec, _ := s.do(t, http.MethodGet, path, token, ""); rec.Code != http.StatusUnauthorized {
			t.Errorf("GET after DELETE: status %d, want 401", rec.Code)
		}
		if _, err := s.store.GetClient(t.Context(), reg.ClientID); !errors.Is(err, oidc.ErrClientNotFound) {
			t.Errorf("GetClient after DELETE = %v, want ErrClientNotFound", err)
		}
	})
}
