package main

import (
	"strings"
	"time"

	identitysql "gatehouse/identity/sqlstore"
	"gatehouse/oidc"
	"gatehouse/oidc/console"
	"gatehouse/templates"
)

// newConsole builds the admin console over the same services as the
// admin API.
func newConsole(a *App, browser *oidc.Browser, pages *templates.Renderer) *console.Handler {
	return &console.Handler{
		Sessions: browser, Users: a.Identity.Accounts, Roles: a.Identity.Roles, Admin: a.Identity.UserAdmin,
		Search: identitysql.NewUserStore(a.DB.Gorm()), UserSessions: a.Sessions, Factors: a.MFA, History: a.Audit,
		Clients: a.Clients, Audit: a.Audit,
		Pages: pages, CSRF: oidc.CSRF(strings.HasPrefix(a.Config.Issuer, "https://")), Logger: a.Logger, Now: time.Now,
		MaxAuthAge: a.Config.Console.MaxAuthAge.Std(), LogoutURL: oidc.PathEndSession,
	}
}
