package main

import (
	"net"
	"net/url"
	"sync"
	"testing"

	"gatehouse/migrations/dbtest"
)

// proxyMode is what a dbProxy does with connections.
type proxyMode int

const (
	// forward passes bytes both ways.
	forward proxyMode = iota
	// refuse drops every connection, open or new: the database is down.
	refuse
	// stall holds every byte, open connections' included, until the mode
	// changes: the database has stopped answering.
	stall
)

// dbProxy is a TCP proxy on loopback in front of the test PostgreSQL,
// which a test takes down, stalls and brings back.
type dbProxy struct {
	ln     net.Listener
	target string

	mu      sync.Mutex
	mode    proxyMode
	changed chan struct{} // closed and replaced at every mode change
	conns   map[net.Conn]struct{}
}

// startDBProxy listens on a free loopback port in the given mode.
func startDBProxy(t testing.TB, mode proxyMode) *dbProxy {
	t.Helper()
	dbtest.RequirePostgres(t)
	u, err := url.Parse(dbtest.PostgresURL())
	if err != nil {
		t.Fatal(err)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	p := &dbProxy{ln: ln, target: u.Host, mode: mode, changed: make(chan struct{}), conns: map[net.Conn]struct{}{}}
	go p.accept()
	t.Cleanup(func() {
		ln.Close()
		p.set(refuse)
	})
	return p
}

// url returns the database URL u pointed at the proxy.
func (p *dbProxy) url(t testing.TB, raw string) string {
	t.Helper()
	u, err := url.Parse(raw)
	if err != nil {
		t.Fatal(err)
	}
	u.Host = p.ln.Addr().String()
	return u.String()
}

// set changes the mode; refuse also drops every open connection.
func (p *dbProxy) set(m proxyMode) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.mode = m
	close(p.changed)
	p.changed = make(chan struct{})
	if m == refuse {
		for c := range p.conns {
			c.Close()
		}
	}
}

// await blocks while the mode is stall and returns the mode it left for.
func (p *dbProxy) await() proxyMode {
	for {
		p.mu.Lock()
		m, ch := p.mode, p.changed
		p.mu.Unlock()
		if m != stall {
			return m
		}
		<-ch
	}
}

// track records c for refuse to close; it reports false, closing c, when
// the proxy is refusing.
func (p *dbProxy) track(c net.Conn) bool {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.mode == refuse {
		c.Close()
		return false
	}
	p.conns[c] = struct{}{}
	return true
}

func (p *dbProxy) untrack(c net.Conn) {
	p.mu.Lock()
	delete(p.conns, c)
	p.mu.Unlock()
	c.Close()
}

func (p *dbProxy) accept() {
	for {
		client, err := p.ln.Accept()
		if err != nil {
			return
		}
		go p.serve(client)
	}
}

func (p *dbProxy) serve(client net.Conn) {
	if !p.track(client) {
		return
	}
	defer p.untrack(client)
	if p.await() != forward {
		return
	}
	server, err := net.Dial("tcp", p.target)
	if err != nil {
		return
	}
	if !p.track(server) {
		return
	}
	defer p.untrack(server)
	done := make(chan struct{}, 2)
	go func() { p.pipe(server, client); done <- struct{}{} }()
	go func() { p.pipe(client, server); done <- struct{}{} }()
	<-done
}

// pipe copies src to dst, holding each chunk while the proxy stalls.
func (p *dbProxy) pipe(dst, src net.Conn) {
	defer dst.Close()
	defer src.Close()
	buf := make([]byte, 32<<10)
	for {
		n, err := src.Read(buf)
		if n > 0 {
			if p.await() != forward {
				return
			}
			if _, werr := dst.Write(buf[:n]); werr != nil {
				return
			}
		}
		if err != nil {
			return
		}
	}
}
