package main

import (
	"io"
	"net/http"
	"syscall"
	"testing"
	"time"

	"gatehouse/config"
	"gatehouse/migrations/dbtest"
)

// TestShutdownDrains: for http.shutdown_delay after SIGTERM the server
// still answers, tells load balancers it is leaving (/readyz 503) and
// closes each connection after its answer, so that a request already on
// its way over a kept-alive connection is read and answered rather than
// meeting a connection closed by the shutdown.
func TestShutdownDrains(t *testing.T) {
	cfg := processConfig(t, dbtest.MustMigratedURL(t, "sqlite"))
	// Long enough for the requests below however slow the machine: the
	// test ends the wait as soon as it has seen what it needs.
	cfg.HTTP.ShutdownDelay = config.Duration(20 * time.Second)
	cfg.HTTP.ShutdownTimeout = config.Duration(30 * time.Second)
	p := startProcess(t, cfg)

	client := &http.Client{Transport: &http.Transport{}}
	get := func(path string) *http.Response {
		t.Helper()
		resp, err := client.Get(p.URL + path)
		if err != nil {
			t.Fatalf("GET %s: %v", path, err)
		}
		io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
		return resp
	}
	if resp := get("/readyz"); resp.StatusCode != http.StatusOK || resp.Close {
		t.Fatalf("before SIGTERM: /readyz %d, Connection: close %v; want 200 on a kept-alive connection", resp.StatusCode, resp.Close)
	}
	if err := p.cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	if !p.stderr.waitFor(`"msg":"draining before shutdown"`, p.ended) {
		t.Fatalf("no drain after SIGTERM:\n%s", p.stderr.String())
	}
	if resp := get("/readyz"); resp.StatusCode != http.StatusServiceUnavailable {
		t.Errorf("draining: /readyz %d, want 503", resp.StatusCode)
	}
	resp := get("/.well-known/openid-configuration")
	if resp.StatusCode != http.StatusOK || !resp.Close {
		t.Errorf("draining: discovery %d, Connection: close %v; want 200 and the connection closed after it", resp.StatusCode, resp.Close)
	}
	p.cmd.Process.Kill()
	<-p.ended
}
