package oidc

import (
	"context"
	"errors"
	"sort"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/ory/fosite"
)

const providerTestIssuer = "https://id.example.com"

// memClientStore is a ClientStore in a map that counts GetClient calls.
// Like a database it hands out copies. getErr, when set, fails GetClient.
type memClientStore struct {
	mu      sync.Mutex
	clients map[string]*Client
	gets    int
	getErr  error
}

var _ ClientStore = (*memClientStore)(nil)

func newMemClientStore(clients ...*Client) *memClientStore {
	s := &memClientStore{clients: map[string]*Client{}}
	for _, c := range clients {
		s.clients[c.ID] = c
	}
	return s
}

func (s *memClientStore) CreateClient(_ context.Context, c *Client) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	cp := *c
	s.clients[c.ID] = &cp
	return nil
}

func (s *memClientStore) GetClient(_ context.Context, id string) (*Client, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.gets++
	if s.getErr != nil {
		return nil, s.getErr
	}
	c, ok := s.clients[id]
	if !ok {
		return nil, ErrClientNotFound
	}
	cp := *c
	return &cp, nil
}

func (s *memClientStore) UpdateClient(ctx context.Context, c *Client) error {
	s.mu.Lock()
	_, ok := s.clients[c.ID]
	s.mu.Unlock()
	if !ok {
		return ErrClientNotFound
	}
	return s.CreateClient(ctx, c)
}

func (s *memClientStore) DeleteClient(_ context.Context, id string) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	delete(s.clients, id)
	return nil
}

func (s *memClientStore) ListClients(context.Context) ([]*Client, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	var out []*Client
	for _, c := range s.clients {
		cp := *c
		out = append(out, &cp)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].ID < out[j].ID })
	return out, nil
}

func (s *memClientStore) getCount() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.gets
}

func TestClientCacheTTL(t *testing.T) {
	ctx := t.Context()
	store := newMemClientStore(&Client{ID: "app", ClientMetadata: ClientMetadata{ClientName: "App v1"}, Audience: []string{"https://api.example.com"}})
	clock := newStepClock()
	cache := &ClientCache{Store: store, TTL: time.Minute, Now: clock.Now, Issuer: providerTestIssuer}

	get := func(wantGets int, wantName string) {
		t.Helper()
		c, err := cache.Get(ctx, "app")
		if err != nil {
			t.Fatalf("Get: %v", err)
		}
		if c.ClientName != wantName {
			t.Errorf("Get returned %q, want %q", c.ClientName, wantName)
		}
		if n := store.getCount(); n != wantGets {
			t.Errorf("store was asked %d times, want %d", n, wantGets)
		}
	}

	get(1, "App v1")
	get(1, "App v1")
	if fc, err := cache.GetClient(ctx, "app"); err != nil || fc.GetID() != "app" || store.getCount() != 1 {
		t.Errorf("GetClient = %v, %v after %d store calls; want the cached client", fc, err, store.getCount())
	}

	if err := store.UpdateClient(ctx, &Client{ID: "app", ClientMetadata: ClientMetadata{ClientName: "App v2"}}); err != nil {
		t.Fatal(err)
	}
	clock.Advance(time.Minute - time.Second)
	get(1, "App v1") // still within TTL: the change is not seen yet
	clock.Advance(2 * time.Second)
	get(2, "App v2") // past TTL: refetched
	get(2, "App v2")

	if err := store.UpdateClient(ctx, &Client{ID: "app", ClientMetadata: ClientMetadata{ClientName: "App v3"}}); err != nil {
		t.Fatal(err)
	}
	cache.Forget("app")
	get(3, "App v3") // Forget forces a refetch within TTL
	get(3, "App v3")
}

func TestClientCacheAudience(t *testing.T) {
	store := newMemClientStore(&Client{ID: "app", Audience: []string{"https://api.example.com"}})
	cache := &ClientCache{Store: store, TTL: time.Minute, Now: newStepClock().Now, Issuer: providerTestIssuer}
	c, err := cache.Get(t.Context(), "app")
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(fosite.Arguments{"https://api.example.com", providerTestIssuer}, c.GetAudience()); diff != "" {
		t.Errorf("GetAudience mismatch (-want +got):\n%s", diff)
	}
	if diff := cmp.Diff([]string{"https://api.example.com"}, c.Audience); diff != "" {
		t.Errorf("the cache changed the registered audience (-want +got):\n%s", diff)
	}
}

func TestClientCacheErrors(t *testing.T) {
	ctx := t.Context()
	store := newMemClientStore()
	cache := &ClientCache{Store: store, TTL: time.Minute, Now: newStepClock().Now}

	_, err := cache.Get(ctx, "nobody")
	if !errors.Is(err, fosite.ErrNotFound) || !errors.Is(err, ErrClientNotFound) {
		t.Errorf("Get(unknown): err = %v, want both fosite.ErrNotFound and ErrClientNotFound", err)
	}
	if _, err := cache.GetClient(ctx, "nobody"); !errors.Is(err, fosite.ErrNotFound) {
		t.Errorf("GetClient(unknown): err = %v, want fosite.ErrNotFound", err)
	}

	// An unknown client is not cached: once it is created it is found.
	if err := store.CreateClient(ctx, &Client{ID: "nobody"}); err != nil {
		t.Fatal(err)
	}
	if _, err := cache.Get(ctx, "nobody"); err != nil {
		t.Errorf("Get after the client was created: %v", err)
	}

	down := errors.New("database is down")
	store.getErr = down
	_, err = cache.Get(ctx, "other")
	if !errors.Is(err, down) || errors.Is(err, fosite.ErrNotFound) {
		t.Errorf("Get with a failing store: err = %v, want the store's error and not ErrNotFound", err)
	}
}

func TestGrantAudience(t *testing.T) {
	p := &Provider{Issuer: providerTestIssuer}
	tests := []struct {
		name      string
		client    fosite.Client
		requested []string
		granted   []string // already granted, as on a refresh
		want      fosite.Arguments
	}{
		{"requested granted as is", &Client{ID: "app"}, []string{"https://api.example.com", "https://b.example.com"}, nil,
			fosite.Arguments{"https://api.example.com", "https://b.example.com"}},
		{"requested wins over registered", &Client{ID: "app", Audience: []string{"https://registered.example.com"}}, []string{"https://api.example.com"}, nil,
			fosite.Arguments{"https://api.example.com"}},
		{"none requested: the issuer", &Client{ID: "app"}, nil, nil,
			fosite.Arguments{providerTestIssuer}},
		{"none requested: the registered audience", &Client{ID: "app", Audience: []string{"https://api.example.com", "https://b.example.com"}}, nil, nil,
			fosite.Arguments{"https://api.example.com", "https://b.example.com"}},
		{"already granted kept", &Client{ID: "app"}, nil, []string{"https://api.example.com"},
			fosite.Arguments{"https://api.example.com"}},
		{"requested twice granted once", &Client{ID: "app"}, []string{"https://api.example.com", "https://api.example.com"}, nil,
			fosite.Arguments{"https://api.example.com"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			r := fosite.NewAccessRequest(NewSession())
			r.Client = tc.client
			r.RequestedAudience = tc.requested
			for _, a := range tc.granted {
				r.GrantAudience(a)
			}
			p.grantAudience(r)
			if diff := cmp.Diff(tc.want, r.GetGrantedAudience()); diff != "" {
				t.Errorf("granted audience mismatch (-want +got):\n%s", diff)
			}
		})
	}
}
