package clientreg_test

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"encoding/json"
	"errors"
	"strings"
	"testing"
	"time"

	jose "github.com/go-jose/go-jose/v3"
	"github.com/google/go-cmp/cmp"
	"gorm.io/gorm"

	"gatehouse/identity"
	"gatehouse/identity/access"
	"gatehouse/identity/audit"
	auditsql "gatehouse/identity/audit/sqlstore"
	"gatehouse/migrations/dbtest"
	"gatehouse/migrations/dbtx"
	"gatehouse/oidc"
	"gatehouse/oidc/clientreg"
	"gatehouse/oidc/sqlstore"
)

// adminFixture is a clientreg.Admin over a real database, with the
// provider's client cache in front of the store as in the server.
type adminFixture struct {
	admin  *clientreg.Admin
	store  *sqlstore.Clients
	cache  *oidc.ClientCache
	audit  *audit.Log
	hasher *oidc.SecretHasher
}

var adminNow = time.Date(2026, 3, 1, 10, 0, 0, 0, time.UTC)

func newAdminFixture(t testing.TB, db *gorm.DB) *adminFixture {
	t.Helper()
	store := sqlstore.NewClients(db, sqlstore.Settings{})
	cache := &oidc.ClientCache{Store: store, TTL: time.Hour, Now: time.Now}
	log := audit.New(auditsql.New(db))
	hasher := &oidc.SecretHasher{Pepper: []byte("pepper-for-tests-0123456789abcdef")}
	return &adminFixture{
		admin: &clientreg.Admin{Clients: store, Hasher: hasher, Cache: cache, Tx: dbtx.New(db), Audit: log,
			Now: func() time.Time { return adminNow }},
		store: store, cache: cache, audit: log, hasher: hasher,
	}
}

// entries returns the audit trail, oldest first.
func (f *adminFixture) entries(t testing.TB) []audit.Entry {
	t.Helper()
	list, err := f.audit.List(t.Context(), audit.Filter{Limit: audit.MaxLimit})
	if err != nil {
		t.Fatal(err)
	}
	for i, j := 0, len(list)-1; i < j; i, j = i+1, j-1 {
		list[i], list[j] = list[j], list[i]
	}
	return list
}

func webInput() clientreg.ClientInput {
	return clientreg.ClientInput{Metadata: clientreg.Metadata{
		ClientName: "Shop", RedirectURIs: []string{"https://shop.example.com/cb"},
		GrantTypes: []string{"authorization_code", "refresh_token"}, Scope: "openid profile",
	}}
}

var (
	admin  = identity.Actor{UserID: "u-admin", Permissions: access.Set{access.ClientsRead: true, access.ClientsWrite: true}}
	reader = identity.Actor{UserID: "u-reader", Permissions: access.Set{access.ClientsRead: true}}
)

func TestAdminRoundTrip(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, db *gorm.DB) {
		f := newAdminFixture(t, db)
		ctx := t.Context()

		c, secret, err := f.admin.Create(ctx, admin, webInput())
		if err != nil {
			t.Fatalf("Create: %v", err)
		}
		stored, err := f.store.GetClient(ctx, c.ID)
		if err != nil {
			t.Fatal(err)
		}
		if secret == "" || f.hasher.Compare(ctx, stored.SecretHash, []byte(secret)) != nil {
			t.Fatalf("Create returned secret %q that does not match the stored hash", secret)
		}
		if len(c.SecretHash) != 0 {
			t.Error("Create returned the secret's hash")
		}
		got, err := f.admin.Get(ctx, reader, c.ID)
		if err != nil {
			t.Fatalf("Get: %v", err)
		}
		want := clientreg.Metadata{
			ClientName: "Shop", RedirectURIs: []string{"https://shop.example.com/cb"},
			GrantTypes: []string{"authorization_code", "refresh_token"}, ResponseTypes: []string{"code"},
			Scope: "openid profile", TokenEndpointAuthMethod: oidc.AuthMethodBasic, ApplicationType: oidc.AppTypeWeb,
			AccessTokenFormat: oidc.TokenFormatOpaque,
		}
		if diff := cmp.Diff(want, clientreg.MetadataOf(got)); diff != "" {
			t.Errorf("Get metadata mismatch (-want +got):\n%s", diff)
		}
		list, err := f.admin.List(ctx, reader)
		if err != nil || len(list) != 1 || list[0].ID != c.ID {
			t.Fatalf("List = %v, %v; want the one client", list, err)
		}
		if len(got.SecretHash) != 0 || len(list[0].SecretHash) != 0 {
			t.Error("Get or List returned the secret's hash")
		}

		// The cache holds the client, as after a token request.
		if _, err := f.cache.Get(ctx, c.ID); err != nil {
			t.Fatal(err)
		}
		in := webInput()
		in.ClientName, in.RedirectURIs = "Shop 2", []string{"https://shop2.example.com/cb"}
		in.Scope = "openid clients:read" // administrators may grant admin scopes
		in.FirstParty, in.Audience = true, []string{"https://api.example.com"}
		in.ResourceServer, in.ResourceAudience = true, []string{"https://shop.example.com/api"}
		up, err := f.admin.Update(ctx, admin, c.ID, in)
		if err != nil {
			t.Fatalf("Update: %v", err)
		}
		cached, err := f.cache.Get(ctx, c.ID)
		if err != nil {
			t.Fatal(err)
		}
		for name, cl := range map[string]*oidc.Client{"returned": up, "cached": cached} {
			if cl.ClientName != "Shop 2" || cl.Scope != "openid clients:read" || !cl.FirstParty || !cl.ResourceServer ||
				!cmp.Equal(cl.Audience, in.Audience) || !cmp.Equal(cl.ResourceAudience, in.ResourceAudience) ||
				!cmp.Equal(cl.RedirectURIs, in.RedirectURIs) {
				t.Errorf("%s client after Update = %+v", name, cl)
			}
		}
		if len(up.SecretHash) != 0 {
			t.Error("Update returned the secret's hash")
		}
		if f.hasher.Compare(ctx, cached.SecretHash, []byte(secret)) != nil {
			t.Error("Update changed the secret")
		}

		newSecret, err := f.admin.RotateSecret(ctx, admin, c.ID)
		if err != nil || newSecret == "" || newSecret == secret {
			t.Fatalf("RotateSecret = %q, %v", newSecret, err)
		}
		cached, err = f.cache.Get(ctx, c.ID)
		if err != nil {
			t.Fatal(err)
		}
		if f.hasher.Compare(ctx, cached.SecretHash, []byte(newSecret)) != nil {
			t.Error("the rotated secret does not match")
		}
		if f.hasher.Compare(ctx, cached.SecretHash, []byte(secret)) == nil {
			t.Error("the old secret still matches after rotation")
		}
		if cached.ClientName != "Shop 2" || !cached.FirstParty {
			t.Errorf("RotateSecret changed the metadata: %+v", cached)
		}

		if err := f.admin.Delete(ctx, admin, c.ID); err != nil {
			t.Fatalf("Delete: %v", err)
		}
		if _, err := f.admin.Get(ctx, admin, c.ID); !errors.Is(err, clientreg.ErrNotFound) || !errors.Is(err, oidc.ErrClientNotFound) {
			t.Errorf("Get after Delete: %v, want ErrNotFound", err)
		}
		if _, err := f.cache.Get(ctx, c.ID); !errors.Is(err, oidc.ErrClientNotFound) {
			t.Errorf("the cache still serves the deleted client: %v", err)
		}
		for name, err := range map[string]error{
			"Update":       func() error { _, err := f.admin.Update(ctx, admin, c.ID, webInput()); return err }(),
			"RotateSecret": func() error { _, err := f.admin.RotateSecret(ctx, admin, c.ID); return err }(),
			"Delete":       f.admin.Delete(ctx, admin, c.ID),
		} {
			if !errors.Is(err, clientreg.ErrNotFound) {
				t.Errorf("%s of a deleted client: %v, want ErrNotFound", name, err)
			}
		}

		entries := f.entries(t)
		if len(entries) > 1 && (entries[0].Details["client_name"] != "Shop" || entries[1].Details["client_name"] != "Shop 2" ||
			entries[1].Details["scope"] != "openid clients:read") {
			t.Errorf("audit details do not describe the client: %v, %v", entries[0].Details, entries[1].Details)
		}
		var gotActions []string
		for _, e := range entries {
			gotActions = append(gotActions, e.Action)
			if e.ActorType != audit.ActorAdmin || e.ActorID != "u-admin" || e.Subject != c.ID || e.Outcome != audit.OutcomeSuccess {
				t.Errorf("audit entry %s names actor %s/%s, subject %s, outcome %s", e.Action, e.ActorType, e.ActorID, e.Subject, e.Outcome)
			}
			for k, v := range e.Details {
				if strings.Contains(v, secret) || strings.Contains(v, newSecret) || audit.IsSecretKey(k) {
					t.Errorf("audit entry %s holds a secret in %s", e.Action, k)
				}
			}
		}
		wantActions := []string{audit.ActionClientCreated, audit.ActionClientUpdated, audit.ActionClientSecretRotated, audit.ActionClientDeleted}
		if diff := cmp.Diff(wantActions, gotActions); diff != "" {
			t.Errorf("audit actions mismatch (-want +got):\n%s", diff)
		}
	})
}

// TestAdminRefusesWithoutPermission: an actor that may read clients
// cannot change them, one without permissions cannot read them, and a
// refusal changes nothing and audits nothing.
func TestAdminRefusesWithoutPermission(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, db *gorm.DB) {
		f := newAdminFixture(t, db)
		ctx := t.Context()
		c, secret, err := f.admin.Create(ctx, identity.OperatorActor, webInput())
		if err != nil {
			t.Fatal(err)
		}
		before, err := f.store.GetClient(ctx, c.ID)
		if err != nil {
			t.Fatal(err)
		}
		entries := len(f.entries(t))
		nobody := identity.Actor{UserID: "u-nobody", Permissions: access.Set{}}
		writerWithoutToken := identity.Actor{ClientID: "svc"} // a client without granted permissions
		hostile := webInput()
		hostile.RedirectURIs = []string{"https://attacker.example.net/cb"}

		for _, actor := range []identity.Actor{reader, nobody, writerWithoutToken} {
			for name, call := range map[string]func() error{
				"Create": func() error { _, _, err := f.admin.Create(ctx, actor, hostile); return err },
				"Update": func() error { _, err := f.admin.Update(ctx, actor, c.ID, hostile); return err },
				"RotateSecret": func() error {
					s, err := f.admin.RotateSecret(ctx, actor, c.ID)
					if s != "" {
						t.Errorf("RotateSecret as %+v returned a secret", actor)
					}
					return err
				},
				"Delete": func() error { return f.admin.Delete(ctx, actor, c.ID) },
				// An unknown ID is refused the same way: a caller
				// without permission learns nothing of which exist.
				"Update unknown": func() error { _, err := f.admin.Update(ctx, actor, "no-such-client", hostile); return err },
			} {
				if err := call(); !errors.Is(err, identity.ErrForbidden) {
					t.Errorf("%s as %+v = %v, want ErrForbidden", name, actor, err)
				}
			}
		}
		for _, actor := range []identity.Actor{nobody, writerWithoutToken} {
			if list, err := f.admin.List(ctx, actor); !errors.Is(err, identity.ErrForbidden) || list != nil {
				t.Errorf("List as %+v = %v, %v; want ErrForbidden", actor, list, err)
			}
			if got, err := f.admin.Get(ctx, actor, c.ID); !errors.Is(err, identity.ErrForbidden) || got != nil {
				t.Errorf("Get as %+v = %v, %v; want ErrForbidden", actor, got, err)
			}
		}

		after, err := f.store.GetClient(ctx, c.ID)
		if err != nil {
			t.Fatalf("the client is gone after refused calls: %v", err)
		}
		if diff := cmp.Diff(before, after, cmp.AllowUnexported(oidc.Client{})); diff != "" {
			t.Errorf("refused calls changed the client (-before +after):\n%s", diff)
		}
		if f.hasher.Compare(ctx, after.SecretHash, []byte(secret)) != nil {
			t.Error("refused calls changed the secret")
		}
		list, err := f.store.ListClients(ctx)
		if err != nil || len(list) != 1 {
			t.Errorf("refused calls left %d clients (%v), want 1", len(list), err)
		}
		if n := len(f.entries(t)); n != entries {
			t.Errorf("refused calls wrote %d audit entries", n-entries)
		}
	})
}

// TestAdminServiceActor: a client acting alone with clients:write is
// audited as that client.
func TestAdminServiceActor(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, db *gorm.DB) {
		f := newAdminFixture(t, db)
		svc := identity.Actor{ClientID: "svc-1", Permissions: access.Set{access.ClientsWrite: true}}
		c, _, err := f.admin.Create(t.Context(), svc, webInput())
		if err != nil {
			t.Fatal(err)
		}
		e := f.entries(t)
		if len(e) != 1 || e[0].ActorType != audit.ActorClient || e[0].ActorID != "svc-1" || e[0].Subject != c.ID {
			t.Errorf("audit = %+v, want one entry by client svc-1", e)
		}
		// clients:write alone does not read.
		if _, err := f.admin.List(t.Context(), svc); !errors.Is(err, identity.ErrForbidden) {
			t.Errorf("List with clients:write only = %v, want ErrForbidden", err)
		}
	})
}

// TestAdminRefusesInvalidMetadata: what dynamic registration refuses the
// administrator's path refuses too, naming the field, and writes nothing.
func TestAdminRefusesInvalidMetadata(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, db *gorm.DB) {
		f := newAdminFixture(t, db)
		ctx := t.Context()
		existing, _, err := f.admin.Create(ctx, admin, webInput())
		if err != nil {
			t.Fatal(err)
		}
		before, _ := f.store.GetClient(ctx, existing.ID)
		entries := len(f.entries(t))
		tests := []struct {
			name  string
			edit  func(in *clientreg.ClientInput)
			field string
		}{
			{"http redirect to a public host", func(in *clientreg.ClientInput) { in.RedirectURIs = []string{"http://example.com/cb"} }, "redirect_uris"},
			{"redirect with a fragment", func(in *clientreg.ClientInput) { in.RedirectURIs = []string{"https://example.com/cb#x"} }, "redirect_uris"},
			{"no redirect for the code grant", func(in *clientreg.ClientInput) { in.RedirectURIs = nil }, "redirect_uris"},
			{"unknown grant type", func(in *clientreg.ClientInput) { in.GrantTypes = []string{"password"} }, "grant_types"},
			{"http back-channel logout URI", func(in *clientreg.ClientInput) { in.BackchannelLogoutURI = "http://rp.example.com/logout" }, "backchannel_logout_uri"},
			{"back-channel logout URI on loopback", func(in *clientreg.ClientInput) { in.BackchannelLogoutURI = "https://127.0.0.1/logout" }, "backchannel_logout_uri"},
			{"unknown scope", func(in *clientreg.ClientInput) { in.Scope = "openid everything" }, "scope"},
			{"unknown auth method", func(in *clientreg.ClientInput) { in.TokenEndpointAuthMethod = "tls_client_auth" }, "token_endpoint_auth_method"},
			{"audience with a space", func(in *clientreg.ClientInput) { in.Audience = []string{"https://a.example.com https://b.example.com"} }, "audience"},
			{"empty audience", func(in *clientreg.ClientInput) { in.Audience = []string{""} }, "audience"},
			{"resource audience of no resource server", func(in *clientreg.ClientInput) {
				in.ResourceAudience = []string{"https://api.example.com"}
			}, "resource_audience"},
		}
		for _, tc := range tests {
			t.Run(tc.name, func(t *testing.T) {
				in := webInput()
				tc.edit(&in)
				_, secret, err := f.admin.Create(ctx, admin, in)
				var me *clientreg.MetadataError
				if !errors.As(err, &me) || me.Field != tc.field || secret != "" {
					t.Errorf("Create = %v (field %v), want a *MetadataError about %s", err, me, tc.field)
				}
				_, err = f.admin.Update(ctx, admin, existing.ID, in)
				if !errors.As(err, &me) || me.Field != tc.field {
					t.Errorf("Update = %v, want a *MetadataError about %s", err, tc.field)
				}
			})
		}
		list, _ := f.store.ListClients(ctx)
		after, _ := f.store.GetClient(ctx, existing.ID)
		if len(list) != 1 {
			t.Errorf("refused input left %d clients, want 1", len(list))
		}
		if diff := cmp.Diff(before, after, cmp.AllowUnexported(oidc.Client{})); diff != "" {
			t.Errorf("refused updates changed the client (-before +after):\n%s", diff)
		}
		if n := len(f.entries(t)); n != entries {
			t.Errorf("refused input wrote %d audit entries", n-entries)
		}
	})
}

// TestAdminScopesOnlyForAdministrators: the admin path accepts the admin
// API's scopes; dynamic registration's extra rule (RefuseAdminScopes)
// refuses them, naming the scope field.
func TestAdminScopesOnlyForAdministrators(t *testing.T) {
	for _, p := range access.All() {
		m := clientreg.Metadata{GrantTypes: []string{"client_credentials"}, Scope: string(p)}
		if err := m.Validate(); err != nil {
			t.Errorf("Validate with scope %s = %v; the shared rules allow admin scopes", p, err)
		}
		if me := m.RefuseAdminScopes(); me == nil || me.Field != "scope" {
			t.Errorf("RefuseAdminScopes with scope %s = %v, want a refusal naming scope", p, me)
		}
	}
	dbtest.Each(t, func(t *testing.T, db *gorm.DB) {
		f := newAdminFixture(t, db)
		in := clientreg.ClientInput{Metadata: clientreg.Metadata{GrantTypes: []string{"client_credentials"},
			Scope: "users:read users:write users:admin clients:read clients:write audit:read usage:read"}}
		c, _, err := f.admin.Create(t.Context(), admin, in)
		if err != nil || c.Scope != in.Scope {
			t.Errorf("Create with the admin scopes = %v, %v", c, err)
		}
	})
}

// TestAdminSecretlessClients: a public or private_key_jwt client gets no
// secret and has none to rotate; an update to such a method drops the
// secret.
func TestAdminSecretlessClients(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, db *gorm.DB) {
		f := newAdminFixture(t, db)
		ctx := t.Context()
		public := webInput()
		public.TokenEndpointAuthMethod = oidc.AuthMethodNone
		jwt := clientreg.ClientInput{Metadata: clientreg.Metadata{GrantTypes: []string{"client_credentials"},
			TokenEndpointAuthMethod: oidc.AuthMethodPrivateKeyJWT, JWKS: publicJWKS(t)}}
		for name, in := range map[string]clientreg.ClientInput{"public": public, "private_key_jwt": jwt} {
			c, secret, err := f.admin.Create(ctx, admin, in)
			if err != nil || secret != "" {
				t.Fatalf("Create %s = secret %q, %v; want no secret", name, secret, err)
			}
			if stored, _ := f.store.GetClient(ctx, c.ID); len(stored.SecretHash) != 0 {
				t.Fatalf("Create %s stored a secret", name)
			}
			entries := len(f.entries(t))
			s, err := f.admin.RotateSecret(ctx, admin, c.ID)
			if !errors.Is(err, clientreg.ErrNoSecret) || s != "" {
				t.Errorf("RotateSecret of a %s client = %q, %v; want ErrNoSecret", name, s, err)
			}
			if stored, _ := f.store.GetClient(ctx, c.ID); len(stored.SecretHash) != 0 {
				t.Errorf("RotateSecret stored a secret for a %s client", name)
			}
			if n := len(f.entries(t)); n != entries {
				t.Errorf("a refused rotation wrote %d audit entries", n-entries)
			}
		}

		c, secret, err := f.admin.Create(ctx, admin, webInput())
		if err != nil || secret == "" {
			t.Fatal(err)
		}
		if _, err := f.admin.Update(ctx, admin, c.ID, public); err != nil {
			t.Fatal(err)
		}
		if stored, _ := f.store.GetClient(ctx, c.ID); len(stored.SecretHash) != 0 {
			t.Error("a client made public kept its secret")
		}
	})
}

// TestAdminChangeAndAuditCommitTogether: when the audit entry cannot be
// written, the change is not made either.
func TestAdminChangeAndAuditCommitTogether(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, db *gorm.DB) {
		f := newAdminFixture(t, db)
		ctx := t.Context()
		c, secret, err := f.admin.Create(ctx, admin, webInput())
		if err != nil {
			t.Fatal(err)
		}
		failing := *f.admin
		failing.Audit = recorderFunc(func(ctx context.Context, e audit.Entry) error {
			return errors.New("audit trail unavailable")
		})
		if _, _, err := failing.Create(ctx, admin, webInput()); err == nil {
			t.Error("Create succeeded without its audit entry")
		}
		in := webInput()
		in.ClientName = "Renamed"
		if _, err := failing.Update(ctx, admin, c.ID, in); err == nil {
			t.Error("Update succeeded without its audit entry")
		}
		if _, err := failing.RotateSecret(ctx, admin, c.ID); err == nil {
			t.Error("RotateSecret succeeded without its audit entry")
		}
		if err := failing.Delete(ctx, admin, c.ID); err == nil {
			t.Error("Delete succeeded without its audit entry")
		}
		list, _ := f.store.ListClients(ctx)
		if len(list) != 1 || list[0].ClientName != "Shop" || f.hasher.Compare(ctx, list[0].SecretHash, []byte(secret)) != nil {
			t.Errorf("clients after failed audits = %+v, want the one unchanged", list)
		}
	})
}

type recorderFunc func(ctx context.Context, e audit.Entry) error

func (f recorderFunc) Record(ctx context.Context, e audit.Entry) error { return f(ctx, e) }

func publicJWKS(t testing.TB) json.RawMessage {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	raw, err := json.Marshal(jose.JSONWebKeySet{Keys: []jose.JSONWebKey{{Key: &key.PublicKey, KeyID: "k1", Algorithm: "ES256", Use: "sig"}}})
	if err != nil {
		t.Fatal(err)
	}
	return raw
}

// TestAdminConcurrentChangesKeepEachOther: a secret rotation that starts
// while an update holds the client reads the updated client, so neither
// change writes back what the other replaced (the update's metadata, or
// the rotated secret). PostgreSQL: SQLite runs one writer at a time.
func TestAdminConcurrentChangesKeepEachOther(t *testing.T) {
	db := dbtest.MustOpen(t, "postgres")
	f := newAdminFixture(t, db)
	ctx := t.Context()
	c, _, err := f.admin.Create(ctx, admin, webInput())
	if err != nil {
		t.Fatal(err)
	}

	// The update stops inside its transaction, after reading the client
	// and before writing it, until released.
	held, release := make(chan struct{}), make(chan struct{})
	paused := *f.admin
	paused.Now = func() time.Time {
		close(held)
		<-release
		return adminNow
	}
	in := webInput()
	in.ClientName = "Renamed"
	updated := make(chan error, 1)
	go func() { _, err := paused.Update(ctx, admin, c.ID, in); updated <- err }()
	<-held

	type rotation struct {
		secret string
		err    error
	}
	rotated := make(chan rotation, 1)
	go func() { s, err := f.admin.RotateSecret(ctx, admin, c.ID); rotated <- rotation{s, err} }()
	waitForLockWait(t, db)
	close(release)
	if err := <-updated; err != nil {
		t.Fatalf("Update: %v", err)
	}
	r := <-rotated
	if r.err != nil {
		t.Fatalf("RotateSecret: %v", r.err)
	}
	got, err := f.store.GetClient(ctx, c.ID)
	if err != nil {
		t.Fatal(err)
	}
	if got.ClientName != "Renamed" {
		t.Errorf("client name = %q: the rotation wrote back the metadata it read before the update", got.ClientName)
	}
	if f.hasher.Compare(ctx, got.SecretHash, []byte(r.secret)) != nil {
		t.Error("the rotated secret does not match: the update wrote back the old one")
	}
}

// waitForLockWait returns once a session of db's database waits for a
// lock, and fails the test if none does within five seconds.
func waitForLockWait(t testing.TB, db *gorm.DB) {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	tick := time.NewTicker(10 * time.Millisecond)
	defer tick.Stop()
	for time.Now().Before(deadline) {
		var n int64
		err := db.Raw(`SELECT COUNT(*) FROM pg_stat_activity WHERE datname = current_database() AND wait_event_type = 'Lock'`).Scan(&n).Error
		if err != nil {
			t.Fatal(err)
		}
		if n > 0 {
			return
		}
		<-tick.C
	}
	t.Fatal("the second change never waited for the first one's lock")
}
