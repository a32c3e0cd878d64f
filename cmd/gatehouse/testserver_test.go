package main

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"golang.org/x/net/html"
	"gopkg.in/yaml.v3"

	"gatehouse/config"
	"gatehouse/identity"
	"gatehouse/migrations/dbtest"
	"gatehouse/oidc/captcha"
	"gatehouse/oidc/captcha/captchatest"
)

// testServer is a real Gatehouse listening on 127.0.0.1 with a fresh
// database of one dialect.
type testServer struct {
	Config     *config.Config
	App        *App
	URL        string
	AdminURL   string // the admin listener's; empty when it is off
	ConfigPath string
	Logs       *logRecorder // every log record, access log included
}

const testInitialAccessToken = "initial-access-token-for-tests-0123456789"

// startServer runs the real server as `gatehouse serve` would, on a free
// loopback port, with its admin listener on another. edit may change the
// configuration first (an empty admin_listen turns the admin listener
// off); an https issuer makes it serve TLS with the test certificate.
func startServer(t testing.TB, dialect string, edit func(*config.Config)) *testServer {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	admin, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	key := make([]byte, 32)
	rand.Read(key)
	cfg := config.Default()
	cfg.Issuer = "http://" + ln.Addr().String()
	cfg.Listen = ln.Addr().String()
	cfg.AdminListen = admin.Addr().String()
	cfg.DataDir = t.TempDir()
	cfg.Database.URL = config.Secret(dbtest.MustMigratedURL(t, dialect))
	cfg.MasterKey = config.Secret(base64.StdEncoding.EncodeToString(key))
	cfg.Registration.InitialAccessToken = testInitialAccessToken
	cfg.Log.Level = "warn"
	// Nothing balances load across a test server: stopping it need not
	// wait for one to notice (TestShutdownDrains covers the drain).
	cfg.HTTP.ShutdownDelay = 0
	if edit != nil {
		edit(cfg)
	}
	adminURL := "http://" + cfg.AdminListen
	switch cfg.AdminListen {
	case admin.Addr().String():
	case "":
		admin.Close()
		admin, adminURL = nil, ""
	default:
		t.Fatalf("admin_listen %q: a test server takes its own free port, or none", cfg.AdminListen)
	}
	if err := cfg.Validate(); err != nil {
		t.Fatal(err)
	}
	if strings.HasPrefix(cfg.Issuer, "https://") {
		ln = tlsListener(ln)
	}
	// The CLI tests read the same configuration from a file.
	path := filepath.Join(cfg.DataDir, "gatehouse.yaml")
	raw, err := yaml.Marshal(cfg)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, raw, 0o600); err != nil {
		t.Fatal(err)
	}
	logs := &logRecorder{t: t}
	log := slog.New(slog.NewJSONHandler(logs, &slog.HandlerOptions{Level: slog.LevelInfo}))
	ctx, cancel := context.WithCancel(context.Background())
	a, err := openServer(ctx, cfg, log)
	if err != nil {
		cancel()
		t.Fatalf("openServer: %v", err)
	}
	// Every admin API answer in a test is checked against openapi.yaml.
	a.AdminAPI.CheckResponses = true
	done := make(chan error, 1)
	go func() { done <- a.Serve(ctx, ln, admin) }()
	t.Cleanup(func() {
		cancel()
		if err := <-done; err != nil {
			t.Errorf("Serve: %v", err)
		}
		a.Close()
	})
	// The purge at start runs beside the first requests; a test that
	// makes rows look old must not have it delete them behind its back.
	select {
	case <-a.purgedAtStart:
	case <-time.After(time.Minute):
		t.Fatal("the purge at start did not run")
	}
	return &testServer{Config: cfg, App: a, URL: cfg.Issuer, AdminURL: adminURL, ConfigPath: path, Logs: logs}
}

// cli runs a gatehouse command against the server's configuration.
func (s *testServer) cli(t testing.TB, stdin string, args ...string) (string, int) {
	t.Helper()
	var out, errOut bytes.Buffer
	args = append(args, "--config", s.ConfigPath)
	code := run(context.Background(), args, strings.NewReader(stdin), &out, &errOut)
	return out.String() + errOut.String(), code
}

var (
	clientIDLine     = regexp.MustCompile(`client_id:\s+(\S+)`)
	clientSecretLine = regexp.MustCompile(`client_secret:\s+(\S+)`)
)

// createClient registers a client through the CLI and returns its ID and
// secret (empty for public clients).
func (s *testServer) createClient(t testing.TB, args ...string) (id, secret string) {
	t.Helper()
	out, code := s.cli(t, "", append([]string{"clients", "create"}, args...)...)
	if code != 0 {
		t.Fatalf("clients create exited %d: %s", code, out)
	}
	m := clientIDLine.FindStringSubmatch(out)
	if m == nil {
		t.Fatalf("no client_id in %q", out)
	}
	if sm := clientSecretLine.FindStringSubmatch(out); sm != nil {
		secret = sm[1]
	}
	return m[1], secret
}

// createUser makes a user through the identity service.
func (s *testServer) createUser(t testing.TB, username, password string) *identity.User {
	t.Helper()
	u, err := s.App.Identity.Accounts.CreateUser(context.Background(), identity.CreateInput{
		Username: username, Email: username + "@example.com", Password: password, EmailVerified: true,
	})
	if err != nil {
		t.Fatalf("CreateUser: %v", err)
	}
	return u
}

// browser is an HTTP client with a cookie jar that stops at the relying
// party's redirect URI instead of following it.
type browser struct {
	*http.Client
	stopAt string
}

func newBrowser(t testing.TB, stopAt string) *browser {
	t.Helper()
	jar, err := cookiejar.New(nil)
	if err != nil {
		t.Fatal(err)
	}
	b := &browser{stopAt: stopAt}
	b.Client = &http.Client{Jar: jar, CheckRedirect: func(req *http.Request, via []*http.Request) error {
		if strings.HasPrefix(req.URL.String(), b.stopAt) {
			return http.ErrUseLastResponse
		}
		return nil
	}}
	return b
}

// page is a fetched HTML page.
type page struct {
	URL    *url.URL
	Status int
	Body   string
}

func (b *browser) get(t testing.TB, u string) (*page, *http.Response) {
	t.Helper()
	resp, err := b.Get(u)
	if err != nil {
		t.Fatalf("GET %s: %v", u, err)
	}
	return readPage(t, resp), resp
}

func (b *browser) post(t testing.TB, u string, form url.Values) (*page, *http.Response) {
	t.Helper()
	resp, err := b.PostForm(u, form)
	if err != nil {
		t.Fatalf("POST %s: %v", u, err)
	}
	return readPage(t, resp), resp
}

func readPage(t testing.TB, resp *http.Response) *page {
	t.Helper()
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return &page{URL: resp.Request.URL, Status: resp.StatusCode, Body: string(body)}
}

// submit fills the page's form that contains the button with id buttonID
// and posts it, as a browser would.
func (b *browser) submit(t testing.TB, p *page, buttonID string, fields map[string]string) (*page, *http.Response) {
	t.Helper()
	action, values, challengeURL := findForm(t, p, buttonID)
	for k, v := range fields {
		values.Set(k, v)
	}
	if challengeURL != "" {
		// What static/altcha.js does in a real browser.
		values.Set("altcha", b.solveCaptcha(t, p, challengeURL))
	}
	target, err := p.URL.Parse(action)
	if err != nil {
		t.Fatal(err)
	}
	return b.post(t, target.String(), values)
}

// findForm returns the action and the default values (hidden inputs and
// the named button) of the form holding buttonID.
func findForm(t testing.TB, p *page, buttonID string) (string, url.Values, string) {
	t.Helper()
	doc, err := html.Parse(strings.NewReader(p.Body))
	if err != nil {
		t.Fatal(err)
	}
	var form *html.Node
	var walk func(n, currentForm *html.Node)
	var button *html.Node
	walk = func(n, currentForm *html.Node) {
		if n.Type == html.ElementNode && n.Data == "form" {
			currentForm = n
		}
		if n.Type == html.ElementNode && attr(n, "id") == buttonID {
			form, button = currentForm, n
		}
		for c := n.FirstChild; c != nil; c = c.NextSibling {
			walk(c, currentForm)
		}
	}
	walk(doc, nil)
	if form == nil {
		t.Fatalf("no form with #%s on %s (status %d):\n%s", buttonID, p.URL, p.Status, p.Body)
	}
	values := url.Values{}
	var collect func(n *html.Node)
	collect = func(n *html.Node) {
		// An unticked checkbox is not sent, as in a browser.
		if n.Type == html.ElementNode && n.Data == "input" && attr(n, "name") != "" &&
			(attr(n, "type") != "checkbox" || hasAttr(n, "checked")) {
			values.Set(attr(n, "name"), attr(n, "value"))
		}
		for c := n.FirstChild; c != nil; c = c.NextSibling {
			collect(c)
		}
	}
	collect(form)
	if name := attr(button, "name"); name != "" {
		values.Set(name, attr(button, "value"))
	}
	return attr(form, "action"), values, attr(form, "data-altcha-challenge-url")
}

// solveCaptcha fetches a proof-of-work challenge and solves it.
func (b *browser) solveCaptcha(t testing.TB, p *page, challengeURL string) string {
	t.Helper()
	u, err := p.URL.Parse(challengeURL)
	if err != nil {
		t.Fatal(err)
	}
	resp, err := b.Get(u.String())
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var ch captcha.Challenge
	if err := json.NewDecoder(resp.Body).Decode(&ch); err != nil {
		t.Fatalf("captcha challenge: %v", err)
	}
	return captchatest.MustSolve(t, ch).Encode()
}

func attr(n *html.Node, key string) string {
	for _, a := range n.Attr {
		if a.Key == key {
			return a.Val
		}
	}
	return ""
}

// hasAttr reports whether n carries the attribute key (a boolean one,
// such as checked, has no value).
func hasAttr(n *html.Node, key string) bool {
	for _, a := range n.Attr {
		if a.Key == key {
			return true
		}
	}
	return false
}

func mustContain(t testing.TB, haystack, needle, what string) {
	t.Helper()
	if !strings.Contains(haystack, needle) {
		t.Fatalf("%s: %q not found in:\n%s", what, needle, haystack)
	}
}

var _ = fmt.Sprintf
