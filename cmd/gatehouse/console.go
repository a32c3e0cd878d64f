package main

import (
	"context"
	"net/http"
	"strings"
	"time"

	"github.com/labstack/echo/v4"

	"gatehouse/identity/access"

	identitysql "gatehouse/identity/sqlstore"
	"gatehouse/oidc"
	"gatehouse/oidc/console"
	"gatehouse/oidc/usagepage"
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

// mountUsagePage serves the usage dashboard at /admin/usage and its CSV
// behind the console's guard, to whoever holds usage:read (managers and
// admins), and lists it on the console's landing page.
func mountUsagePage(e *echo.Echo, a *App, pages *templates.Renderer) {
	page := &usagepage.Handler{
		Report: a.Usage.Service.Report, Clients: usageClientOptions(a), Pages: pages, Now: time.Now, Logger: a.Logger,
		Nav: func(c echo.Context) *templates.ConsoleNav {
			nav := a.Console.Nav(console.ViewerOf(c), console.PathUsage)
			return &nav
		},
	}
	a.Console.Sections = append(a.Console.Sections, console.Section{ID: "usage", Path: console.PathUsage,
		Label: "Usage", Description: "Sign-ins, sign-ups and active users over time, counts only.", Permission: access.UsageRead})
	a.Console.Route(e, http.MethodGet, usagepage.PathDashboard, access.UsageRead, page.Dashboard)
	a.Console.Route(e, http.MethodGet, usagepage.PathCSV, access.UsageRead, page.CSV)
}

// usageClientOptions lists the clients for the dashboard's filter.
func usageClientOptions(a *App) func(ctx context.Context) ([]usagepage.ClientOption, error) {
	return func(ctx context.Context) ([]usagepage.ClientOption, error) {
		list, err := a.Store.Clients.ListClients(ctx)
		if err != nil {
			return nil, err
		}
		out := make([]usagepage.ClientOption, len(list))
		for i, c := range list {
			out[i] = usagepage.ClientOption{ID: c.ID, Name: c.ClientName}
		}
		return out, nil
	}
}
