package main

import (
	"context"
	"fmt"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/chromedp/cdproto/cdp"
	cdppage "github.com/chromedp/cdproto/page"
	"github.com/chromedp/chromedp"
)

// The real-browser tier drives Debian's headless Chromium through the
// DevTools protocol. One browser serves the whole test binary, started on
// first use and stopped by TestMain; each test gets a browser context of
// its own, with its own cookies and storage, like an incognito window.

// chromiumEnv names another Chromium binary than Debian's.
const chromiumEnv = "GATEHOUSE_TEST_CHROMIUM"

// tabTimeout bounds one test's work in the browser, so that a page that
// never comes ends the test with a screenshot instead of hanging it.
const tabTimeout = 60 * time.Second

var sharedChromium struct {
	once sync.Once
	ctx  context.Context // the browser's; tabs are made from it
	stop context.CancelFunc
	err  error
}

func chromiumPath() string {
	if p := os.Getenv(chromiumEnv); p != "" {
		return p
	}
	return "/usr/bin/chromium"
}

func startChromium() {
	path, err := exec.LookPath(chromiumPath())
	if err != nil {
		sharedChromium.err = fmt.Errorf("no Chromium at %s (install Debian's chromium or set %s): %w", chromiumPath(), chromiumEnv, err)
		return
	}
	opts := append(chromedp.DefaultExecAllocatorOptions[:],
		chromedp.ExecPath(path),
		chromedp.Headless,
		chromedp.DisableGPU,
		// The network is closed: nothing may wait on Google's services.
		chromedp.NoFirstRun,
		chromedp.Flag("disable-background-networking", true),
		chromedp.Flag("disable-component-update", true),
		chromedp.Flag("disable-sync", true),
	)
	if os.Geteuid() == 0 {
		// Chromium's sandbox refuses to run as root.
		opts = append(opts, chromedp.NoSandbox)
	}
	alloc, stopAlloc := chromedp.NewExecAllocator(context.Background(), opts...)
	ctx, stopBrowser := chromedp.NewContext(alloc)
	stop := func() { stopBrowser(); stopAlloc() }
	// Start it now, so that its start-up is not charged to a test's
	// timeout. The first run binds the browser's life to its context: this
	// one must not be a shorter one.
	if err := chromedp.Do(ctx); err != nil {
		stop()
		sharedChromium.err = fmt.Errorf("start %s: %w", path, err)
		return
	}
	sharedChromium.ctx, sharedChromium.stop = ctx, stop
}

// stopChromium ends the shared browser, if a test started it.
func stopChromium() {
	if sharedChromium.stop != nil {
		sharedChromium.stop()
	}
}

// tab is one test's page in a fresh browser context. It keeps every
// console error, uncaught exception and Content-Security-Policy violation
// the pages report.
type tab struct {
	ctx context.Context

	mu       sync.Mutex
	problems []string

	marks chan string // the console marks noProblems writes, as they come back
	nmark int
}

// consoleMark starts the console messages noProblems writes to know that
// every message before has been read.
const consoleMark = "gatehouse-test-mark "

// newTab opens a page for t in a new browser context. Without a browser
// the test is skipped, with the reason; under CI=true it fails instead.
// When t has failed by its end, a screenshot of the page is saved in its artifact
// directory (kept with go test -artifacts) and its path logged.
func newTab(t *testing.T) *tab {
	t.Helper()
	sharedChromium.once.Do(startChromium)
	if err := sharedChromium.err; err != nil {
		if os.Getenv("CI") == "true" {
			t.Fatalf("browser tier: %v", err)
		}
		t.Skipf("browser tier: SKIPPING: %v", err)
	}
	artifacts := t.ArtifactDir()
	ctx, closeTab := chromedp.NewContext(sharedChromium.ctx, chromedp.WithNewBrowserContext())
	ctx, cancel := context.WithTimeout(ctx, tabTimeout)
	tb := &tab{ctx: ctx, marks: make(chan string, 1)}
	t.Cleanup(func() {
		if t.Failed() {
			tb.screenshot(t, artifacts)
		}
		cancel()
		closeTab()
	})
	// A listener added through DevTools runs before the page's scripts and
	// is not subject to the page's CSP, so it sees every violation even
	// where Chromium would not log one.
	report := `document.addEventListener("securitypolicyviolation", function (e) {
		console.error("CSP violation: " + e.effectiveDirective + " blocked " + (e.blockedURI || "inline") + " at " + e.documentURI);
	});`
	if err := chromedp.Do(ctx, chromedp.Func(func(ctx context.Context, tg *chromedp.Target) error {
		_, err := cdp.Call(ctx, tg, cdppage.AddScriptToEvaluateOnNewDocument, cdppage.AddScriptToEvaluateOnNewDocumentParams{Source: report})
		return err
	})); err != nil {
		t.Fatalf("open a tab: %v", err)
	}
	messages := chromedp.Console(ctx)
	go func() {
		for m, err := range messages {
			if err != nil {
				return
			}
			if mark, ok := strings.CutPrefix(m.Text, consoleMark); ok && m.Type == chromedp.ConsoleDebug {
				select {
				case tb.marks <- mark:
				case <-ctx.Done():
					return
				}
				continue
			}
			if m.Type == chromedp.ConsoleError || m.IsException() || strings.Contains(m.Text, "Content Security Policy") {
				tb.mu.Lock()
				tb.problems = append(tb.problems, fmt.Sprintf("%s (%s)", m, m.URL))
				tb.mu.Unlock()
			}
		}
	}()
	return tb
}

// screenshot saves the page as it is now in dir.
func (tb *tab) screenshot(t *testing.T, dir string) {
	ctx, cancel := context.WithTimeout(context.WithoutCancel(tb.ctx), 10*time.Second)
	defer cancel()
	loc, _ := chromedp.Run(ctx, chromedp.Location())
	png, err := chromedp.Run(ctx, chromedp.FullScreenshot(90))
	if err != nil {
		t.Logf("no screenshot of %s: %v", loc, err)
		return
	}
	path := filepath.Join(dir, "failure.png")
	if err := os.WriteFile(path, png, 0o644); err != nil {
		t.Logf("save screenshot: %v", err)
		return
	}
	t.Logf("screenshot of %s as the failed test ended: %s", loc, path)
}

// screenshotsEnv names a directory to which the browser tier saves the
// screenshots README shows (GATEHOUSE_SCREENSHOTS=static/screenshots
// go test ./cmd/gatehouse -run TestBrowserConsole); unset, none are taken.
const screenshotsEnv = "GATEHOUSE_SCREENSHOTS"

// shoot saves the page as a 1280 by 960 picture named name.png in the
// directory screenshotsEnv names, when it names one.
func (tb *tab) shoot(t testing.TB, name string) {
	t.Helper()
	dir := os.Getenv(screenshotsEnv)
	if dir == "" {
		return
	}
	tb.do(t, chromedp.EmulateViewport(1280, 960))
	png, err := chromedp.Run(tb.ctx, chromedp.CaptureScreenshot())
	if err != nil {
		t.Fatalf("screenshot %s: %v", name, err)
	}
	if err := os.WriteFile(filepath.Join(dir, name+".png"), png, 0o644); err != nil {
		t.Fatalf("save screenshot %s: %v", name, err)
	}
}

// do runs browser actions and fails t on the first error.
func (tb *tab) do(t testing.TB, steps ...chromedp.Action[chromedp.Void]) {
	t.Helper()
	if err := chromedp.Do(tb.ctx, steps...); err != nil {
		t.Fatalf("browser: %v", err)
	}
}

// navigate opens u as if typed into the address bar.
func (tb *tab) navigate(t testing.TB, u string) {
	t.Helper()
	tb.do(t, chromedp.Navigate(u))
}

// arrive waits until the page at path has loaded and returns its URL.
func (tb *tab) arrive(t testing.TB, path string) *url.URL {
	t.Helper()
	// Asked from Go, not polled inside the page: a form post's navigation
	// destroys the page a poll would run in.
	tick := time.NewTicker(20 * time.Millisecond)
	defer tick.Stop()
	type state struct {
		Href  string `json:"href"`
		Path  string `json:"path"`
		Ready string `json:"ready"`
	}
	var at state
	for {
		got, err := chromedp.Run(tb.ctx, chromedp.Evaluate[state](`({href: location.href, path: location.pathname, ready: document.readyState})`))
		if err == nil {
			at = got
			if at.Path == path && at.Ready == "complete" {
				u, err := url.Parse(at.Href)
				if err != nil {
					t.Fatal(err)
				}
				return u
			}
		}
		select {
		case <-tb.ctx.Done():
			t.Fatalf("waiting for %s: %v (the page is %s, %s)", path, tb.ctx.Err(), at.Href, at.Ready)
		case <-tick.C:
		}
	}
}

// await waits until the page has an element with this id: after a form
// that posts back to its own path, arrive cannot tell the pages apart.
func (tb *tab) await(t testing.TB, id string) {
	t.Helper()
	tick := time.NewTicker(20 * time.Millisecond)
	defer tick.Stop()
	probe := fmt.Sprintf(`document.readyState === "complete" && document.getElementById(%q) !== null`, id)
	for {
		// Asked from Go for the reason arrive says.
		if found, err := chromedp.Run(tb.ctx, chromedp.Evaluate[bool](probe)); err == nil && found {
			return
		}
		select {
		case <-tb.ctx.Done():
			t.Fatalf("waiting for #%s: %v", id, tb.ctx.Err())
		case <-tick.C:
		}
	}
}

// fill types values into the inputs with these ids.
func (tb *tab) fill(t testing.TB, fields map[string]string) {
	t.Helper()
	for id, v := range fields {
		tb.do(t, chromedp.SendKeys(chromedp.ID(id), v))
	}
}

// click clicks the element with this id.
func (tb *tab) click(t testing.TB, id string) {
	t.Helper()
	tb.do(t, chromedp.Click(chromedp.ID(id)))
}

// noProblems fails t if a page reported a console error, an uncaught
// exception or a CSP violation so far.
func (tb *tab) noProblems(t testing.TB) {
	t.Helper()
	// Console messages come in order: once a mark written now has been
	// read, so has every message before it.
	tb.nmark++
	mark := fmt.Sprint(tb.nmark)
	if _, err := chromedp.Run(tb.ctx, chromedp.Evaluate[chromedp.Void](fmt.Sprintf(`console.debug(%q)`, consoleMark+mark))); err != nil {
		t.Fatalf("write a console mark: %v", err)
	}
	for got := ""; got != mark; {
		select {
		case got = <-tb.marks:
		case <-tb.ctx.Done():
			t.Fatalf("the console mark did not come back: %v", tb.ctx.Err())
		}
	}
	tb.mu.Lock()
	defer tb.mu.Unlock()
	for _, p := range tb.problems {
		t.Errorf("the browser reported: %s", p)
	}
}
