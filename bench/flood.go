package main

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"regexp"
	"strings"
	"sync"
	"time"
)

// The login-flood scenario: -users accounts are registered through the
// hosted registration page, each gets a browser (its own cookie jar) that
// starts an authorization code flow and holds the login form, and then all
// of them submit their password at the same moment. Meanwhile a probe
// sends a discovery request every -probe-every, each on its own, so a
// slow answer does not hold back the next probe.

const (
	pathAuthorize = "/oauth2/authorize"
	pathLogin     = "/login"
	pathSignup    = "/register"
	// setupConcurrency is how many registrations and login pages are
	// fetched at once before the flood.
	setupConcurrency = 4
	// idleProbes are the discovery probes sent before the flood, for
	// comparison.
	idleProbes = 100
	// floodPassword is every flood user's password.
	floodPassword = "bench flood passphrase 0123"
)

// floodResult is what a login flood measured. Sign-in times run from the
// POST of the form to the answer that ends it: the redirect to the client
// with a code, the 503, or the failure.
type floodResult struct {
	Scenario       string   `json:"scenario"`
	Users          int      `json:"users"`
	SignedIn       int      `json:"signed_in"`
	Busy           int      `json:"busy_503"`
	Other          int      `json:"other"`
	LoginP50MS     float64  `json:"login_p50_ms"`
	LoginP99MS     float64  `json:"login_p99_ms"`
	LoginMaxMS     float64  `json:"login_max_ms"`
	FloodMS        float64  `json:"flood_ms"`
	Probes         int      `json:"discovery_probes"`
	ProbeErrors    int      `json:"discovery_errors"`
	DiscoveryP50MS float64  `json:"discovery_p50_ms"`
	DiscoveryP99MS float64  `json:"discovery_p99_ms"`
	DiscoveryMaxMS float64  `json:"discovery_max_ms"`
	IdleP99MS      float64  `json:"discovery_idle_p99_ms"`
	ErrorSamples   []string `json:"error_samples,omitempty"`
}

// floodBrowser is one simulated person: a cookie jar and the login form
// of their authorization request.
type floodBrowser struct {
	client *http.Client
	login  string
	form   url.Values
}

var (
	csrfField = regexp.MustCompile(`name="csrf" value="([^"]*)"`)
	flowField = regexp.MustCompile(`name="flow" value="([^"]*)"`)
)

// newBrowserClient returns a client with its own cookie jar on rt that
// follows redirects on the server but stops at the client's redirect URI.
func newBrowserClient(rt http.RoundTripper, redirectURI string, timeout time.Duration) *http.Client {
	jar, _ := cookiejar.New(nil)
	return &http.Client{Transport: rt, Jar: jar, Timeout: timeout,
		CheckRedirect: func(req *http.Request, via []*http.Request) error {
			if strings.HasPrefix(req.URL.String(), redirectURI) || len(via) >= 10 {
				return http.ErrUseLastResponse
			}
			return nil
		}}
}

// getForm fetches a hosted page and returns its final URL and the hidden
// csrf and flow fields of its form.
func getForm(ctx context.Context, c *http.Client, u string) (*url.URL, url.Values, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u, nil)
	if err != nil {
		return nil, nil, err
	}
	resp, err := c.Do(req)
	if err != nil {
		return nil, nil, err
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(io.LimitReader(resp.Body, maxBody))
	if err != nil {
		return nil, nil, err
	}
	m := csrfField.FindSubmatch(body)
	if resp.StatusCode != http.StatusOK || m == nil {
		return nil, nil, fmt.Errorf("GET %s: status %d without a form: %s", resp.Request.URL.Path, resp.StatusCode, truncate(body))
	}
	form := url.Values{"csrf": {string(m[1])}}
	if f := flowField.FindSubmatch(body); f != nil {
		form.Set("flow", string(f[1]))
	}
	return resp.Request.URL, form, nil
}

func postForm(ctx context.Context, c *http.Client, u string, form url.Values) (*http.Response, []byte, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, u, strings.NewReader(form.Encode()))
	if err != nil {
		return nil, nil, err
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	resp, err := c.Do(req)
	if err != nil {
		return nil, nil, err
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(io.LimitReader(resp.Body, maxBody))
	return resp, body, err
}

// register creates the account login through the registration page,
// trying again while the server answers 503.
func register(ctx context.Context, rt http.RoundTripper, base, login string) error {
	c := newBrowserClient(rt, base+"/", time.Minute)
	c.CheckRedirect = func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }
	for {
		_, form, err := getForm(ctx, c, base+pathSignup)
		if err != nil {
			return fmt.Errorf("bench: registration page: %w (is captcha.provider off?)", err)
		}
		form.Set("username", login)
		form.Set("email", login+"@bench.example.com")
		form.Set("password", floodPassword)
		resp, body, err := postForm(ctx, c, base+pathSignup, form)
		switch {
		case err != nil:
			return fmt.Errorf("bench: register %s: %w", login, err)
		case resp.StatusCode == http.StatusSeeOther:
			return nil
		case resp.StatusCode != http.StatusServiceUnavailable:
			return fmt.Errorf("bench: register %s: status %d: %s", login, resp.StatusCode, truncate(body))
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(100 * time.Millisecond):
		}
	}
}

// eachAtMost runs fn(i) for i in [0, n) on at most k goroutines and
// returns the first error.
func eachAtMost(ctx context.Context, n, k int, fn func(ctx context.Context, i int) error) error {
	ctx, cancel := context.WithCancelCause(ctx)
	defer cancel(nil)
	next := make(chan int)
	var wg sync.WaitGroup
	for range min(n, k) {
		wg.Go(func() {
			for i := range next {
				if err := fn(ctx, i); err != nil {
					cancel(err)
				}
			}
		})
	}
	for i := 0; i < n && ctx.Err() == nil; i++ {
		next <- i
	}
	close(next)
	wg.Wait()
	if err := context.Cause(ctx); err != nil && !errors.Is(err, context.Canceled) {
		return err
	}
	return ctx.Err()
}

// prepareFlood registers opts.users accounts and opens a login form for
// each through an authorization request of the client.
func prepareFlood(ctx context.Context, rt http.RoundTripper, opts options) ([]*floodBrowser, error) {
	tag := make([]byte, 4)
	rand.Read(tag)
	prefix := "flood-" + hex.EncodeToString(tag) + "-"
	browsers := make([]*floodBrowser, opts.users)
	err := eachAtMost(ctx, opts.users, setupConcurrency, func(ctx context.Context, i int) error {
		login := fmt.Sprintf("%s%d", prefix, i)
		if err := register(ctx, rt, opts.base, login); err != nil {
			return err
		}
		c := newBrowserClient(rt, opts.redirectURI, opts.loginTimeout)
		q := url.Values{"response_type": {"code"}, "client_id": {opts.clientID}, "redirect_uri": {opts.redirectURI},
			"scope": {"openid"}, "state": {"bench-state-" + login}}
		page, form, err := getForm(ctx, c, opts.base+pathAuthorize+"?"+q.Encode())
		if err != nil {
			return fmt.Errorf("bench: login page for %s: %w", login, err)
		}
		if page.Path != pathLogin || form.Get("flow") == "" {
			return fmt.Errorf("bench: authorization request led to %s, not a login form (check -client-id and -redirect-uri)", page.Path)
		}
		form.Set("login", login)
		form.Set("password", floodPassword)
		browsers[i] = &floodBrowser{client: c, login: login, form: form}
		return nil
	})
	return browsers, err
}

// signIn posts b's login form and says how it ended: "ok" at the client's
// redirect URI with a code, "busy" for a 503 with Retry-After, otherwise
// a description. It returns the answer's status too, 0 when there was
// none.
func (b *floodBrowser) signIn(ctx context.Context, base, redirectURI string) (int, string) {
	resp, body, err := postForm(ctx, b.client, base+pathLogin, b.form)
	switch {
	case err != nil:
		return 0, "transport: " + err.Error()
	case resp.StatusCode == http.StatusServiceUnavailable && resp.Header.Get("Retry-After") != "":
		return resp.StatusCode, "busy"
	case resp.StatusCode == http.StatusSeeOther && strings.HasPrefix(resp.Header.Get("Location"), redirectURI) &&
		strings.Contains(resp.Header.Get("Location"), "code="):
		return resp.StatusCode, "ok"
	}
	return resp.StatusCode, fmt.Sprintf("status %d (Location %q): %s", resp.StatusCode, resp.Header.Get("Location"), truncate(body))
}

// signInAnswer is how one sign-in of a flood ended.
type signInAnswer struct {
	status  int    // 0: no answer
	outcome string // "ok", "busy" or a description
	took    time.Duration
}

// signInAll posts every browser's form at the same moment, calls started
// (if not nil) once they are all on their way, and returns the answers in
// browser order.
func signInAll(ctx context.Context, browsers []*floodBrowser, opts options, started func()) []signInAnswer {
	answers := make([]signInAnswer, len(browsers))
	start := make(chan struct{})
	var wg sync.WaitGroup
	for i, b := range browsers {
		wg.Go(func() {
			<-start
			t0 := time.Now()
			status, outcome := b.signIn(ctx, opts.base, opts.redirectURI)
			answers[i] = signInAnswer{status: status, outcome: outcome, took: time.Since(t0)}
		})
	}
	close(start)
	if started != nil {
		started()
	}
	wg.Wait()
	return answers
}

// probe sends a discovery request every interval until stop is closed
// and records each latency; failures are counted, not timed.
type probe struct {
	mu     sync.Mutex
	hist   histogram
	max    time.Duration
	errors int
	wg     sync.WaitGroup
}

func (p *probe) run(ctx context.Context, c *http.Client, u string, every time.Duration, stop <-chan struct{}, limit int) {
	t := time.NewTicker(every)
	defer t.Stop()
	for n := 0; limit == 0 || n < limit; n++ {
		p.wg.Go(func() { p.once(ctx, c, u) })
		select {
		case <-stop:
			p.wg.Wait()
			return
		case <-t.C:
		}
	}
	p.wg.Wait()
}

func (p *probe) once(ctx context.Context, c *http.Client, u string) {
	req, _ := http.NewRequestWithContext(ctx, http.MethodGet, u, nil)
	t0 := time.Now()
	resp, err := c.Do(req)
	if err == nil {
		_, err = io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
		if err == nil && resp.StatusCode != http.StatusOK {
			err = fmt.Errorf("status %d", resp.StatusCode)
		}
	}
	d := time.Since(t0)
	p.mu.Lock()
	defer p.mu.Unlock()
	if err != nil {
		p.errors++
		return
	}
	p.hist.record(d)
	p.max = max(p.max, d)
}

func ms(d time.Duration) float64 { return float64(d) / float64(time.Millisecond) }

// runFlood prepares the browsers, measures idle discovery, then floods.
func runFlood(ctx context.Context, opts options) (floodResult, error) {
	res := floodResult{Scenario: opts.scenario, Users: opts.users}
	rt := newTransport(opts.users + 64)
	rt.ResponseHeaderTimeout = opts.loginTimeout
	defer rt.CloseIdleConnections()
	setupCtx, cancel := context.WithTimeout(ctx, 10*time.Minute)
	browsers, err := prepareFlood(setupCtx, rt, opts)
	cancel()
	if err != nil {
		return res, err
	}

	probeRT := newTransport(64)
	defer probeRT.CloseIdleConnections()
	probeClient := &http.Client{Transport: probeRT, Timeout: opts.loginTimeout}
	idle := &probe{}
	idle.run(ctx, probeClient, opts.base+pathDiscovery, opts.probeEvery, nil, idleProbes)

	during := &probe{}
	stop := make(chan struct{})
	probing := make(chan struct{})
	go func() {
		during.run(ctx, probeClient, opts.base+pathDiscovery, opts.probeEvery, stop, 0)
		close(probing)
	}()

	t0 := time.Now()
	answers := signInAll(ctx, browsers, opts, nil)
	res.FloodMS = ms(time.Since(t0))
	close(stop)
	<-probing

	var (
		logins  histogram
		longest time.Duration
		smp     = &samples{seen: map[string]bool{}}
	)
	for _, a := range answers {
		logins.record(a.took)
		longest = max(longest, a.took)
		switch a.outcome {
		case "ok":
			res.SignedIn++
		case "busy":
			res.Busy++
		default:
			res.Other++
			smp.add(a.outcome)
		}
	}

	res.LoginP50MS, res.LoginP99MS, res.LoginMaxMS = ms(logins.quantile(0.5)), ms(logins.quantile(0.99)), ms(longest)
	res.Probes, res.ProbeErrors = int(during.hist.total), during.errors
	res.DiscoveryP50MS, res.DiscoveryP99MS, res.DiscoveryMaxMS = ms(during.hist.quantile(0.5)), ms(during.hist.quantile(0.99)), ms(during.max)
	res.IdleP99MS = ms(idle.hist.quantile(0.99))
	res.ErrorSamples = smp.list
	return res, nil
}

const floodFormat = `login-flood: %d sign-ins at once through the hosted login form
  answers      %d signed in, %d busy (503 + Retry-After), %d other; all answered after %.0fms
  sign-in      p50 %.1fms  p99 %.1fms  max %.1fms
  discovery    %d probes during the flood (%d failed): p50 %.2fms  p99 %.2fms  max %.2fms; idle p99 %.2fms
`

func reportFlood(w io.Writer, r floodResult) error {
	_, err := fmt.Fprintf(w, floodFormat, r.Users, r.SignedIn, r.Busy, r.Other, r.FloodMS,
		r.LoginP50MS, r.LoginP99MS, r.LoginMaxMS,
		r.Probes, r.ProbeErrors, r.DiscoveryP50MS, r.DiscoveryP99MS, r.DiscoveryMaxMS, r.IdleP99MS)
	return err
}
