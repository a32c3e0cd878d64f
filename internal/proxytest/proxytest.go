// Package proxytest is a TCP proxy on loopback for fault tests and the
// load program's fault scenarios: it stands in front of a real server
// (PostgreSQL, Redis) and is made to forward, refuse, stall or go down,
// and counts what clients sent through it.
package proxytest

import (
	"fmt"
	"net"
	"sync"
	"sync/atomic"
	"testing"
)

// Mode is what a Proxy does with connections.
type Mode int

const (
	// Forward passes bytes both ways.
	Forward Mode = iota
	// Refuse drops every connection, open or new: the server is down.
	Refuse
	// Stall accepts connections and holds every byte, open connections'
	// included, until the mode changes: the server has stopped answering
	// (a frozen process, a black-holed network).
	Stall
	// Down closes the listener and every connection: nothing listens on
	// the port, so connecting is refused, as when the server's host is
	// down. Leaving Down listens on the same port again.
	Down
)

// Proxy is a TCP proxy on a free loopback port in front of one server.
type Proxy struct {
	addr   string
	target string

	accepted atomic.Int64
	received atomic.Int64

	mu      sync.Mutex
	ln      net.Listener // nil while Down
	mode    Mode
	changed chan struct{} // closed and replaced at every mode change
	conns   map[net.Conn]struct{}
}

// Start is New for a test: the proxy closes when the test ends.
func Start(t testing.TB, target string, m Mode) *Proxy {
	t.Helper()
	p, err := New(target, m)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(p.Close)
	return p
}

// New takes a free loopback port for a proxy in front of target
// (host:port), in mode m.
func New(target string, m Mode) (*Proxy, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, fmt.Errorf("proxytest: %w", err)
	}
	p := &Proxy{addr: ln.Addr().String(), target: target, mode: Forward, changed: make(chan struct{}), conns: map[net.Conn]struct{}{}, ln: ln}
	go p.accept(ln)
	if err := p.Set(m); err != nil {
		return nil, err
	}
	return p, nil
}

// Close takes the proxy down for good.
func (p *Proxy) Close() { p.Set(Down) }

// Addr returns the proxy's host:port.
func (p *Proxy) Addr() string { return p.addr }

// Accepted returns how many connections clients have opened.
func (p *Proxy) Accepted() int64 { return p.accepted.Load() }

// Received returns how many bytes clients have sent, held ones included.
func (p *Proxy) Received() int64 { return p.received.Load() }

// Set changes the mode; Refuse and Down also drop every open connection.
// The error is that of listening again when leaving Down.
func (p *Proxy) Set(m Mode) error {
	p.mu.Lock()
	defer p.mu.Unlock()
	switch {
	case m == Down && p.ln != nil:
		p.ln.Close()
		p.ln = nil
	case m != Down && p.ln == nil:
		ln, err := net.Listen("tcp", p.addr)
		if err != nil {
			return fmt.Errorf("proxytest: listen again on %s: %w", p.addr, err)
		}
		p.ln = ln
		go p.accept(ln)
	}
	p.mode = m
	close(p.changed)
	p.changed = make(chan struct{})
	if m == Refuse || m == Down {
		for c := range p.conns {
			c.Close()
		}
	}
	return nil
}

// await blocks while the mode is Stall and returns the mode it left for.
func (p *Proxy) await() Mode {
	for {
		p.mu.Lock()
		m, ch := p.mode, p.changed
		p.mu.Unlock()
		if m != Stall {
			return m
		}
		<-ch
	}
}

// track records c for Refuse to close; it reports false, closing c, when
// the proxy is refusing.
func (p *Proxy) track(c net.Conn) bool {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.mode == Refuse || p.mode == Down {
		c.Close()
		return false
	}
	p.conns[c] = struct{}{}
	return true
}

func (p *Proxy) untrack(c net.Conn) {
	p.mu.Lock()
	delete(p.conns, c)
	p.mu.Unlock()
	c.Close()
}

func (p *Proxy) accept(ln net.Listener) {
	for {
		client, err := ln.Accept()
		if err != nil {
			return
		}
		p.accepted.Add(1)
		go p.serve(client)
	}
}

func (p *Proxy) serve(client net.Conn) {
	if !p.track(client) {
		return
	}
	defer p.untrack(client)
	if p.await() != Forward {
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
	go func() { p.pipe(server, client, &p.received); done <- struct{}{} }()
	go func() { p.pipe(client, server, nil); done <- struct{}{} }()
	<-done
}

// pipe copies src to dst, holding each chunk while the proxy stalls, and
// adds what it reads to count (when not nil).
func (p *Proxy) pipe(dst, src net.Conn, count *atomic.Int64) {
	defer dst.Close()
	defer src.Close()
	buf := make([]byte, 32<<10)
	for {
		n, err := src.Read(buf)
		if n > 0 {
			if count != nil {
				count.Add(int64(n))
			}
			if p.await() != Forward {
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
