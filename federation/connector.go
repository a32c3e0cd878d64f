package federation

import (
	"context"
	"errors"
)

// ErrUnavailable wraps a failure to reach an upstream (a directory that
// is down or too slow). The sign-in page answers "try again later"; it
// never counts as a wrong password.
var ErrUnavailable = errors.New("federation: upstream unavailable")

// Identity is a person as an upstream knows them.
type Identity struct {
	// ConnectorID is the ID of the connector that checked the person.
	ConnectorID string
	// Subject is the person's stable key upstream (an LDAP entry's
	// entryUUID or DN, an OIDC "sub"); with ConnectorID it keys the link.
	Subject       string
	Username      string
	Email         string
	EmailVerified bool
	GivenName     string
	FamilyName    string
	Phone         string
	// Groups are the upstream groups the person belongs to (names or
	// DNs, as the connector's role rules name them).
	Groups []string
	// Roles are the local roles the connector's rules give the person's
	// groups; the broker sets exactly these on every login.
	Roles []string
}

// Connector is an upstream identity source.
type Connector interface {
	// ID is the connector's configured identifier, stable over time: it
	// keys the links of its users.
	ID() string
	// Name is what people see (e.g. "Corporate directory").
	Name() string
}

// PasswordConnector checks a username and password typed on the login
// form (LDAP).
type PasswordConnector interface {
	Connector
	// Login checks username and password upstream. A wrong password, an
	// unknown or disabled user and an empty password are (Identity{},
	// false, nil); an unreachable upstream is an error wrapping
	// ErrUnavailable.
	Login(ctx context.Context, username, password string) (Identity, bool, error)
}

// RedirectConnector signs people in at an upstream provider (OpenID
// Connect, OAuth 2.0 social logins).
type RedirectConnector interface {
	Connector
	// AuthURL is where to send the browser, carrying state, the OIDC
	// nonce and the PKCE challenge of this sign-in, and the address the
	// person gave here as login_hint ("" for none).
	AuthURL(state, nonce, pkceChallenge, loginHint string) (string, error)
	// HandleCallback checks the upstream's answer at the callback (query
	// of the callback request, the PKCE verifier and nonce sent) and
	// returns the person.
	HandleCallback(ctx context.Context, query map[string][]string, pkceVerifier, nonce string) (Identity, error)
}

// TrustedEmails is an optional ability of a Connector: whether its
// verified e-mail addresses may link a first login to an existing local
// account with the same address.
type TrustedEmails interface {
	TrustEmail() bool
}
