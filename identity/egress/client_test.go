package egress

import (
	"context"
	"crypto/tls"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"net/url"
	"strings"
	"sync/atomic"
	"testing"
)

// target is an https server on 127.0.0.1 that counts the requests it
// sees: the internal service an attacker wants the server to reach.
type target struct {
	*httptest.Server
	hits atomic.Int32
}

func newTarget(t *testing.T, h http.HandlerFunc) *target {
	t.Helper()
	tg := &target{}
	tg.Server = httptest.NewTLSServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		tg.hits.Add(1)
		if h != nil {
			h(w, r)
		}
	}))
	t.Cleanup(tg.Close)
	return tg
}

// newClient trusts the test servers' certificate and resolves names
// through hosts only (no DNS).
func newClient(t *testing.T, allowPrivate bool, hosts map[string]string, maxBody int64) *Client {
	t.Helper()
	srv := httptest.NewUnstartedServer(nil)
	srv.StartTLS() // every httptest TLS server shares one certificate
	pool := srv.Client().Transport.(*http.Transport).TLSClientConfig.RootCAs
	srv.Close()
	return New(Options{
		Policy:       Policy{AllowPrivateNetworks: allowPrivate},
		MaxBodyBytes: maxBody,
		TLSConfig:    &tls.Config{RootCAs: pool},
		Resolve: func(_ context.Context, host string) ([]netip.Addr, error) {
			ip, ok := hosts[host]
			if !ok {
				return nil, errors.New("no such host")
			}
			return []netip.Addr{netip.MustParseAddr(ip)}, nil
		},
	})
}

func get(t *testing.T, c *Client, raw string) (*http.Response, error) {
	t.Helper()
	req, err := http.NewRequestWithContext(t.Context(), http.MethodGet, raw, nil)
	if err != nil {
		t.Fatal(err)
	}
	resp, err := c.Do(req)
	if err == nil {
		t.Cleanup(func() { resp.Body.Close() })
	}
	return resp, err
}

// withHost replaces the host of u's URL, keeping the port.
func withHost(t *testing.T, raw, host string) string {
	t.Helper()
	u, err := url.Parse(raw)
	if err != nil {
		t.Fatal(err)
	}
	u.Host = host + ":" + u.Port()
	return u.String()
}

// TestClientRefusesLoopbackServer: a real https server on 127.0.0.1 is
// refused by the strict policy and reached with private networks allowed.
func TestClientRefusesLoopbackServer(t *testing.T) {
	tg := newTarget(t, nil)
	_, err := get(t, newClient(t, false, nil, 0), tg.URL)
	if !errors.Is(err, ErrForbiddenDestination) {
		t.Errorf("strict GET %s = %v, want ErrForbiddenDestination", tg.URL, err)
	}
	if n := tg.hits.Load(); n != 0 {
		t.Fatalf("the loopback server saw %d requests", n)
	}
	resp, err := get(t, newClient(t, true, nil, 0), tg.URL)
	if err != nil || resp.StatusCode != http.StatusOK {
		t.Fatalf("GET with private networks allowed = %v, %v", resp, err)
	}
	if n := tg.hits.Load(); n != 1 {
		t.Errorf("the server saw %d requests, want 1", n)
	}
}

// TestClientRefusesNameResolvingToLoopback: a name that passes the URL
// check (as at registration) but resolves to 127.0.0.1 when the call is
// made, as with DNS rebinding, is refused after resolution.
func TestClientRefusesNameResolvingToLoopback(t *testing.T) {
	tg := newTarget(t, nil)
	// The test certificate is valid for example.com.
	raw := withHost(t, tg.URL, "example.com")
	if err := (Policy{}).CheckURL(raw); err != nil {
		t.Fatalf("CheckURL(%q) = %v; the name itself must look harmless", raw, err)
	}
	hosts := map[string]string{"example.com": "127.0.0.1"}
	_, err := get(t, newClient(t, false, hosts, 0), raw)
	if !errors.Is(err, ErrForbiddenDestination) {
		t.Errorf("GET %s resolving to 127.0.0.1 = %v, want ErrForbiddenDestination", raw, err)
	}
	hosts["example.com"] = "::ffff:127.0.0.1"
	if _, err := get(t, newClient(t, false, hosts, 0), raw); !errors.Is(err, ErrForbiddenDestination) {
		t.Errorf("GET %s resolving to ::ffff:127.0.0.1 = %v, want ErrForbiddenDestination", raw, err)
	}
	if n := tg.hits.Load(); n != 0 {
		t.Fatalf("the loopback server saw %d requests", n)
	}
	hosts["example.com"] = "127.0.0.1"
	if resp, err := get(t, newClient(t, true, hosts, 0), raw); err != nil || resp.StatusCode != http.StatusOK {
		t.Fatalf("GET with private networks allowed = %v, %v", resp, err)
	}
}

// TestDialControlChecksSocketAddress: the dialer's last check refuses a
// socket address in a refused range, however it was resolved.
func TestDialControlChecksSocketAddress(t *testing.T) {
	c := New(Options{})
	for _, addr := range []string{"127.0.0.1:443", "[::1]:443", "169.254.169.254:80", "[::ffff:10.0.0.1]:443", "0.0.0.0:443"} {
		if err := c.control("tcp", addr, nil); !errors.Is(err, ErrForbiddenDestination) {
			t.Errorf("control(%s) = %v, want ErrForbiddenDestination", addr, err)
		}
	}
	if err := c.control("tcp", "93.184.215.14:443", nil); err != nil {
		t.Errorf("control(public address) = %v", err)
	}
}

// TestClientRefusesRedirects: a redirect to a loopback address is never
// followed. Private networks are allowed here so that the first, loopback,
// server can be reached at all: even then the registered URL stays the
// only destination.
func TestClientRefusesRedirects(t *testing.T) {
	inside := newTarget(t, nil)
	outside := newTarget(t, func(w http.ResponseWriter, r *http.Request) {
		http.Redirect(w, r, inside.URL+"/latest/meta-data", http.StatusFound)
	})
	_, err := get(t, newClient(t, true, nil, 0), outside.URL)
	if !errors.Is(err, ErrForbiddenDestination) {
		t.Errorf("GET through a redirect = %v, want ErrForbiddenDestination", err)
	}
	if outside.hits.Load() != 1 {
		t.Errorf("the redirecting server saw %d requests, want 1", outside.hits.Load())
	}
	if n := inside.hits.Load(); n != 0 {
		t.Errorf("the redirect target saw %d requests", n)
	}
}

// TestClientCapsResponseBody: a body past the cap fails the read, whether
// its length is announced or not.
func TestClientCapsResponseBody(t *testing.T) {
	const limit = 1 << 10
	tg := newTarget(t, func(w http.ResponseWriter, r *http.Request) {
		body := strings.Repeat("x", limit+1)
		if r.URL.Path == "/announced" {
			w.Header().Set("Content-Length", "1025")
		} else {
			w.(http.Flusher).Flush() // chunked: no length up front
		}
		if r.URL.Path == "/fits" {
			body = body[:limit]
		}
		io.WriteString(w, body)
	})
	c := newClient(t, true, nil, limit)
	resp, err := get(t, c, tg.URL+"/fits")
	if err != nil {
		t.Fatal(err)
	}
	if b, err := io.ReadAll(resp.Body); err != nil || len(b) != limit {
		t.Errorf("reading a body at the cap: %d bytes, %v", len(b), err)
	}
	resp, err = get(t, c, tg.URL+"/streamed")
	if err != nil {
		t.Fatal(err)
	}
	if b, err := io.ReadAll(resp.Body); !errors.Is(err, ErrResponseTooLarge) || len(b) > limit {
		t.Errorf("reading a streamed body past the cap: %d bytes, %v; want ErrResponseTooLarge", len(b), err)
	}
	if _, err := get(t, c, tg.URL+"/announced"); !errors.Is(err, ErrResponseTooLarge) {
		t.Errorf("GET of an announced oversized body = %v, want ErrResponseTooLarge", err)
	}
}

// TestClientIgnoresProxyEnvironment: a proxy set in the environment would
// make the dialer check the proxy's address instead of the destination.
func TestClientIgnoresProxyEnvironment(t *testing.T) {
	proxy := newTarget(t, nil)
	t.Setenv("HTTPS_PROXY", proxy.URL)
	t.Setenv("https_proxy", proxy.URL)
	t.Setenv("NO_PROXY", "")
	tg := newTarget(t, nil)
	if _, err := get(t, newClient(t, true, nil, 0), tg.URL); err != nil {
		t.Fatal(err)
	}
	if proxy.hits.Load() != 0 || tg.hits.Load() != 1 {
		t.Errorf("proxy saw %d requests, target %d; want 0 and 1", proxy.hits.Load(), tg.hits.Load())
	}
}
