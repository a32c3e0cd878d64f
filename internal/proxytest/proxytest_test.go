package proxytest

import (
	"bufio"
	"errors"
	"io"
	"net"
	"syscall"
	"testing"
)

// startEcho runs a TCP server on loopback that echoes every line.
func startEcho(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ln.Close() })
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			go func() { defer c.Close(); io.Copy(c, c) }()
		}
	}()
	return ln.Addr().String()
}

// roundTrip sends a line over c and returns what comes back.
func roundTrip(c net.Conn, r *bufio.Reader, line string) (string, error) {
	if _, err := io.WriteString(c, line+"\n"); err != nil {
		return "", err
	}
	got, err := r.ReadString('\n')
	return got, err
}

// TestDown: forwarding, the proxy carries bytes both ways; Down, it
// closes the connections it carried and nothing listens on its port, so
// connecting is refused; forwarding again, on the same port, it carries
// new connections.
func TestDown(t *testing.T) {
	p := Start(t, startEcho(t), Forward)

	c, err := net.Dial("tcp", p.Addr())
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	r := bufio.NewReader(c)
	if got, err := roundTrip(c, r, "ping"); err != nil || got != "ping\n" {
		t.Fatalf("through the proxy: %q, %v", got, err)
	}

	if err := p.Set(Down); err != nil {
		t.Fatal(err)
	}
	if _, err := r.ReadString('\n'); !errors.Is(err, io.EOF) && !errors.Is(err, syscall.ECONNRESET) {
		t.Errorf("open connection once down: %v, want it closed", err)
	}
	if c2, err := net.Dial("tcp", p.Addr()); !errors.Is(err, syscall.ECONNREFUSED) {
		if c2 != nil {
			c2.Close()
		}
		t.Errorf("connecting once down: %v, want connection refused", err)
	}

	if err := p.Set(Forward); err != nil {
		t.Fatal(err)
	}
	c3, err := net.Dial("tcp", p.Addr())
	if err != nil {
		t.Fatalf("connecting once up again: %v", err)
	}
	defer c3.Close()
	if got, err := roundTrip(c3, bufio.NewReader(c3), "pong"); err != nil || got != "pong\n" {
		t.Errorf("through the proxy up again: %q, %v", got, err)
	}
}

// TestStartsDown: a proxy made Down refuses until it forwards.
func TestStartsDown(t *testing.T) {
	p := Start(t, startEcho(t), Down)
	if c, err := net.Dial("tcp", p.Addr()); !errors.Is(err, syscall.ECONNREFUSED) {
		if c != nil {
			c.Close()
		}
		t.Fatalf("connecting to a proxy made down: %v, want connection refused", err)
	}
	if err := p.Set(Forward); err != nil {
		t.Fatal(err)
	}
	c, err := net.Dial("tcp", p.Addr())
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	if got, err := roundTrip(c, bufio.NewReader(c), "ping"); err != nil || got != "ping\n" {
		t.Errorf("through the proxy once up: %q, %v", got, err)
	}
}
