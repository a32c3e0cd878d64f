package usagepage_test

import (
	"bytes"
	"context"
	"encoding/csv"
	"encoding/xml"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/labstack/echo/v4"
	"golang.org/x/net/html"
	"golang.org/x/net/html/atom"

	"gatehouse/identity/usage"
	"gatehouse/oidc"
	"gatehouse/oidc/usagepage"
	"gatehouse/templates"
)

// testNow is the clock of every test: today is 2026-06-15 (UTC).
var testNow = time.Date(2026, 6, 15, 13, 45, 0, 0, time.UTC)

// fixture describes a report to make for whatever query comes.
type fixture struct {
	clients    int   // clients in the by-client breakdown (and the filter)
	suppressed bool  // make every third daily count, and some breakdowns, suppressed
	empty      bool  // no daily points at all
	exact      bool  // ActiveUsersExact
	leak       int64 // the Value a suppressed count carries, which should be 0
	evil       bool  // a client whose ID and name a spreadsheet would run as formulas
}

// makeReport builds a report of q with counts that differ from day to
// day and metric to metric, so a mix-up between them shows.
func (f fixture) makeReport(q usage.Query) *usage.Report {
	r := &usage.Report{Query: q, MinCell: 5, Daily: map[usage.Metric][]usage.Point{}, Totals: map[usage.Metric]usage.Count{},
		ActiveUsersExact: f.exact, Generated: testNow}
	count := func(v int64, suppress bool) usage.Count {
		if suppress {
			return usage.Count{Suppressed: true, Value: f.leak}
		}
		return usage.Count{Value: v}
	}
	for mi, m := range usage.Metrics() {
		var total int64
		for d, i := q.From, 0; !f.empty && d.Before(q.To); d, i = d.AddDate(0, 0, 1), i+1 {
			v := int64(5 + (i*7+mi*13)%97)
			if m == usage.SignInsFailed {
				v = int64(i % 5) // 0 to 4: small, and suppressed when not 0
			}
			sup := f.suppressed && (i%3 == mi%3 || (m == usage.SignInsFailed && v > 0))
			if m == usage.SignInsFailed && !f.suppressed && v > 0 {
				v += 5
			}
			r.Daily[m] = append(r.Daily[m], usage.Point{Start: d, Count: count(v, sup)})
			total += v
		}
		r.Totals[m] = count(total, f.suppressed && mi == 4)
	}
	for d := q.From; !f.empty && d.Before(q.To); d = d.AddDate(0, 0, 7) {
		r.WeeklyActiveUsers = append(r.WeeklyActiveUsers, usage.Point{Start: d, Count: usage.Count{Value: int64(100 + d.YearDay())}})
	}
	if !f.empty {
		r.MonthlyActiveUsers = []usage.Point{{Start: time.Date(q.From.Year(), q.From.Month(), 1, 0, 0, 0, 0, time.UTC), Count: count(400, f.suppressed)}}
	}
	for i := range f.clients {
		r.SignInsByClient = append(r.SignInsByClient, usage.Share{Key: clientID(i), Label: clientLabel(i),
			Count: count(int64(1000-i*3), f.suppressed && i%4 == 3)})
	}
	if f.evil {
		r.SignInsByClient = append(r.SignInsByClient, usage.Share{Key: evilID, Label: evilName, Count: usage.Count{Value: 9}})
	}
	r.SignInsByMethod = []usage.Share{
		{Key: usage.MethodPassword, Label: usage.MethodPassword, Count: usage.Count{Value: 812}},
		{Key: usage.MethodPasskey, Label: usage.MethodPasskey, Count: usage.Count{Value: 77}},
		{Key: usage.MethodRecovery, Label: usage.MethodRecovery, Count: count(0, f.suppressed)},
	}
	r.TokensByGrant = []usage.Share{
		{Key: "authorization_code", Label: "authorization_code", Count: usage.Count{Value: 901}},
		{Key: "refresh_token", Label: "refresh_token", Count: usage.Count{Value: 1550}},
	}
	r.ActiveUsers = usage.Count{Value: 321}
	r.UsersTotal, r.UsersWithMFA = usage.Count{Value: 1200}, count(300, f.suppressed)
	return r
}

// A client registered by an attacker: its ID and name are formulas.
const (
	evilID   = "=cmd|' /C calc'!A0"
	evilName = `=HYPERLINK("http://evil.example","Click")`
)

func clientID(i int) string    { return fmt.Sprintf("client-%03d", i) }
func clientLabel(i int) string { return fmt.Sprintf("Application %d", i) }

// server is the dashboard on a bare echo, with the report source and the
// queries it was asked.
type server struct {
	e       *echo.Echo
	pages   *templates.Renderer
	queries []usage.Query
	reports []*usage.Report
}

func newServer(tb testing.TB, f fixture, reportErr error) *server {
	tb.Helper()
	pages, err := templates.New(templates.Theme{ProductName: "Acme ID", PrimaryColor: "#2563eb"})
	if err != nil {
		tb.Fatal(err)
	}
	s := &server{e: echo.New(), pages: pages}
	log := slog.New(slog.DiscardHandler)
	s.e.HTTPErrorHandler = oidc.ErrorHandler(pages, log, nil)
	h := &usagepage.Handler{
		Report: func(ctx context.Context, q usage.Query) (*usage.Report, error) {
			s.queries = append(s.queries, q)
			if reportErr != nil {
				return nil, reportErr
			}
			r := f.makeReport(q)
			s.reports = append(s.reports, r)
			return r, nil
		},
		Clients: func(context.Context) ([]usagepage.ClientOption, error) {
			out := []usagepage.ClientOption{{ID: evilID, Name: evilName}}
			for i := range max(f.clients, 1) {
				out = append(out, usagepage.ClientOption{ID: clientID(i), Name: clientLabel(i)})
			}
			return out, nil
		},
		Pages:  pages,
		Now:    func() time.Time { return testNow },
		Logger: log,
	}
	h.Mount(s.e.Group("/admin"))
	return s
}

func (s *server) get(tb testing.TB, target string) *httptest.ResponseRecorder {
	tb.Helper()
	rec := httptest.NewRecorder()
	s.e.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, target, nil))
	return rec
}

var errReport = errors.New("usage store down")

// parsed is a served page, parsed, with its elements by id.
type parsed struct {
	raw string
	doc *html.Node
	ids map[string]*html.Node
}

func mustParse(tb testing.TB, body string) parsed {
	tb.Helper()
	doc, err := html.Parse(strings.NewReader(body))
	if err != nil {
		tb.Fatalf("html.Parse: %v", err)
	}
	p := parsed{raw: body, doc: doc, ids: map[string]*html.Node{}}
	for n := range doc.Descendants() {
		if id := attr(n, "id"); n.Type == html.ElementNode && id != "" {
			if _, dup := p.ids[id]; dup {
				tb.Errorf("duplicate id %q", id)
			}
			p.ids[id] = n
		}
	}
	return p
}

func attr(n *html.Node, key string) string {
	for _, a := range n.Attr {
		if a.Key == key {
			return a.Val
		}
	}
	return ""
}

func elements(n *html.Node, a atom.Atom) []*html.Node {
	var out []*html.Node
	for d := range n.Descendants() {
		if d.Type == html.ElementNode && d.DataAtom == a {
			out = append(out, d)
		}
	}
	return out
}

func text(n *html.Node) string {
	var b strings.Builder
	for d := range n.Descendants() {
		if d.Type == html.TextNode {
			b.WriteString(d.Data)
		}
	}
	return strings.Join(strings.Fields(b.String()), " ")
}

// tableRows is a table's body: each row's cells' text, header cell first.
func tableRows(n *html.Node) [][]string {
	var out [][]string
	for _, tb := range elements(n, atom.Tbody) {
		for _, tr := range elements(tb, atom.Tr) {
			var row []string
			for c := tr.FirstChild; c != nil; c = c.NextSibling {
				if c.DataAtom == atom.Th || c.DataAtom == atom.Td {
					row = append(row, text(c))
				}
			}
			out = append(out, row)
		}
	}
	return out
}

// parseCSV reads a download into its rows, header included.
func parseCSV(tb testing.TB, body string) [][]string {
	tb.Helper()
	rows, err := csv.NewReader(strings.NewReader(body)).ReadAll()
	if err != nil {
		tb.Fatalf("csv: %v\n%s", err, body)
	}
	return rows
}

// checkSVG parses every <svg> of the raw page as XML: each must be well
// formed, an image, and named by an element of the page with text.
func checkSVG(tb testing.TB, p parsed) int {
	tb.Helper()
	raw, n := p.raw, 0
	for {
		i := strings.Index(raw, "<svg")
		if i < 0 {
			break
		}
		j := strings.Index(raw[i:], "</svg>")
		if j < 0 {
			tb.Fatalf("unterminated <svg> at %d", i)
		}
		frag := raw[i : i+j+len("</svg>")]
		raw = raw[i+j:]
		n++
		dec := xml.NewDecoder(bytes.NewReader([]byte(frag)))
		var root *xml.StartElement
		for {
			tok, err := dec.Token()
			if err == io.EOF {
				break
			}
			if err != nil {
				tb.Errorf("svg %d is not well-formed XML: %v\n%.300s", n, err, frag)
				break
			}
			if se, ok := tok.(xml.StartElement); ok && root == nil {
				root = &se
			}
			if se, ok := tok.(xml.StartElement); ok {
				for _, a := range se.Attr {
					if a.Name.Local == "style" || strings.HasPrefix(a.Name.Local, "on") {
						tb.Errorf("svg %d: <%s> has attribute %s, which the CSP refuses", n, se.Name.Local, a.Name.Local)
					}
				}
			}
		}
		if root == nil {
			continue
		}
		var role, labelledBy string
		for _, a := range root.Attr {
			switch a.Name.Local {
			case "role":
				role = a.Value
			case "aria-labelledby":
				labelledBy = a.Value
			}
		}
		if role != "img" {
			tb.Errorf("svg %d role = %q, want img", n, role)
		}
		if labelledBy == "" {
			tb.Errorf("svg %d has no aria-labelledby", n)
		}
		for _, ref := range strings.Fields(labelledBy) {
			if el, ok := p.ids[ref]; !ok || text(el) == "" {
				tb.Errorf("svg %d: aria-labelledby %q names no element with text", n, ref)
			}
		}
	}
	return n
}
