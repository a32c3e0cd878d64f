package config

// Outbound sets the rules for the calls Gatehouse makes on behalf of
// clients: fetching a client's jwks_uri and posting back-channel logout
// tokens (later webhooks and request URIs). They always go through one
// guarded HTTP client; see the egress package.
type Outbound struct {
	// AllowPrivateNetworks lets those calls use http and reach loopback,
	// private and link-local addresses, and lets clients register such
	// URLs. It is for development and tests against local servers; in
	// production a client could otherwise make the server call into its
	// own network (server-side request forgery). The development setup
	// (no master key) turns it on by itself.
	AllowPrivateNetworks bool `yaml:"allow_private_networks"`
}

// OutboundAllowsPrivateNetworks reports whether outbound calls may use
// http and reach loopback and private addresses: when configured, and
// always in the zero-configuration development setup, where the relying
// parties being developed run on the same machine.
func (c *Config) OutboundAllowsPrivateNetworks() bool {
	return c.Outbound.AllowPrivateNetworks || c.DevelopmentMode()
}
