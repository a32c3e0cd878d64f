package sqlstore_test

import (
	"errors"
	"fmt"
	"net/url"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"
	"gorm.io/gorm"

	"gatehouse/migrations/dbtest"
	"gatehouse/migrations/dbtime"
	"gatehouse/oidc"
	"gatehouse/oidc/authflow"
)

func TestClients(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, db *gorm.DB) {
		ctx := t.Context()
		s := newStore(t, db)

		b := testClient(t, "b-client")
		a := testClient(t, "a-client")
		a.SecretHash = nil // public client
		a.RegistrationTokenHash = nil
		a.TokenEndpointAuthMethod = oidc.AuthMethodNone
		a.JWKS = nil
		a.FirstParty = false
		a.ResourceServer, a.ResourceAudience = false, nil
		a.ApplicationType = oidc.AppTypeNative
		for _, c := range []*oidc.Client{b, a} {
			if err := s.CreateClient(ctx, c); err != nil {
				t.Fatalf("CreateClient(%q): %v", c.ID, err)
			}
		}
		for _, want := range []*oidc.Client{a, b} {
			got, err := s.GetClient(ctx, want.ID)
			if err != nil {
				t.Fatalf("GetClient(%q): %v", want.ID, err)
			}
			if diff := cmp.Diff(want, got, clientOpts); diff != "" {
				t.Errorf("GetClient(%q) mismatch (-want +got):\n%s", want.ID, diff)
			}
		}

		updated := testClient(t, "b-client")
		updated.ClientName = "Renamed"
		updated.RedirectURIs = []string{"https://new.example.com/cb", "http://127.0.0.1/cb"}
		updated.Scope = "openid"
		updated.FirstParty = false
		updated.ResourceAudience = []string{"https://other.example.com"}
		updated.JWKS = nil
		updated.JWKSURI = "https://new.example.com/jwks.json"
		updated.SecretHash = (&oidc.SecretHasher{Pepper: []byte("pepper")}).Sum([]byte("rotated"))
		updated.UpdatedAt = base.Add(time.Hour)
		if err := s.UpdateClient(ctx, updated); err != nil {
			t.Fatalf("UpdateClient: %v", err)
		}
		got, err := s.GetClient(ctx, "b-client")
		if err != nil {
			t.Fatalf("GetClient after update: %v", err)
		}
		if diff := cmp.Diff(updated, got, clientOpts); diff != "" {
			t.Errorf("GetClient after UpdateClient mismatch (-want +got):\n%s", diff)
		}

		list, err := s.ListClients(ctx)
		if err != nil {
			t.Fatalf("ListClients: %v", err)
		}
		if diff := cmp.Diff([]*oidc.Client{a, updated}, list, clientOpts); diff != "" {
			t.Errorf("ListClients mismatch (-want +got):\n%s", diff)
		}

		if err := s.DeleteClient(ctx, "a-client"); err != nil {
			t.Fatalf("DeleteClient: %v", err)
		}
		if _, err := s.GetClient(ctx, "a-client"); !errors.Is(err, oidc.ErrClientNotFound) {
			t.Errorf("GetClient(deleted) error = %v, want %v", err, oidc.ErrClientNotFound)
		}

		unknown := testClient(t, "unknown")
		for _, tc := range []struct {
			name string
			call func() error
		}{
			{"GetClient", func() error { _, err := s.GetClient(ctx, "unknown"); return err }},
			{"UpdateClient", func() error { return s.UpdateClient(ctx, unknown) }},
			{"DeleteClient", func() error { return s.DeleteClient(ctx, "unknown") }},
		} {
			if err := tc.call(); !errors.Is(err, oidc.ErrClientNotFound) {
				t.Errorf("%s(unknown) error = %v, want %v", tc.name, err, oidc.ErrClientNotFound)
			}
		}
	})
}

func TestDeleteClientRemovesTokens(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, db *gorm.DB) {
		ctx := t.Context()
		s := newStore(t, db)
		gone := mustCreateClient(t, s, "gone")
		kept := mustCreateClient(t, s, "kept")

		r := newRequest("req-gone", gone, "alice", "sid-1")
		for _, err := range []error{
			s.CreateAuthorizeCodeSession(ctx, "gone-code", r),
			s.CreateAccessTokenSession(ctx, "gone-at", r),
			s.CreateRefreshTokenSession(ctx, "gone-rt", "gone-at", r),
			s.CreatePKCERequestSession(ctx, "gone-code", r),
			s.CreateOpenIDConnectSession(ctx, "gone-code", r),
			s.SaveConsent(ctx, "alice", "gone", []string{"openid"}, base),
			s.CreateAccessTokenSession(ctx, "kept-at", newRequest("req-kept", kept, "alice", "sid-1")),
			s.SaveConsent(ctx, "alice", "kept", []string{"openid"}, base),
		} {
			if err != nil {
				t.Fatal(err)
			}
		}

		if err := s.DeleteClient(ctx, "gone"); err != nil {
			t.Fatalf("DeleteClient: %v", err)
		}
		if n := mustCount(t, db, "oauth_requests", "client_id = ?", "gone"); n != 0 {
			t.Errorf("oauth_requests rows of the deleted client = %d, want 0", n)
		}
		if got, err := s.GetConsent(ctx, "alice", "gone"); err != nil || got != nil {
			t.Errorf("GetConsent(deleted client) = %v, %v; want nil, nil", got, err)
		}
		if _, err := s.GetAccessTokenSession(ctx, "kept-at", oidc.NewSession()); err != nil {
			t.Errorf("GetAccessTokenSession(other client's token) error = %v, want nil", err)
		}
		if got, err := s.GetConsent(ctx, "alice", "kept"); err != nil || len(got) != 1 {
			t.Errorf("GetConsent(other client) = %v, %v; want [openid], nil", got, err)
		}
	})
}

func testFlow(id string) *authflow.Flow {
	return &authflow.Flow{
		ID:          id,
		ClientID:    "app",
		Binding:     "binding-hash-" + id,
		Form:        url.Values{"client_id": {"app"}, "scope": {"openid profile"}, "state": {"xyz"}},
		RequestedAt: base,
		Version:     1,
		ExpiresAt:   base.Add(15 * time.Minute),
	}
}

func TestFlows(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, db *gorm.DB) {
		ctx := t.Context()
		s := newStore(t, db)
		f := testFlow("flow-1")
		if err := s.CreateFlow(ctx, f); err != nil {
			t.Fatalf("CreateFlow: %v", err)
		}

		for _, tc := range []struct {
			name    string
			now     time.Time
			want    *authflow.Flow
			wantErr error
		}{
			{"live", base.Add(time.Minute), f, nil},
			{"just before expiry", f.ExpiresAt.Add(-time.Second), f, nil},
			{"half a second before expiry", f.ExpiresAt.Add(-500 * time.Millisecond), f, nil},
			{"at expiry", f.ExpiresAt, nil, authflow.ErrFlowNotFound},
			{"half a second after expiry", f.ExpiresAt.Add(500 * time.Millisecond), nil, authflow.ErrFlowNotFound},
			{"after expiry", f.ExpiresAt.Add(time.Second), nil, authflow.ErrFlowNotFound},
		} {
			got, err := s.GetFlow(ctx, "flow-1", tc.now)
			if !errors.Is(err, tc.wantErr) {
				t.Errorf("%s: GetFlow error = %v, want %v", tc.name, err, tc.wantErr)
			}
			if diff := cmp.Diff(tc.want, got); diff != "" {
				t.Errorf("%s: GetFlow mismatch (-want +got):\n%s", tc.name, diff)
			}
		}
		if _, err := s.GetFlow(ctx, "unknown", base); !errors.Is(err, authflow.ErrFlowNotFound) {
			t.Errorf("GetFlow(unknown) error = %v, want %v", err, authflow.ErrFlowNotFound)
		}

		// Two tabs read version 1 and both try to move on.
		tab1, tab2 := *f, *f
		tab1.Version, tab1.UserID, tab1.SessionID, tab1.Done.SignIn = 2, "alice", "sid-1", true
		tab2.Version, tab2.UserID = 2, "mallory"
		if err := s.UpdateFlow(ctx, &tab1); err != nil {
			t.Fatalf("UpdateFlow(version 2): %v", err)
		}
		if err := s.UpdateFlow(ctx, &tab2); !errors.Is(err, authflow.ErrFlowConflict) {
			t.Errorf("stale UpdateFlow(version 2) error = %v, want %v", err, authflow.ErrFlowConflict)
		}
		got, err := s.GetFlow(ctx, "flow-1", base)
		if err != nil {
			t.Fatalf("GetFlow after update: %v", err)
		}
		if diff := cmp.Diff(&tab1, got); diff != "" {
			t.Errorf("GetFlow after UpdateFlow mismatch (-want +got):\n%s", diff)
		}
		tab1.Version, tab1.Done.Consent, tab1.ConsentGranted = 3, true, true
		if err := s.UpdateFlow(ctx, &tab1); err != nil {
			t.Errorf("UpdateFlow(version 3): %v", err)
		}

		if err := s.DeleteFlow(ctx, "flow-1"); err != nil {
			t.Fatalf("DeleteFlow: %v", err)
		}
		if _, err := s.GetFlow(ctx, "flow-1", base); !errors.Is(err, authflow.ErrFlowNotFound) {
			t.Errorf("GetFlow(deleted) error = %v, want %v", err, authflow.ErrFlowNotFound)
		}
	})
}

// TestHeldFlow: a browser's verification page finds the flow of that
// browser held last, and no flow of another browser, nor one no longer
// held or expired.
func TestHeldFlow(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, db *gorm.DB) {
		ctx := t.Context()
		s := newStore(t, db)
		held := func(id, binding string, at time.Time) *authflow.Flow {
			f := testFlow(id)
			f.Binding = binding
			f.Held = &authflow.Verification{UserID: "u-" + id, Email: id + "@example.com", AMR: []string{"pwd"}}
			f.HeldAt = at
			return f
		}
		older := held("older", "browser-a", base)
		newer := held("newer", "browser-a", base.Add(2*time.Second))
		other := held("other", "browser-b", base.Add(3*time.Second))
		plain := testFlow("plain")
		plain.Binding = "browser-a"
		for _, f := range []*authflow.Flow{older, newer, other, plain} {
			if err := s.CreateFlow(ctx, f); err != nil {
				t.Fatalf("CreateFlow(%s): %v", f.ID, err)
			}
		}
		got, err := s.HeldFlow(ctx, "browser-a", base)
		if err != nil {
			t.Fatalf("HeldFlow: %v", err)
		}
		if diff := cmp.Diff(newer, got); diff != "" {
			t.Errorf("HeldFlow(browser-a) mismatch (-want +got):\n%s", diff)
		}
		if _, err := s.HeldFlow(ctx, "browser-c", base); !errors.Is(err, authflow.ErrFlowNotFound) {
			t.Errorf("HeldFlow(unknown browser) error = %v, want %v", err, authflow.ErrFlowNotFound)
		}
		// The newer flow's user signed in: it holds nobody any more.
		newer.Held, newer.HeldAt, newer.Version = nil, time.Time{}, 2
		if err := s.UpdateFlow(ctx, newer); err != nil {
			t.Fatalf("UpdateFlow: %v", err)
		}
		if got, err := s.HeldFlow(ctx, "browser-a", base); err != nil || got.ID != "older" {
			t.Errorf("HeldFlow after the release = %v, %v; want the older flow", got, err)
		}
		if _, err := s.HeldFlow(ctx, "browser-a", older.ExpiresAt); !errors.Is(err, authflow.ErrFlowNotFound) {
			t.Errorf("HeldFlow at expiry error = %v, want %v", err, authflow.ErrFlowNotFound)
		}
	})
}

func testBrowserSession(id, user string, created time.Time) *oidc.BrowserSession {
	return &oidc.BrowserSession{
		ID:          id,
		SecretHash:  "hash-" + id,
		UserID:      user,
		AuthTime:    created,
		AMR:         []string{"pwd", "otp"},
		ACR:         "urn:example:mfa",
		IP:          "192.0.2.1",
		UserAgent:   "test-agent/1.0",
		CreatedAt:   created,
		LastSeenAt:  created,
		ExpiresAt:   created.Add(30 * 24 * time.Hour),
		IdleTimeout: 7 * 24 * time.Hour,
	}
}

func TestBrowserSessions(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, db *gorm.DB) {
		ctx := t.Context()
		s := newStore(t, db)
		older := testBrowserSession("sid-old", "alice", base)
		newer := testBrowserSession("sid-new", "alice", base.Add(time.Hour))
		other := testBrowserSession("sid-bob", "bob", base.Add(2*time.Hour))
		for _, bs := range []*oidc.BrowserSession{older, newer, other} {
			if err := s.CreateSession(ctx, bs); err != nil {
				t.Fatalf("CreateSession(%q): %v", bs.ID, err)
			}
		}

		got, err := s.GetSessionBySecretHash(ctx, "hash-sid-new")
		if err != nil {
			t.Fatalf("GetSessionBySecretHash: %v", err)
		}
		if diff := cmp.Diff(newer, got); diff != "" {
			t.Errorf("GetSessionBySecretHash mismatch (-want +got):\n%s", diff)
		}
		got, err = s.GetSession(ctx, "sid-old")
		if err != nil {
			t.Fatalf("GetSession: %v", err)
		}
		if diff := cmp.Diff(older, got); diff != "" {
			t.Errorf("GetSession mismatch (-want +got):\n%s", diff)
		}

		seen := base.Add(3 * time.Hour)
		if err := s.TouchSession(ctx, "sid-old", seen); err != nil {
			t.Fatalf("TouchSession: %v", err)
		}
		got, err = s.GetSession(ctx, "sid-old")
		if err != nil {
			t.Fatalf("GetSession after touch: %v", err)
		}
		if !got.LastSeenAt.Equal(seen) {
			t.Errorf("LastSeenAt after TouchSession = %v, want %v", got.LastSeenAt, seen)
		}
		older.LastSeenAt = seen

		list, err := s.ListUserSessions(ctx, "alice")
		if err != nil {
			t.Fatalf("ListUserSessions: %v", err)
		}
		if diff := cmp.Diff([]*oidc.BrowserSession{newer, older}, list); diff != "" {
			t.Errorf("ListUserSessions(alice) mismatch (-want +got):\n%s", diff)
		}
		if list, err := s.ListUserSessions(ctx, "nobody"); err != nil || len(list) != 0 {
			t.Errorf("ListUserSessions(nobody) = %v, %v; want empty, nil", list, err)
		}

		if err := s.DeleteSession(ctx, "sid-new"); err != nil {
			t.Fatalf("DeleteSession: %v", err)
		}
		for _, tc := range []struct {
			name string
			get  func() (*oidc.BrowserSession, error)
		}{
			{"GetSession", func() (*oidc.BrowserSession, error) { return s.GetSession(ctx, "sid-new") }},
			{"GetSessionBySecretHash", func() (*oidc.BrowserSession, error) { return s.GetSessionBySecretHash(ctx, "hash-sid-new") }},
			{"GetSession(unknown)", func() (*oidc.BrowserSession, error) { return s.GetSession(ctx, "unknown") }},
		} {
			if _, err := tc.get(); !errors.Is(err, oidc.ErrSessionNotFound) {
				t.Errorf("%s error = %v, want %v", tc.name, err, oidc.ErrSessionNotFound)
			}
		}
		if _, err := s.GetSession(ctx, "sid-bob"); err != nil {
			t.Errorf("GetSession(other user's session) error = %v, want nil", err)
		}
	})
}

func TestConsents(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, db *gorm.DB) {
		ctx := t.Context()
		s := newStore(t, db)
		steps := []struct {
			name   string
			save   []string // nil: only read
			client string
			want   []string
		}{
			{name: "none", client: "app", want: nil},
			{name: "first grant", save: []string{"openid", "profile"}, client: "app", want: []string{"openid", "profile"}},
			{name: "replaced", save: []string{"openid", "email", "offline_access"}, client: "app", want: []string{"openid", "email", "offline_access"}},
			{name: "other client untouched", client: "other", want: nil},
		}
		for i, st := range steps {
			if st.save != nil {
				if err := s.SaveConsent(ctx, "alice", st.client, st.save, base.Add(time.Duration(i)*time.Minute)); err != nil {
					t.Fatalf("%s: SaveConsent: %v", st.name, err)
				}
			}
			got, err := s.GetConsent(ctx, "alice", st.client)
			if err != nil {
				t.Fatalf("%s: GetConsent: %v", st.name, err)
			}
			if diff := cmp.Diff(st.want, got); diff != "" {
				t.Errorf("%s: GetConsent(alice, %s) mismatch (-want +got):\n%s", st.name, st.client, diff)
			}
		}
		if got, err := s.GetConsent(ctx, "bob", "app"); err != nil || got != nil {
			t.Errorf("GetConsent(bob, app) = %v, %v; want nil, nil", got, err)
		}
	})
}

// TestSaveConsentConcurrent: a user who consents in two tabs at once (or
// double-submits the consent form) must not get a server error.
func TestSaveConsentConcurrent(t *testing.T) {
	const workers, rounds = 8, 5
	dbtest.Each(t, func(t *testing.T, db *gorm.DB) {
		ctx := t.Context()
		s := newStore(t, db)
		for round := range rounds {
			user := fmt.Sprintf("user-%d", round)
			errs := concurrently(workers, func() error {
				return s.SaveConsent(ctx, user, "app", []string{"openid", "profile"}, base)
			})
			for i, err := range errs {
				if err != nil {
					t.Errorf("%s: worker %d: SaveConsent error = %v, want nil", user, i, err)
				}
			}
			got, err := s.GetConsent(ctx, user, "app")
			if err != nil {
				t.Fatalf("GetConsent: %v", err)
			}
			if diff := cmp.Diff([]string{"openid", "profile"}, got); diff != "" {
				t.Errorf("%s: GetConsent after concurrent saves mismatch (-want +got):\n%s", user, diff)
			}
		}
	})
}

func TestSigningKeys(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, db *gorm.DB) {
		ctx := t.Context()
		s := newStore(t, db)
		// Times in a non-UTC zone: the store must hand back the same
		// instants in UTC.
		zone := time.FixedZone("UTC+2", 2*60*60)
		at := func(d time.Duration) *time.Time { v := base.Add(d).In(zone); return &v }

		cur := &oidc.SigningKeyRecord{ID: "kid-a", Algorithm: "RS256", State: oidc.KeyCurrent, PrivateSealed: "sealed-a", CreatedAt: *at(0), ActivatedAt: at(0)}
		next := &oidc.SigningKeyRecord{ID: "kid-b", Algorithm: "RS256", State: oidc.KeyNext, PrivateSealed: "sealed-b", CreatedAt: *at(time.Minute)}
		if err := s.SaveSigningKeys(ctx, []*oidc.SigningKeyRecord{cur, next}); err != nil {
			t.Fatalf("SaveSigningKeys(first): %v", err)
		}

		// A rotation: two updates and an insert in one call.
		retired := *cur
		retired.State, retired.RetiredAt, retired.ExpiresAt = oidc.KeyRetired, at(48*time.Hour), at(72*time.Hour)
		promoted := *next
		promoted.State, promoted.ActivatedAt = oidc.KeyCurrent, at(48*time.Hour)
		fresh := &oidc.SigningKeyRecord{ID: "kid-c", Algorithm: "ES256", State: oidc.KeyNext, PrivateSealed: "sealed-c", CreatedAt: *at(48 * time.Hour)}
		if err := s.SaveSigningKeys(ctx, []*oidc.SigningKeyRecord{&retired, &promoted, fresh}); err != nil {
			t.Fatalf("SaveSigningKeys(rotation): %v", err)
		}

		got, err := s.ListSigningKeys(ctx)
		if err != nil {
			t.Fatalf("ListSigningKeys: %v", err)
		}
		want := []*oidc.SigningKeyRecord{&retired, &promoted, fresh}
		if diff := cmp.Diff(want, got, cmpopts.SortSlices(func(a, b *oidc.SigningKeyRecord) bool { return a.ID < b.ID })); diff != "" {
			t.Errorf("ListSigningKeys mismatch (-want +got):\n%s", diff)
		}
		for _, k := range got {
			for name, tm := range map[string]*time.Time{"CreatedAt": &k.CreatedAt, "ActivatedAt": k.ActivatedAt, "RetiredAt": k.RetiredAt, "ExpiresAt": k.ExpiresAt} {
				if tm != nil && tm.Location() != time.UTC {
					t.Errorf("key %s: %s location = %v, want UTC", k.ID, name, tm.Location())
				}
			}
		}
	})
}

// TestClientRowFromBeforeTheDocument: a client row written when the
// metadata column held a list of scopes (and no RFC 7591 scope) reads
// back with its scopes, name, audience and keys.
func TestClientRowFromBeforeTheDocument(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, db *gorm.DB) {
		s := newStore(t, db)
		old := `{"client_name":"Old App","application_type":"web","redirect_uris":["https://old.example.com/cb"],` +
			`"grant_types":["authorization_code"],"response_types":["code"],"scopes":["openid","profile"],` +
			`"audience":["https://api.example.com"],"token_endpoint_auth_method":"client_secret_basic",` +
			`"access_token_format":"opaque"}`
		at := dbtime.New(time.Date(2030, 1, 2, 3, 4, 5, 0, time.UTC))
		if err := db.Exec(`INSERT INTO oauth_clients (id, secret_hash, registration_token_hash, metadata, first_party,
			resource_server, resource_audience, created_at, updated_at, last_used_at) VALUES ('old', 'h', '', ?, ?, ?, '', ?, ?, ?)`,
			old, false, false, at, at, at).Error; err != nil {
			t.Fatal(err)
		}
		c, err := s.GetClient(t.Context(), "old")
		if err != nil {
			t.Fatal(err)
		}
		if c.Scope != "openid profile" || c.ClientName != "Old App" || c.DisplayName() != "Old App" ||
			len(c.Audience) != 1 || c.AccessTokenFormat != oidc.TokenFormatOpaque {
			t.Errorf("old client = %+v", c)
		}
		if diff := cmp.Diff([]string{"openid", "profile"}, []string(c.GetScopes())); diff != "" {
			t.Errorf("GetScopes (-want +got):\n%s", diff)
		}
	})
}
