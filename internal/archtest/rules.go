package archtest

// A rule is about the imports of some packages (Imports). Either only
// OnlyFrom may import them, or NotFrom must not; the packages named in
// Except may, whatever the rest says.
//
// A pattern is an import path, "path/..." for it and everything under it,
// or ".../name" for every package whose path ends in the element name.
type rule struct {
	Why      string
	Imports  []string
	OnlyFrom []string
	NotFrom  []string
	Except   []string
}

// rules are the architecture's import rules (README, "Architecture").
var rules = []rule{
	{
		Why:     "cmd is the composition root: it wires the packages, nothing builds on it",
		Imports: []string{"gatehouse/cmd/..."},
		// Nobody may: an empty OnlyFrom with no NotFrom.
		OnlyFrom: []string{},
	},
	{
		Why:      "only the composition root reads configuration; packages take constructor inputs",
		Imports:  []string{"gatehouse/config"},
		OnlyFrom: []string{"gatehouse/cmd/..."},
	},
	{
		Why:     "identity is the domain: protocols (oidc) and upstream logins (federation) build on it, not the reverse",
		Imports: []string{"gatehouse/oidc/...", "gatehouse/federation/..."},
		NotFrom: []string{"gatehouse/identity/..."},
	},
	{
		Why:      "gorm is a storage detail: only the stores (sqlstore packages) and migrations, which opens the database, use it",
		Imports:  []string{"gorm.io/..."},
		OnlyFrom: []string{".../sqlstore", "gatehouse/migrations/..."},
	},
	{
		Why:      "fosite and go-jose v3 (which fosite needs) stay inside the OAuth provider and its store",
		Imports:  []string{"github.com/ory/fosite/...", "github.com/go-jose/go-jose/v3/..."},
		OnlyFrom: []string{"gatehouse/oidc", "gatehouse/oidc/sqlstore"},
	},
	{
		Why:      "WebAuthn is a kind of second factor: go-webauthn stays in the domain package that owns factors, pages and the sign-in call it",
		Imports:  []string{"github.com/go-webauthn/..."},
		OnlyFrom: []string{"gatehouse/identity/mfa"},
	},
	{
		Why:      "the OpenAPI tooling serves the admin API's document: the generated code and the request validator stay in its package",
		Imports:  []string{"github.com/getkin/kin-openapi/...", "github.com/oapi-codegen/..."},
		OnlyFrom: []string{"gatehouse/oidc/adminapi"},
	},
	{
		Why:     "federation brokers upstream logins into identity; the protocol (oidc) builds on it, not the reverse",
		Imports: []string{"gatehouse/oidc/..."},
		NotFrom: []string{"gatehouse/federation/..."},
	},
	{
		Why:      "LDAP is one connector's detail: go-ldap stays in federation/ldap and its test directory",
		Imports:  []string{"github.com/go-ldap/..."},
		OnlyFrom: []string{"gatehouse/federation/ldap/..."},
	},
}
