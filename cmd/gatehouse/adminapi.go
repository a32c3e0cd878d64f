package main

import (
	"context"

	"github.com/ory/fosite"

	identitysql "gatehouse/identity/sqlstore"
	"gatehouse/oidc"
	"gatehouse/oidc/adminapi"
)

// adminTokens checks the admin API's bearer tokens with the provider's
// own token machinery: no HTTP round trip.
func adminTokens(p *oidc.Provider) adminapi.TokenVerifier {
	return func(ctx context.Context, raw string) (*adminapi.Token, error) {
		use, ar, err := p.IntrospectToken(ctx, raw, fosite.AccessToken, oidc.NewSession())
		if oidc.Unavailable(ctx, err) {
			return nil, err
		}
		if err != nil || use != fosite.AccessToken {
			return nil, adminapi.ErrInvalidToken
		}
		return &adminapi.Token{ClientID: ar.GetClient().GetID(), Subject: ar.GetSession().GetSubject(), Scopes: ar.GetGrantedScopes()}, nil
	}
}

// newAdminAPI builds the admin API over the App's services.
func newAdminAPI(a *App) *adminapi.Handler {
	return &adminapi.Handler{
		Issuer: a.Config.Issuer, Verify: adminTokens(a.Provider),
		Users: a.Identity.Accounts, Search: identitysql.NewUserStore(a.DB.Gorm()), Roles: a.Identity.Roles, Clients: a.Clients, Audit: a.Audit,
		Outage: a.Outage, Logger: a.Logger,
	}
}
