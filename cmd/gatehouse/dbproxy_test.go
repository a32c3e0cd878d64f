package main

import (
	"net/url"
	"testing"

	"gatehouse/internal/proxytest"
	"gatehouse/migrations/dbtest"
)

// proxyMode is what a dbProxy does with connections.
type proxyMode = proxytest.Mode

// The modes, as in proxytest.
const (
	forward = proxytest.Forward
	refuse  = proxytest.Refuse
	stall   = proxytest.Stall
)

// dbProxy is a TCP proxy on loopback in front of the test PostgreSQL,
// which a test takes down, stalls and brings back.
type dbProxy struct{ *proxytest.Proxy }

// startDBProxy listens on a free loopback port in the given mode.
func startDBProxy(t testing.TB, mode proxyMode) *dbProxy {
	t.Helper()
	dbtest.RequirePostgres(t)
	u, err := url.Parse(dbtest.PostgresURL())
	if err != nil {
		t.Fatal(err)
	}
	return &dbProxy{proxytest.Start(t, u.Host, mode)}
}

// url returns the database URL u pointed at the proxy.
func (p *dbProxy) url(t testing.TB, raw string) string {
	t.Helper()
	u, err := url.Parse(raw)
	if err != nil {
		t.Fatal(err)
	}
	u.Host = p.Addr()
	return u.String()
}

// set changes the mode; refuse also drops every open connection.
func (p *dbProxy) set(m proxyMode) { p.Set(m) }
