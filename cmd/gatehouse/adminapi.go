package main

import (
	identitysql "gatehouse/identity/sqlstore"
	"gatehouse/oidc/adminapi"
)

// newAdminAPI builds the admin API over the App's services.
func newAdminAPI(a *App) *adminapi.Handler {
	return &adminapi.Handler{
		Issuer: a.Config.Issuer, Verify: a.Provider,
		Users: a.Identity.Accounts, Search: identitysql.NewUserStore(a.DB.Gorm()), Admin: a.Identity.UserAdmin, Roles: a.Identity.Roles, Clients: a.Clients, Audit: a.Audit,
		Usage: a.Usage.Service, Outage: a.Outage, Logger: a.Logger,
	}
}
