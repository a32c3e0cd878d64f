package clientreg

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"slices"
	"strconv"
	"strings"
	"time"
	"unicode"

	"github.com/google/uuid"

	"gatehouse/identity"
	"gatehouse/identity/access"
	"gatehouse/identity/audit"
	"gatehouse/identity/egress"
	"gatehouse/oidc"
)

// Admin manages OAuth clients for administrators: the command line, the
// admin API and the console all call it, so every rule about an
// administrator's client lives here and nowhere in an HTTP layer. Reading
// needs clients:read, changing clients:write; every change commits in one
// transaction with its audit entry.
//
// The metadata is held to the rules of dynamic registration
// (Metadata.ValidateFor under the same outbound policy), with one
// difference: an administrator may let a client ask for the admin API's
// scopes (access.All), which no client can register for itself.
type Admin struct {
	// Clients stores the clients.
	Clients AdminStore
	// Hasher hashes client secrets: the provider's ClientSecretsHasher,
	// the one the token endpoint compares with.
	Hasher SecretHasher
	// Cache is told to forget a client that changed (the provider's
	// client cache); nil when nothing caches clients.
	Cache ClientForgetter
	// Tx runs a change and its audit entry in one transaction.
	Tx identity.Transactor
	// Audit records every change; required.
	Audit oidc.AuditRecorder
	// Outbound is the policy the URLs the server calls (jwks_uri,
	// backchannel_logout_uri) must meet, as for dynamic registration.
	Outbound egress.Policy
	Now      func() time.Time
}

// AdminStore is what Admin needs of the client storage;
// *sqlstore.Clients is one.
type AdminStore interface {
	oidc.ClientStore
	// LockClient is GetClient that also locks the client until the
	// transaction ctx carries ends: a change reads, modifies and writes
	// the whole client, and must not write back a secret or metadata
	// another change replaced meanwhile.
	LockClient(ctx context.Context, id string) (*oidc.Client, error)
}

// SecretHasher hashes a client secret for storage.
type SecretHasher interface {
	// Hash returns the stored form of a secret.
	Hash(ctx context.Context, secret []byte) ([]byte, error)
}

// ClientForgetter drops a client from a cache; *oidc.ClientCache is one.
type ClientForgetter interface {
	// Forget drops the client with id, so its next lookup reads the store.
	Forget(id string)
}

// ClientInput is what an administrator sets on a client. Create and
// Update take all of it: Update replaces every value, like RFC 7592 §2.2,
// and an omitted metadata value gets the default Metadata.ValidateFor
// gives it.
type ClientInput struct {
	Metadata
	// FirstParty skips the consent page.
	FirstParty bool
	// Audience is the resources the client may ask tokens for.
	Audience []string
	// ResourceServer lets the client introspect tokens whose audience
	// holds its ID or one of ResourceAudience.
	ResourceServer bool
	// ResourceAudience names this resource server; it requires
	// ResourceServer.
	ResourceAudience []string
}

// InputOf returns what an administrator set on c: the starting point for
// changing some of it with Update.
func InputOf(c *oidc.Client) ClientInput {
	return ClientInput{
		Metadata: MetadataOf(c), FirstParty: c.FirstParty, Audience: slices.Clone(c.Audience),
		ResourceServer: c.ResourceServer, ResourceAudience: slices.Clone(c.ResourceAudience),
	}
}

// The clients Admin returns carry neither the secret's hash nor the
// registration access token's (SecretHash, RegistrationTokenHash are
// empty): nothing outside needs them, and a caller that encodes a client
// cannot leak them.

// Errors of Admin. An unknown client is ErrNotFound; a refused actor
// identity.ErrForbidden; bad input a *MetadataError naming its field.
var (
	// ErrNotFound is oidc.ErrClientNotFound, the store's own sentinel.
	ErrNotFound = oidc.ErrClientNotFound
	// ErrNoSecret: the client authenticates without a shared secret
	// (token_endpoint_auth_method none or private_key_jwt), so there is
	// none to rotate.
	ErrNoSecret = errors.New("clientreg: the client authenticates without a client secret")
)

// maxAudienceLen bounds one audience value, in bytes.
const maxAudienceLen = 2000

// List returns every client, ordered by ID.
func (s *Admin) List(ctx context.Context, actor identity.Actor) ([]*oidc.Client, error) {
	if !actor.Can(access.ClientsRead) {
		return nil, identity.ErrForbidden
	}
	list, err := s.Clients.ListClients(ctx)
	if err != nil {
		return nil, fmt.Errorf("clientreg: list clients: %w", err)
	}
	for i, c := range list {
		list[i] = withoutHashes(c)
	}
	return list, nil
}

// Get returns the client with id, or ErrNotFound.
func (s *Admin) Get(ctx context.Context, actor identity.Actor, id string) (*oidc.Client, error) {
	if !actor.Can(access.ClientsRead) {
		return nil, identity.ErrForbidden
	}
	c, err := s.Clients.GetClient(ctx, id)
	if err != nil {
		return nil, fmt.Errorf("clientreg: get client %q: %w", id, err)
	}
	return withoutHashes(c), nil
}

// Create registers a client and returns it with its secret in the clear,
// shown this once: only its hash is stored. A client that authenticates
// without a shared secret (none, private_key_jwt) gets "".
func (s *Admin) Create(ctx context.Context, actor identity.Actor, in ClientInput) (*oidc.Client, string, error) {
	if !actor.Can(access.ClientsWrite) {
		return nil, "", identity.ErrForbidden
	}
	if err := s.validate(&in); err != nil {
		return nil, "", err
	}
	now := s.Now().UTC()
	c := &oidc.Client{ID: uuid.NewString(), CreatedAt: now, UpdatedAt: now, LastUsedAt: now}
	in.applyTo(c)
	secret := ""
	if usesSecret(c) {
		var err error
		if secret, c.SecretHash, err = s.newSecret(ctx); err != nil {
			return nil, "", err
		}
	}
	err := s.Tx.Run(ctx, func(ctx context.Context) error {
		if err := s.Clients.CreateClient(ctx, c); err != nil {
			return err
		}
		return s.record(ctx, actor, audit.ActionClientCreated, c, describe(c))
	})
	if err != nil {
		return nil, "", fmt.Errorf("clientreg: create client: %w", err)
	}
	return withoutHashes(c), secret, nil
}

// Update replaces the client's metadata, first-party flag, audiences and
// resource-server settings with in; its ID, secret and registration
// access token stay. A client moved to none or private_key_jwt loses its
// secret. One moved from those to client_secret_basic or _post has no
// secret, and so cannot authenticate, until RotateSecret gives it one.
func (s *Admin) Update(ctx context.Context, actor identity.Actor, id string, in ClientInput) (*oidc.Client, error) {
	if !actor.Can(access.ClientsWrite) {
		return nil, identity.ErrForbidden
	}
	if err := s.validate(&in); err != nil {
		return nil, err
	}
	var out *oidc.Client
	err := s.Tx.Run(ctx, func(ctx context.Context) error {
		c, err := s.Clients.LockClient(ctx, id)
		if err != nil {
			return err
		}
		in.applyTo(c)
		if !usesSecret(c) {
			c.SecretHash = nil
		}
		c.UpdatedAt = s.Now().UTC()
		if err := s.Clients.UpdateClient(ctx, c); err != nil {
			return err
		}
		out = c
		return s.record(ctx, actor, audit.ActionClientUpdated, c, describe(c))
	})
	s.forget(id)
	if err != nil {
		return nil, fmt.Errorf("clientreg: update client %q: %w", id, err)
	}
	return withoutHashes(out), nil
}

// RotateSecret gives the client a new secret and returns it, shown this
// once; the old one stops working at once on this instance, and within
// the client cache's lifetime on others. A client without a shared secret
// returns ErrNoSecret.
func (s *Admin) RotateSecret(ctx context.Context, actor identity.Actor, id string) (string, error) {
	if !actor.Can(access.ClientsWrite) {
		return "", identity.ErrForbidden
	}
	secret, hash, err := s.newSecret(ctx)
	if err != nil {
		return "", err
	}
	err = s.Tx.Run(ctx, func(ctx context.Context) error {
		c, err := s.Clients.LockClient(ctx, id)
		if err != nil {
			return err
		}
		if !usesSecret(c) {
			return fmt.Errorf("%w (token_endpoint_auth_method %q)", ErrNoSecret, c.TokenEndpointAuthMethod)
		}
		c.SecretHash, c.UpdatedAt = hash, s.Now().UTC()
		if err := s.Clients.UpdateClient(ctx, c); err != nil {
			return err
		}
		return s.record(ctx, actor, audit.ActionClientSecretRotated, c, audit.Details{"client_name": c.ClientName})
	})
	s.forget(id)
	if err != nil {
		return "", fmt.Errorf("clientreg: rotate secret of client %q: %w", id, err)
	}
	return secret, nil
}

// Delete removes the client with every code, token and consent issued to
// it (oidc.ClientStore.DeleteClient). JWT access tokens already out stay
// valid to whoever checks them offline until they expire.
func (s *Admin) Delete(ctx context.Context, actor identity.Actor, id string) error {
	if !actor.Can(access.ClientsWrite) {
		return identity.ErrForbidden
	}
	err := s.Tx.Run(ctx, func(ctx context.Context) error {
		c, err := s.Clients.LockClient(ctx, id)
		if err != nil {
			return err
		}
		if err := s.Clients.DeleteClient(ctx, id); err != nil {
			return err
		}
		return s.record(ctx, actor, audit.ActionClientDeleted, c, audit.Details{"client_name": c.ClientName})
	})
	s.forget(id)
	if err != nil {
		return fmt.Errorf("clientreg: delete client %q: %w", id, err)
	}
	return nil
}

// validate checks in as dynamic registration would, plus the values only
// an administrator sets, and normalises it.
func (s *Admin) validate(in *ClientInput) error {
	if err := in.Metadata.ValidateFor(s.Outbound); err != nil {
		return err
	}
	var err *MetadataError
	if in.Audience, err = checkAudience("audience", in.Audience); err != nil {
		return err
	}
	if in.ResourceAudience, err = checkAudience("resource_audience", in.ResourceAudience); err != nil {
		return err
	}
	if len(in.ResourceAudience) > 0 && !in.ResourceServer {
		return invalidField("resource_audience", "resource_audience requires resource_server")
	}
	return nil
}

// checkAudience refuses empty values and values with spaces or control
// characters (audiences are stored and sent space-separated), and drops
// repeats.
func checkAudience(field string, values []string) ([]string, *MetadataError) {
	var out []string
	for _, v := range values {
		if v == "" || len(v) > maxAudienceLen || strings.IndexFunc(v, func(r rune) bool {
			return unicode.IsSpace(r) || unicode.IsControl(r)
		}) >= 0 {
			return nil, invalidField(field, "%s %q must be a non-empty value without spaces, of at most %d bytes", field, v, maxAudienceLen)
		}
		if !slices.Contains(out, v) {
			out = append(out, v)
		}
	}
	return out, nil
}

// applyTo sets everything in holds on c; the ID, secret, registration
// token and timestamps stay.
func (in *ClientInput) applyTo(c *oidc.Client) {
	in.Metadata.Apply(c)
	c.FirstParty = in.FirstParty
	c.Audience = slices.Clone(in.Audience)
	c.ResourceServer = in.ResourceServer
	c.ResourceAudience = slices.Clone(in.ResourceAudience)
}

func (s *Admin) newSecret(ctx context.Context) (secret string, hash []byte, err error) {
	secret = oidc.NewSecret()
	if hash, err = s.Hasher.Hash(ctx, []byte(secret)); err != nil {
		return "", nil, fmt.Errorf("clientreg: hash secret: %w", err)
	}
	return secret, hash, nil
}

func (s *Admin) forget(id string) {
	if s.Cache != nil {
		s.Cache.Forget(id)
	}
}

// record appends the audit entry of a change, in the transaction ctx
// carries, with the request's address and ID when the caller put them in
// ctx (oidc.WithAuditRequest).
func (s *Admin) record(ctx context.Context, actor identity.Actor, action string, c *oidc.Client, d audit.Details) error {
	actorType, actorID := actor.AuditIdentity()
	e := audit.Entry{ActorType: actorType, ActorID: actorID, Subject: c.ID, Action: action,
		Outcome: audit.OutcomeSuccess, Details: d}
	return s.Audit.Record(ctx, oidc.AuditRequest(ctx, e))
}

// describe is what the audit trail keeps of a created or updated client:
// what it may do, never its secret. Empty values are left out.
func describe(c *oidc.Client) audit.Details {
	d := audit.Details{
		"client_name": c.ClientName, "grant_types": strings.Join(c.GrantTypes, " "), "scope": c.Scope,
		"auth_method": c.TokenEndpointAuthMethod, "redirect_uris": strings.Join(c.RedirectURIs, " "),
		"first_party": strconv.FormatBool(c.FirstParty), "audience": strings.Join(c.Audience, " "),
		"resource_server": strconv.FormatBool(c.ResourceServer), "resource_audience": strings.Join(c.ResourceAudience, " "),
	}
	maps.DeleteFunc(d, func(_, v string) bool { return v == "" })
	return d
}

// withoutHashes returns a copy of c without the hashes of its secret and
// registration access token.
func withoutHashes(c *oidc.Client) *oidc.Client {
	cp := *c
	cp.SecretHash, cp.RegistrationTokenHash = nil, nil
	return &cp
}

// usesSecret reports whether c authenticates with a shared secret.
func usesSecret(c *oidc.Client) bool {
	return c.TokenEndpointAuthMethod == oidc.AuthMethodBasic || c.TokenEndpointAuthMethod == oidc.AuthMethodPost
}
