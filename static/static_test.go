package static

import (
	"bytes"
	"encoding/xml"
	"errors"
	"io"
	"io/fs"
	"strings"
	"testing"
)

func TestFS(t *testing.T) {
	tests := []struct {
		name  string
		check func(t *testing.T, b []byte)
	}{
		{name: "style.css", check: checkCSS},
		{name: "logo.svg", check: checkSVG},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			b, err := fs.ReadFile(FS, tc.name)
			if err != nil {
				t.Fatalf("ReadFile(%q): %v", tc.name, err)
			}
			tc.check(t, b)
			// No CDN, no external fonts, no scripts.
			for _, bad := range []string{"http://", "https://", "@import", "<script", "javascript:"} {
				// The SVG namespace URI is an identifier, not a fetch.
				s := strings.ReplaceAll(string(b), `xmlns="http://www.w3.org/2000/svg"`, "")
				if strings.Contains(s, bad) {
					t.Errorf("%s contains %q", tc.name, bad)
				}
			}
		})
	}
}

func checkCSS(t *testing.T, b []byte) {
	t.Helper()
	depth := 0
	for i, c := range string(b) {
		switch c {
		case '{':
			depth++
		case '}':
			depth--
			if depth < 0 {
				t.Fatalf("style.css: unbalanced '}' at byte %d", i)
			}
		}
	}
	if depth != 0 {
		t.Errorf("style.css: %d unclosed '{'", depth)
	}
	for _, want := range []string{"--primary", "prefers-color-scheme: dark", ":focus-visible", ".button-secondary", ".field-error",
		".notice", ".badge-ok", ".badge-warn", ".account-nav", "select"} {
		if !bytes.Contains(b, []byte(want)) {
			t.Errorf("style.css lacks %q", want)
		}
	}
}

func checkSVG(t *testing.T, b []byte) {
	t.Helper()
	d := xml.NewDecoder(bytes.NewReader(b))
	var root string
	for {
		tok, err := d.Token()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			t.Fatalf("logo.svg is not well-formed XML: %v", err)
		}
		if se, ok := tok.(xml.StartElement); ok && root == "" {
			root = se.Name.Local
		}
	}
	if root != "svg" {
		t.Errorf("logo.svg root element = %q, want svg", root)
	}
}
