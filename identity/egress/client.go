package egress

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/netip"
	"strconv"
	"syscall"
	"time"
)

// Defaults for the zero fields of Options.
const (
	DefaultTimeout      = 15 * time.Second
	DefaultMaxBodyBytes = 1 << 20
)

// Fixed limits of every call.
const (
	connectTimeout        = 5 * time.Second
	tlsHandshakeTimeout   = 5 * time.Second
	responseHeaderTimeout = 10 * time.Second
	maxResponseHeaderSize = 64 << 10
)

// ErrResponseTooLarge is returned while reading a response body past the
// cap.
var ErrResponseTooLarge = errors.New("egress: response body too large")

// Options configure a Client.
type Options struct {
	Policy
	// Timeout bounds a whole call, reading the body included
	// (DefaultTimeout when zero).
	Timeout time.Duration
	// MaxBodyBytes caps a response body (DefaultMaxBodyBytes when zero).
	MaxBodyBytes int64
	// Resolve, when set, replaces DNS: tests map names to loopback
	// addresses with it.
	Resolve func(ctx context.Context, host string) ([]netip.Addr, error)
	// TLSConfig, when set, is the TLS configuration: tests trust a test
	// server's certificate with it.
	TLSConfig *tls.Config
}

// Client makes outbound calls under a Policy. It is safe for concurrent
// use; build one per process and share it.
type Client struct {
	policy  Policy
	resolve func(ctx context.Context, host string) ([]netip.Addr, error)
	http    *http.Client
}

// New returns a Client with opts' rules.
func New(opts Options) *Client {
	c := &Client{policy: opts.Policy, resolve: opts.Resolve}
	if c.resolve == nil {
		c.resolve = func(ctx context.Context, host string) ([]netip.Addr, error) {
			return net.DefaultResolver.LookupNetIP(ctx, "ip", host)
		}
	}
	tlsConfig := &tls.Config{MinVersion: tls.VersionTLS12}
	if opts.TLSConfig != nil {
		tlsConfig = opts.TLSConfig.Clone()
	}
	transport := &http.Transport{
		Proxy:                  nil, // the rules apply to the real peer, never a proxy from the environment
		DialContext:            c.dial,
		TLSClientConfig:        tlsConfig,
		TLSHandshakeTimeout:    tlsHandshakeTimeout,
		ResponseHeaderTimeout:  responseHeaderTimeout,
		MaxResponseHeaderBytes: maxResponseHeaderSize,
		ForceAttemptHTTP2:      true,
		MaxIdleConns:           100,
		IdleConnTimeout:        90 * time.Second,
	}
	maxBody := opts.MaxBodyBytes
	if maxBody <= 0 {
		maxBody = DefaultMaxBodyBytes
	}
	timeout := opts.Timeout
	if timeout <= 0 {
		timeout = DefaultTimeout
	}
	c.http = &http.Client{
		Transport: &guard{policy: c.policy, next: transport, maxBody: maxBody},
		Timeout:   timeout,
		CheckRedirect: func(*http.Request, []*http.Request) error {
			return forbidden("redirects are not followed")
		},
	}
	return c
}

// Policy returns the rules c applies.
func (c *Client) Policy() Policy { return c.policy }

// Do sends req under the rules. Refusals wrap ErrForbiddenDestination;
// reading a body past the cap fails with ErrResponseTooLarge.
func (c *Client) Do(req *http.Request) (*http.Response, error) {
	return c.http.Do(req)
}

// dial resolves the host itself so that it can refuse before connecting;
// the dialer's Control checks the address of the socket again, whatever
// resolved it.
func (c *Client) dial(ctx context.Context, network, address string) (net.Conn, error) {
	host, port, err := net.SplitHostPort(address)
	if err != nil {
		return nil, forbidden("bad address")
	}
	var addrs []netip.Addr
	if ip, err := netip.ParseAddr(host); err == nil {
		addrs = []netip.Addr{ip}
	} else if addrs, err = c.resolve(ctx, host); err != nil {
		return nil, fmt.Errorf("egress: resolve host: %w", err)
	}
	d := &net.Dialer{Timeout: connectTimeout, Control: c.control}
	var firstErr error
	for _, ip := range addrs {
		if err := c.policy.CheckAddr(ip); err != nil {
			firstErr = cmpOr(firstErr, err)
			continue
		}
		conn, err := d.DialContext(ctx, network, net.JoinHostPort(ip.String(), port))
		if err == nil {
			return conn, nil
		}
		firstErr = cmpOr(firstErr, err)
		if ctx.Err() != nil {
			break
		}
	}
	if firstErr == nil {
		firstErr = errors.New("egress: the host has no address")
	}
	return nil, firstErr
}

// control runs after the socket is made and before it connects: the last
// word on the address, whatever dialled it.
func (c *Client) control(_, address string, _ syscall.RawConn) error {
	ap, err := netip.ParseAddrPort(address)
	if err != nil {
		return forbidden("unparsable socket address")
	}
	return c.policy.CheckAddr(ap.Addr())
}

func cmpOr(a, b error) error {
	if a != nil {
		return a
	}
	return b
}

// guard checks every request's URL before it is sent, redirects included,
// and caps every response body.
type guard struct {
	policy  Policy
	next    http.RoundTripper
	maxBody int64
}

func (g *guard) RoundTrip(req *http.Request) (*http.Response, error) {
	if err := g.policy.checkParsed(req.URL); err != nil {
		if req.Body != nil {
			req.Body.Close()
		}
		return nil, err
	}
	resp, err := g.next.RoundTrip(req)
	if err != nil {
		return nil, err
	}
	if resp.ContentLength > g.maxBody {
		resp.Body.Close()
		return nil, fmt.Errorf("%w: %s bytes announced", ErrResponseTooLarge, strconv.FormatInt(resp.ContentLength, 10))
	}
	resp.Body = &cappedBody{ReadCloser: resp.Body, left: g.maxBody}
	return resp, nil
}

// cappedBody fails a read that goes past the cap, rather than cutting the
// body short silently.
type cappedBody struct {
	io.ReadCloser
	left int64
}

func (b *cappedBody) Read(p []byte) (int, error) {
	if int64(len(p)) > b.left+1 {
		p = p[:b.left+1]
	}
	n, err := b.ReadCloser.Read(p)
	if int64(n) > b.left {
		n, b.left = int(b.left), 0
		return n, ErrResponseTooLarge
	}
	b.left -= int64(n)
	return n, err
}
