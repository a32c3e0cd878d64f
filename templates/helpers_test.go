package templates

import (
	"bytes"
	"crypto/sha256"
	"encoding/base64"
	"io"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"golang.org/x/net/html"
	"golang.org/x/net/html/atom"
)

// MustNew returns a Renderer for theme or fails the test.
func MustNew(tb testing.TB, theme Theme) *Renderer {
	tb.Helper()
	r, err := New(theme)
	if err != nil {
		tb.Fatalf("New(%+v): %v", theme, err)
	}
	return r
}

// page is a rendered and parsed page.
type page struct {
	raw string
	doc *html.Node
	ids map[string]*html.Node
}

// mustRender renders with fn and parses the result, failing on duplicate ids.
func mustRender(tb testing.TB, fn func(w io.Writer) error) page {
	tb.Helper()
	var buf bytes.Buffer
	if err := fn(&buf); err != nil {
		tb.Fatalf("render: %v", err)
	}
	doc, err := html.Parse(strings.NewReader(buf.String()))
	if err != nil {
		tb.Fatalf("html.Parse: %v", err)
	}
	p := page{raw: buf.String(), doc: doc, ids: map[string]*html.Node{}}
	for _, n := range elements(doc, 0) {
		if id, ok := attr(n, "id"); ok {
			if _, dup := p.ids[id]; dup {
				tb.Errorf("duplicate id %q", id)
			}
			p.ids[id] = n
		}
	}
	return p
}

// elements returns the element nodes under n in document order, only those
// of type a unless a is 0.
func elements(n *html.Node, a atom.Atom) []*html.Node {
	var out []*html.Node
	for d := range n.Descendants() {
		if d.Type == html.ElementNode && (a == 0 || d.DataAtom == a) {
			out = append(out, d)
		}
	}
	return out
}

func attr(n *html.Node, key string) (string, bool) {
	for _, a := range n.Attr {
		if a.Key == key {
			return a.Val, true
		}
	}
	return "", false
}

// text is n's text content with whitespace collapsed.
func text(n *html.Node) string {
	var b strings.Builder
	for d := range n.Descendants() {
		if d.Type == html.TextNode {
			b.WriteString(d.Data)
		}
	}
	return strings.Join(strings.Fields(b.String()), " ")
}

func (p page) byID(tb testing.TB, id string) *html.Node {
	tb.Helper()
	n, ok := p.ids[id]
	if !ok {
		tb.Fatalf("no element with id %q", id)
	}
	return n
}

func (p page) first(tb testing.TB, a atom.Atom) *html.Node {
	tb.Helper()
	els := elements(p.doc, a)
	if len(els) == 0 {
		tb.Fatalf("no <%s> element", a)
	}
	return els[0]
}

// hiddenInputs maps the name of each hidden input under n to its value.
func hiddenInputs(n *html.Node) map[string]string {
	m := map[string]string{}
	for _, in := range elements(n, atom.Input) {
		if typ, _ := attr(in, "type"); typ == "hidden" {
			name, _ := attr(in, "name")
			m[name], _ = attr(in, "value")
		}
	}
	return m
}

// checkLayout checks the parts every page shares.
func checkLayout(t *testing.T, r *Renderer, p page, wantTitle string) {
	t.Helper()
	if !strings.HasPrefix(p.raw, "<!doctype html>\n") {
		t.Errorf("page does not start with <!doctype html>: %.40q", p.raw)
	}
	if lang, _ := attr(p.first(t, atom.Html), "lang"); lang != "en" {
		t.Errorf("<html lang> = %q, want en", lang)
	}
	if got := text(p.first(t, atom.Title)); got != wantTitle {
		t.Errorf("<title> = %q, want %q", got, wantTitle)
	}
	metas := map[string]string{}
	for _, m := range elements(p.doc, atom.Meta) {
		if name, ok := attr(m, "name"); ok {
			metas[name], _ = attr(m, "content")
		}
		if cs, ok := attr(m, "charset"); ok {
			metas["charset"] = cs
		}
	}
	for k, v := range map[string]string{"charset": "utf-8", "referrer": "no-referrer", "viewport": "width=device-width, initial-scale=1"} {
		if metas[k] != v {
			t.Errorf("<meta %s> = %q, want %q", k, metas[k], v)
		}
	}
	var sheets []string
	for _, l := range elements(p.doc, atom.Link) {
		if rel, _ := attr(l, "rel"); rel == "stylesheet" {
			href, _ := attr(l, "href")
			sheets = append(sheets, href)
		}
	}
	if diff := cmp.Diff([]string{"/static/style.css"}, sheets); diff != "" {
		t.Errorf("stylesheets mismatch (-want +got):\n%s", diff)
	}
	if alt, _ := attr(p.first(t, atom.Img), "alt"); alt != "Acme ID" {
		t.Errorf("logo alt = %q, want %q", alt, "Acme ID")
	}
	if got := elements(p.doc, atom.Main); len(got) != 1 {
		t.Errorf("page has %d <main> elements, want 1", len(got))
	}
	checkStyleHash(t, r, p)
	for _, b := range elements(p.doc, atom.Button) {
		if text(b) == "" {
			t.Errorf("button %v has no text", b.Attr)
		}
	}
	for _, a := range elements(p.doc, atom.A) {
		if text(a) == "" && len(elements(a, atom.Img)) == 0 {
			t.Errorf("link %v has no text", a.Attr)
		}
	}
}

// checkInputs checks that every visible input and select has a visible
// label and the expected autocomplete token, and that no other visible
// inputs exist.
func checkInputs(t *testing.T, p page, want map[string]string) {
	t.Helper()
	labels := map[string]string{}
	for _, l := range elements(p.doc, atom.Label) {
		if f, ok := attr(l, "for"); ok {
			labels[f] = text(l)
		}
	}
	got := map[string]string{}
	for _, in := range elements(p.doc, 0) {
		if in.DataAtom != atom.Input && in.DataAtom != atom.Select {
			continue
		}
		if typ, _ := attr(in, "type"); typ == "hidden" {
			continue
		}
		if _, hidden := attr(in, "hidden"); hidden {
			continue // not rendered, so it needs no label (password-username)
		}
		id, _ := attr(in, "id")
		got[id], _ = attr(in, "autocomplete")
		if labels[id] == "" {
			t.Errorf("input %q has no <label for> with text", id)
		}
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("visible inputs (id → autocomplete) mismatch (-want +got):\n%s", diff)
	}
}

// checkForms checks that every POST form carries the CSRF token.
func checkForms(t *testing.T, p page) {
	t.Helper()
	for _, f := range elements(p.doc, atom.Form) {
		if m, _ := attr(f, "method"); !strings.EqualFold(m, "post") {
			t.Errorf("form %v is not method=post", f.Attr)
			continue
		}
		if got := hiddenInputs(f)["csrf"]; got != csrf {
			t.Errorf("form %v csrf = %q, want %q", f.Attr, got, csrf)
		}
	}
}

// checkARIA checks that every aria-describedby reference resolves, and that
// every control marked invalid names its error, which follows it directly.
func checkARIA(t *testing.T, p page) {
	t.Helper()
	for _, el := range elements(p.doc, 0) {
		id, _ := attr(el, "id")
		db, _ := attr(el, "aria-describedby")
		for _, ref := range strings.Fields(db) {
			if _, ok := p.ids[ref]; !ok {
				t.Errorf("%q: aria-describedby names missing id %q", id, ref)
			}
		}
		if inv, _ := attr(el, "aria-invalid"); inv == "true" {
			refs := strings.Fields(db)
			if len(refs) == 0 || !strings.HasSuffix(refs[0], "-error") {
				t.Errorf("%q is aria-invalid but aria-describedby = %q does not start with its error", id, db)
				continue
			}
			if next := nextElement(el); next == nil || next != p.ids[refs[0]] {
				t.Errorf("%q: error %q is not the element right after the control", id, refs[0])
			}
		}
	}
}

func checkNoScript(t *testing.T, p page) {
	t.Helper()
	if n := len(elements(p.doc, atom.Script)); n != 0 {
		t.Errorf("page has %d <script> elements, want 0", n)
	}
	for _, el := range elements(p.doc, 0) {
		for _, a := range el.Attr {
			if strings.HasPrefix(a.Key, "on") || strings.HasPrefix(strings.TrimSpace(a.Val), "javascript:") {
				t.Errorf("<%s> has script attribute %s=%q", el.Data, a.Key, a.Val)
			}
		}
	}
}

func checkStyleHash(t *testing.T, r *Renderer, p page) {
	t.Helper()
	styles := elements(p.doc, atom.Style)
	if len(styles) != 1 {
		t.Fatalf("page has %d <style> elements, want 1", len(styles))
	}
	css := text(styles[0])
	sum := sha256.Sum256([]byte(styles[0].FirstChild.Data))
	want := "'sha256-" + base64.StdEncoding.EncodeToString(sum[:]) + "'"
	if got := r.StyleHash(); got != want {
		t.Errorf("StyleHash() = %s, want %s (hash of %q)", got, want, css)
	}
	if css != ":root{--primary:#2563eb}" {
		t.Errorf("inline style = %q, want only the --primary rule", css)
	}
}

func nextElement(n *html.Node) *html.Node {
	for s := n.NextSibling; s != nil; s = s.NextSibling {
		if s.Type == html.ElementNode {
			return s
		}
	}
	return nil
}

// checkNotice checks that the page's notice is a status message with want
// as its text.
func checkNotice(t *testing.T, p page, want string) {
	t.Helper()
	n := p.byID(t, "notice")
	if role, _ := attr(n, "role"); role != "status" {
		t.Errorf("notice role = %q, want status", role)
	}
	if got := text(n); got != want {
		t.Errorf("notice = %q, want %q", got, want)
	}
}

// checkAbsent fails for every id of ids the page has.
func checkAbsent(t *testing.T, p page, ids ...string) {
	t.Helper()
	for _, id := range ids {
		if _, ok := p.ids[id]; ok {
			t.Errorf("id %q present", id)
		}
	}
}

// formActions lists the action of every form in document order.
func formActions(p page) []string {
	var out []string
	for _, f := range elements(p.doc, atom.Form) {
		a, _ := attr(f, "action")
		out = append(out, a)
	}
	return out
}

// enclosingForm returns the form n belongs to, or nil.
func enclosingForm(n *html.Node) *html.Node {
	for p := n.Parent; p != nil; p = p.Parent {
		if p.DataAtom == atom.Form {
			return p
		}
	}
	return nil
}
