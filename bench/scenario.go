package main

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"sync/atomic"
)

// A scenario is one kind of request, built once and sent many times.
// Workers share its header map read-only: the transport never writes it.
type scenario struct {
	name   string
	method string
	url    *url.URL
	header http.Header
	bodies [][]byte // form bodies to cycle through; nil for GET
	want   []byte   // a 200 answer must contain this; nil accepts any 200
	// logins, when set, makes each request a whole sign-in instead
	// (scenarios login and login-mfa).
	logins *logins
}

var scenarioNames = []string{"discovery", "jwks", "client_credentials", "introspect", "login", "login-mfa", "login-flood"}

// Paths as served by package oidc.
const (
	pathDiscovery  = "/.well-known/openid-configuration"
	pathJWKS       = "/.well-known/jwks.json"
	pathToken      = "/oauth2/token"
	pathIntrospect = "/oauth2/introspect"
)

var ccBody = []byte("grant_type=client_credentials")

// basicAuth builds the Authorization value for a confidential client.
// RFC 6749 §2.3.1: the client identifier and secret are encoded with
// application/x-www-form-urlencoded before they go into HTTP Basic.
func basicAuth(id, secret string) string {
	raw := url.QueryEscape(id) + ":" + url.QueryEscape(secret)
	return "Basic " + base64.StdEncoding.EncodeToString([]byte(raw))
}

func newGet(name, base, path string) (*scenario, error) {
	u, err := url.Parse(base + path)
	if err != nil {
		return nil, fmt.Errorf("bench: %s url: %w", name, err)
	}
	h := http.Header{"Accept": {"application/json"}}
	return &scenario{name: name, method: http.MethodGet, url: u, header: h}, nil
}

func newPost(name, base, path, auth string, bodies [][]byte, want string) (*scenario, error) {
	u, err := url.Parse(base + path)
	if err != nil {
		return nil, fmt.Errorf("bench: %s url: %w", name, err)
	}
	h := http.Header{
		"Accept":        {"application/json"},
		"Authorization": {auth},
		"Content-Type":  {"application/x-www-form-urlencoded"},
	}
	return &scenario{name: name, method: http.MethodPost, url: u, header: h, bodies: bodies, want: []byte(want)}, nil
}

// buildScenario prepares the named scenario. For introspect it first
// obtains opts.tokens access tokens, which takes a while on its own.
func buildScenario(ctx context.Context, rt http.RoundTripper, opts options) (*scenario, error) {
	auth := basicAuth(opts.clientID, opts.clientSecret)
	switch opts.scenario {
	case "discovery":
		return newGet(opts.scenario, opts.base, pathDiscovery)
	case "jwks":
		return newGet(opts.scenario, opts.base, pathJWKS)
	case "client_credentials":
		return newPost(opts.scenario, opts.base, pathToken, auth, [][]byte{ccBody}, `"access_token"`)
	case "introspect":
		tokenSc, err := newPost("token", opts.base, pathToken, auth, [][]byte{ccBody}, `"access_token"`)
		if err != nil {
			return nil, err
		}
		tokens, err := fetchTokens(ctx, rt, tokenSc, opts.tokens, opts.concurrency)
		if err != nil {
			return nil, err
		}
		bodies := make([][]byte, len(tokens))
		for i, t := range tokens {
			bodies[i] = []byte("token=" + url.QueryEscape(t))
		}
		return newPost(opts.scenario, opts.base, pathIntrospect, auth, bodies, `"active":true`)
	case "login", "login-mfa":
		l, err := prepareLogins(ctx, rt, opts, opts.scenario == "login-mfa")
		if err != nil {
			return nil, err
		}
		return &scenario{name: opts.scenario, logins: l}, nil
	}
	return nil, fmt.Errorf("bench: unknown -scenario %q (want %s)", opts.scenario, strings.Join(scenarioNames, ", "))
}

// fetchTokens runs the client_credentials grant n times over at most
// concurrency connections and returns the access tokens. It stops at the
// first failure, which usually repeats for every token.
func fetchTokens(ctx context.Context, rt http.RoundTripper, sc *scenario, n, concurrency int) ([]string, error) {
	ctx, cancel := context.WithCancelCause(ctx)
	defer cancel(nil)
	tokens := make([]string, n)
	var next atomic.Int64
	var wg sync.WaitGroup
	for range min(n, concurrency) {
		wg.Go(func() {
			for i := int(next.Add(1) - 1); i < n && ctx.Err() == nil; i = int(next.Add(1) - 1) {
				t, err := fetchToken(ctx, rt, sc)
				if err != nil {
					cancel(fmt.Errorf("bench: obtain access token %d of %d: %w", i+1, n, err))
					return
				}
				tokens[i] = t
			}
		})
	}
	wg.Wait()
	if err := context.Cause(ctx); err != nil {
		if errors.Is(err, context.DeadlineExceeded) || errors.Is(err, context.Canceled) {
			return nil, fmt.Errorf("bench: obtain access tokens: %w", err)
		}
		return nil, err
	}
	return tokens, nil
}

func fetchToken(ctx context.Context, rt http.RoundTripper, sc *scenario) (string, error) {
	req := withBody(sc.baseRequest(ctx), sc.bodies[0])
	resp, err := rt.RoundTrip(req)
	if err != nil {
		return "", err
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(io.LimitReader(resp.Body, maxBody))
	if err != nil {
		return "", err
	}
	if resp.StatusCode != http.StatusOK {
		return "", fmt.Errorf("status %d: %s", resp.StatusCode, truncate(body))
	}
	var tr struct {
		AccessToken string `json:"access_token"`
	}
	if err := json.Unmarshal(body, &tr); err != nil || tr.AccessToken == "" {
		return "", fmt.Errorf("no access_token in %s", truncate(body))
	}
	return tr.AccessToken, nil
}

// baseRequest returns a bodiless request bound to ctx that shares the
// scenario's URL and headers; withBody copies it for each send.
func (sc *scenario) baseRequest(ctx context.Context) *http.Request {
	req := &http.Request{
		Method:     sc.method,
		URL:        sc.url,
		Proto:      "HTTP/1.1",
		ProtoMajor: 1,
		ProtoMinor: 1,
		Header:     sc.header,
		Host:       sc.url.Host,
	}
	return req.WithContext(ctx)
}

// withBody returns a shallow copy of base carrying body. The copy and the
// body reader are new on every send because the transport may still read
// or close the previous ones after the response came back.
func withBody(base *http.Request, body []byte) *http.Request {
	req := *base
	if body != nil {
		req.Body = io.NopCloser(bytes.NewReader(body))
		req.ContentLength = int64(len(body))
		// GetBody lets the transport retry on a keep-alive connection the
		// server closed just before we used it.
		req.GetBody = func() (io.ReadCloser, error) { return io.NopCloser(bytes.NewReader(body)), nil }
	}
	return &req
}
