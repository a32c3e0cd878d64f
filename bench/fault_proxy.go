package main

import (
	"fmt"
	"io"
	"net"
	"sync"
)

// dbProxy is a TCP proxy on a loopback port in front of PostgreSQL that a
// fault scenario takes down and brings back. Down, nothing listens on its
// port, so connecting is refused as when the database host is down, and
// every connection it carried is closed at once.
type dbProxy struct {
	addr   string // the loopback address it listens on while up
	target string

	mu    sync.Mutex
	ln    net.Listener // nil while down
	conns map[net.Conn]struct{}
	wg    sync.WaitGroup
}

// newDBProxy reserves a loopback port for a proxy to target and listens
// on it if up.
func newDBProxy(target string, up bool) (*dbProxy, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, fmt.Errorf("bench: database proxy: %w", err)
	}
	p := &dbProxy{addr: ln.Addr().String(), target: target, conns: map[net.Conn]struct{}{}}
	if !up {
		ln.Close()
		return p, nil
	}
	p.ln = ln
	p.wg.Go(func() { p.accept(ln) })
	return p, nil
}

// setUp brings the proxy up (listening again on its port) or takes it
// down (closing the listener and every connection).
func (p *dbProxy) setUp(up bool) error {
	p.mu.Lock()
	defer p.mu.Unlock()
	if up == (p.ln != nil) {
		return nil
	}
	if !up {
		p.ln.Close()
		p.ln = nil
		for c := range p.conns {
			c.Close()
		}
		return nil
	}
	ln, err := net.Listen("tcp", p.addr)
	if err != nil {
		return fmt.Errorf("bench: database proxy: listen again on %s: %w", p.addr, err)
	}
	p.ln = ln
	p.wg.Go(func() { p.accept(ln) })
	return nil
}

// close takes the proxy down for good and waits for its goroutines.
func (p *dbProxy) close() {
	p.setUp(false)
	p.wg.Wait()
}

func (p *dbProxy) accept(ln net.Listener) {
	for {
		c, err := ln.Accept()
		if err != nil {
			return
		}
		p.wg.Go(func() { p.serve(c) })
	}
}

// track records c so that taking the proxy down closes it; it reports
// false, closing c, when the proxy went down meanwhile.
func (p *dbProxy) track(c net.Conn) bool {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.ln == nil {
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

func (p *dbProxy) serve(client net.Conn) {
	if !p.track(client) {
		return
	}
	defer p.untrack(client)
	server, err := net.Dial("tcp", p.target)
	if err != nil {
		return
	}
	if !p.track(server) {
		return
	}
	defer p.untrack(server)
	done := make(chan struct{}, 2)
	go func() { io.Copy(server, client); server.Close(); done <- struct{}{} }()
	go func() { io.Copy(client, server); client.Close(); done <- struct{}{} }()
	<-done
	<-done
}
