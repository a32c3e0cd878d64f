package main

import (
	"context"
	"errors"
	"time"

	auditsql "gatehouse/identity/audit/sqlstore"
	usagefig "gatehouse/identity/usage"
	usagesql "gatehouse/identity/usage/sqlstore"
	"gatehouse/oidc"
)

// usageEvery is how often the usage worker counts new audit entries and
// flushes the token counts.
const usageEvery = 10 * time.Second

// usageParts are the usage figures' service (read by the admin API) and
// the worker that keeps their aggregates.
type usageParts struct {
	Service *usagefig.Service
	Worker  *usagefig.Worker
	Tokens  *usagefig.Tokens
}

// newUsage builds the usage figures over the App's database; clients
// names the clients of the by-client breakdown.
func newUsage(a *App, clients oidc.ClientStore) usageParts {
	db := a.DB.Gorm()
	store := usagesql.New(db, auditsql.New(db))
	tokens := &usagefig.Tokens{Store: store, Now: time.Now}
	return usageParts{
		Service: &usagefig.Service{Store: store, Clients: clientNames{clients}, MinCell: a.Config.Usage.MinCell, Now: time.Now},
		Worker:  &usagefig.Worker{Store: store, Tokens: tokens, Now: time.Now, Interval: usageEvery, Failed: a.jobFailed},
		Tokens:  tokens,
	}
}

// clientNames names clients for usage reports.
type clientNames struct{ store oidc.ClientStore }

func (n clientNames) ClientName(ctx context.Context, id string) (string, error) {
	c, err := n.store.GetClient(ctx, id)
	if errors.Is(err, oidc.ErrClientNotFound) {
		return "", nil
	}
	if err != nil {
		return "", err
	}
	return c.DisplayName(), nil
}
