package main

import (
	"context"
	"encoding/json"
	"fmt"
	"testing"

	"github.com/chromedp/cdproto/accessibility"
	"github.com/chromedp/cdproto/cdp"
	"github.com/chromedp/chromedp"
)

// controlFacts is what the page itself says about one form control.
type controlFacts struct {
	ID           string `json:"id"`
	Name         string `json:"name"`
	Attribute    string `json:"attribute"`    // autocomplete as written
	Autocomplete string `json:"autocomplete"` // as the browser understood it: empty unless a standard token
	Labels       int    `json:"labels"`
	Visible      bool   `json:"visible"`
}

// controlsJS lists the page's form controls; hidden inputs carry no data a
// person types and are left out.
const controlsJS = `Array.from(document.querySelectorAll('input:not([type="hidden"]), select, textarea')).map(function (el) {
	return {id: el.id, name: el.name, attribute: el.getAttribute("autocomplete") || "",
		autocomplete: el.autocomplete, labels: el.labels ? el.labels.length : 0, visible: el.checkVisibility()};
})`

// namedRoles are the accessibility roles a person operates; each needs a
// name a screen reader can say.
var namedRoles = map[string]bool{
	"button": true, "textbox": true, "searchbox": true, "combobox": true, "listbox": true,
	"checkbox": true, "radio": true, "spinbutton": true, "switch": true, "link": true,
}

// checkAccessible holds the page now shown to the pages' accessibility
// contract, in the DOM the browser built: every control carries its
// standard autocomplete token and, when shown, a label; everything one can
// press or type into has an accessible name, as Chromium computes it for
// assistive technology. It also fails t on any console error or CSP
// violation so far.
func (tb *tab) checkAccessible(t testing.TB) {
	t.Helper()
	where, _ := chromedp.Run(tb.ctx, chromedp.Location())
	controls, err := chromedp.Run(tb.ctx, chromedp.Evaluate[[]controlFacts](controlsJS))
	if err != nil {
		t.Fatalf("%s: list the controls: %v", where, err)
	}
	for _, c := range controls {
		what := fmt.Sprintf("%s: control #%s (%s)", where, c.ID, c.Name)
		switch {
		case c.Attribute == "":
			t.Errorf("%s has no autocomplete attribute", what)
		case c.Autocomplete == "":
			t.Errorf("%s: autocomplete=%q is not a standard token", what, c.Attribute)
		}
		if c.Visible && c.Labels == 0 {
			t.Errorf("%s has no label", what)
		}
	}
	nodes, err := chromedp.Run(tb.ctx, chromedp.Action[[]*accessibility.Node](func(ctx context.Context, tg *chromedp.Target) ([]*accessibility.Node, error) {
		res, err := cdp.Call(ctx, tg, accessibility.GetFullAXTree, accessibility.GetFullAXTreeParams{})
		return res.Nodes, err
	}))
	if err != nil {
		t.Fatalf("%s: accessibility tree: %v", where, err)
	}
	operable := 0
	for _, n := range nodes {
		if n.Ignored {
			continue
		}
		role := axString(n.Role)
		if !namedRoles[role] {
			continue
		}
		operable++
		if axString(n.Name) == "" {
			t.Errorf("%s: a %s (DOM node %d) has no accessible name", where, role, n.BackendDOMNodeID)
		}
	}
	// A page whose tree has no control at all was not the page under test.
	if operable == 0 {
		t.Errorf("%s: the accessibility tree has no controls", where)
	}
	tb.noProblems(t)
}

func axString(v *accessibility.Value) string {
	if v == nil || len(v.Value) == 0 {
		return ""
	}
	var s string
	if err := json.Unmarshal(v.Value, &s); err != nil {
		return ""
	}
	return s
}
