package main

import (
	"log/slog"

	"gatehouse/config"
	"gatehouse/identity/egress"
)

// outboundPolicy turns the outbound section into the rules for calls made
// on behalf of clients.
func outboundPolicy(cfg *config.Config) egress.Policy {
	return egress.Policy{AllowPrivateNetworks: cfg.OutboundAllowsPrivateNetworks()}
}

// newEgress builds the one client every call on behalf of a client goes
// through (jwks_uri fetches, back-channel logout).
func newEgress(cfg *config.Config) *egress.Client {
	return egress.New(egress.Options{Policy: outboundPolicy(cfg)})
}

// warnOutbound tells the operator of a server whose outbound rules are
// relaxed.
func warnOutbound(cfg *config.Config, log *slog.Logger) {
	if cfg.OutboundAllowsPrivateNetworks() {
		log.Warn("outbound calls for clients may use http and reach loopback and private addresses; keep outbound.allow_private_networks off in production",
			"development_setup", cfg.DevelopmentMode())
	}
}
