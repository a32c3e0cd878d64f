package usagepage_test

import (
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/cdproto/accessibility"
	"github.com/chromedp/cdproto/cdp"
	cdppage "github.com/chromedp/cdproto/page"
	"github.com/chromedp/chromedp"
	"github.com/labstack/echo/v4"

	"gatehouse/static"
)

// The policy the binary sets on every page (cmd/gatehouse securityHeaders,
// without a third-party CAPTCHA), for the dashboard to be drawn under.
func pagePolicy(styleHash string) string {
	return "default-src 'none'; style-src 'self' " + styleHash + "; img-src 'self' https: data:; " +
		"script-src 'self'; connect-src 'self'; frame-src 'none'; frame-ancestors 'none'; base-uri 'none'"
}

// TestBrowserDashboard draws the dashboard in headless Chromium under the
// binary's Content-Security-Policy: nothing is blocked (the charts' look
// is in the stylesheet, their attributes are SVG presentation attributes),
// every chart is an image with a name and every table has one, and on a
// laptop's screen the page is wide and nothing spills out sideways.
func TestBrowserDashboard(t *testing.T) {
	path := os.Getenv("GATEHOUSE_TEST_CHROMIUM")
	if path == "" {
		path = "/usr/bin/chromium"
	}
	if _, err := exec.LookPath(path); err != nil {
		if os.Getenv("CI") == "true" {
			t.Fatalf("browser tier: no Chromium at %s: %v", path, err)
		}
		t.Skipf("browser tier: SKIPPING: no Chromium at %s: %v", path, err)
	}
	s := newServer(t, fixture{clients: 12, suppressed: true, evil: true}, nil)
	policy := pagePolicy(s.pages.StyleHash())
	s.e.Pre(func(next echo.HandlerFunc) echo.HandlerFunc {
		return func(c echo.Context) error {
			c.Response().Header().Set("Content-Security-Policy", policy)
			return next(c)
		}
	})
	s.e.GET("/static/*", echo.WrapHandler(http.StripPrefix("/static/", http.FileServerFS(static.FS))))
	srv := httptest.NewServer(s.e)
	t.Cleanup(srv.Close)

	opts := append(chromedp.DefaultExecAllocatorOptions[:], chromedp.ExecPath(path), chromedp.Headless, chromedp.DisableGPU,
		chromedp.NoFirstRun, chromedp.WindowSize(1366, 768))
	if os.Geteuid() == 0 {
		opts = append(opts, chromedp.NoSandbox) // Chromium's sandbox refuses to run as root
	}
	alloc, stopAlloc := chromedp.NewExecAllocator(context.Background(), opts...)
	t.Cleanup(stopAlloc)
	ctx, stop := chromedp.NewContext(alloc)
	t.Cleanup(stop)
	ctx, cancel := context.WithTimeout(ctx, 60*time.Second)
	t.Cleanup(cancel)

	// Registered through DevTools, the listener is not subject to the
	// page's policy and sees every violation.
	record := `window.violations = []; document.addEventListener("securitypolicyviolation", function (e) {
		window.violations.push(e.effectiveDirective + " blocked " + (e.blockedURI || "inline"));
	});`
	if err := chromedp.Do(ctx, chromedp.Func(func(ctx context.Context, tg *chromedp.Target) error {
		_, err := cdp.Call(ctx, tg, cdppage.AddScriptToEvaluateOnNewDocument, cdppage.AddScriptToEvaluateOnNewDocumentParams{Source: record})
		return err
	}), chromedp.Navigate(srv.URL+"/admin/usage?period=30")); err != nil {
		t.Fatalf("browser: %v", err)
	}
	type facts struct {
		Ready      string   `json:"ready"`
		Violations []string `json:"violations"`
		CardWidth  float64  `json:"cardWidth"`
		Overflow   bool     `json:"overflow"`
		Charts     int      `json:"charts"`
		Hatched    string   `json:"hatched"`
	}
	const js = `({ready: document.readyState, violations: window.violations || [],
		cardWidth: document.querySelector("main").getBoundingClientRect().width,
		overflow: document.documentElement.scrollWidth > document.documentElement.clientWidth,
		charts: document.querySelectorAll("svg.chart").length,
		hatched: getComputedStyle(document.querySelector(".chart .hatch")).fill})`
	var got facts
	for tick := time.NewTicker(20 * time.Millisecond); got.Ready != "complete"; {
		var err error
		if got, err = chromedp.Run(ctx, chromedp.Evaluate[facts](js)); err != nil || got.Ready != "complete" {
			select {
			case <-ctx.Done():
				t.Fatalf("the page did not load: %v", ctx.Err())
			case <-tick.C:
			}
		}
	}
	if len(got.Violations) > 0 {
		t.Errorf("CSP violations: %q", got.Violations)
	}
	if got.CardWidth < 900 {
		t.Errorf("the page is %.0f px wide on a 1366 px screen, want the wide layout", got.CardWidth)
	}
	if got.Overflow {
		t.Error("the page scrolls sideways")
	}
	if got.Charts != len(chartSeries)+1 {
		t.Errorf("%d charts drawn, want %d", got.Charts, len(chartSeries)+1)
	}
	if got.Hatched == "" || got.Hatched == "rgb(0, 0, 0)" {
		t.Errorf("hatching fill = %q: the stylesheet's chart rules did not apply", got.Hatched)
	}

	nodes, err := chromedp.Run(ctx, chromedp.Action[[]*accessibility.Node](func(ctx context.Context, tg *chromedp.Target) ([]*accessibility.Node, error) {
		res, err := cdp.Call(ctx, tg, accessibility.GetFullAXTree, accessibility.GetFullAXTreeParams{})
		return res.Nodes, err
	}))
	if err != nil {
		t.Fatalf("accessibility tree: %v", err)
	}
	count := map[string]int{}
	for _, n := range nodes {
		role := axString(n.Role)
		if n.Ignored || !map[string]bool{"image": true, "table": true, "button": true, "combobox": true, "link": true, "region": true}[role] {
			continue
		}
		count[role]++
		if axString(n.Name) == "" {
			t.Errorf("a %s (DOM node %d) has no accessible name", role, n.BackendDOMNodeID)
		}
	}
	if count["image"] < len(chartSeries)+1 || count["table"] < len(chartSeries)+2 {
		t.Errorf("accessibility tree has %d images and %d tables, want a chart and a table per series", count["image"], count["table"])
	}
}

func axString(v *accessibility.Value) string {
	if v == nil || len(v.Value) == 0 {
		return ""
	}
	var s string
	if err := json.Unmarshal(v.Value, &s); err != nil {
		return ""
	}
	return strings.TrimSpace(s)
}
