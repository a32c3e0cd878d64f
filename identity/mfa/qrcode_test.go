package mfa_test

import (
	"encoding/xml"
	"fmt"
	"image/color"
	"regexp"
	"strconv"
	"strings"
	"testing"

	"github.com/boombuler/barcode/qr"

	"gatehouse/identity/mfa"
)

// svgDoc is the part of QRCodeSVG's output the test reads.
type svgDoc struct {
	XMLName xml.Name `xml:"http://www.w3.org/2000/svg svg"`
	ViewBox string   `xml:"viewBox,attr"`
	Rect    struct {
		Width  string `xml:"width,attr"`
		Height string `xml:"height,attr"`
		Fill   string `xml:"fill,attr"`
	} `xml:"rect"`
	Path struct {
		D    string `xml:"d,attr"`
		Fill string `xml:"fill,attr"`
	} `xml:"path"`
}

// TestQRCodeSVG: the SVG parses, measures the QR symbol plus a 4-module
// quiet zone on each side, and its dark modules are exactly the QR
// matrix's, shifted by the quiet zone.
func TestQRCodeSVG(t *testing.T) {
	for _, content := range []string{
		"otpauth://totp/Gatehouse:ada?algorithm=SHA1&digits=6&issuer=Gatehouse&period=30&secret=GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ",
		"x",
		strings.Repeat("otpauth://totp/a-rather-long-account-name ", 8),
	} {
		t.Run(fmt.Sprintf("%d bytes", len(content)), func(t *testing.T) {
			svg, err := mfa.QRCodeSVG(content)
			if err != nil {
				t.Fatal(err)
			}
			var doc svgDoc
			if err := xml.Unmarshal([]byte(svg), &doc); err != nil {
				t.Fatalf("not well-formed SVG: %v\n%s", err, svg)
			}
			want, err := qr.Encode(content, qr.M, qr.Auto)
			if err != nil {
				t.Fatal(err)
			}
			n := want.Bounds().Dx()
			// A version-v symbol is 17 + 4v modules wide (ISO/IEC 18004 §6.3.1).
			if v := (n - 17) / 4; (n-17)%4 != 0 || v < 1 || v > 40 {
				t.Fatalf("QR matrix is %d modules wide: not a QR version", n)
			}
			size := n + 2*4
			if got, want := doc.ViewBox, fmt.Sprintf("0 0 %d %d", size, size); got != want {
				t.Errorf("viewBox = %q, want %q", got, want)
			}
			if doc.Rect.Width != strconv.Itoa(size) || doc.Rect.Height != strconv.Itoa(size) || doc.Rect.Fill != "#fff" {
				t.Errorf("background rect = %+v, want %d wide and white", doc.Rect, size)
			}
			dark := parsePath(t, doc.Path.D, size)
			for y := range size {
				for x := range size {
					wantDark := false
					if x >= 4 && y >= 4 && x < 4+n && y < 4+n {
						wantDark = color.GrayModel.Convert(want.At(x-4, y-4)).(color.Gray).Y == 0
					}
					if dark[y][x] != wantDark {
						t.Fatalf("module (%d,%d) dark = %v, want %v", x, y, dark[y][x], wantDark)
					}
				}
			}
		})
	}
}

// parsePath draws the "M x yhNv1h-Nz" runs of the path into a matrix.
func parsePath(t *testing.T, d string, size int) [][]bool {
	t.Helper()
	grid := make([][]bool, size)
	for i := range grid {
		grid[i] = make([]bool, size)
	}
	run := regexp.MustCompile(`M(\d+) (\d+)h(\d+)v1h-(\d+)z`)
	if rest := run.ReplaceAllString(d, ""); rest != "" {
		t.Fatalf("path has more than module runs: %q", rest)
	}
	for _, m := range run.FindAllStringSubmatch(d, -1) {
		x, _ := strconv.Atoi(m[1])
		y, _ := strconv.Atoi(m[2])
		w, _ := strconv.Atoi(m[3])
		if m[3] != m[4] || y >= size || x+w > size {
			t.Fatalf("bad run %q", m[0])
		}
		for i := x; i < x+w; i++ {
			if grid[y][i] {
				t.Fatalf("module (%d,%d) drawn twice", i, y)
			}
			grid[y][i] = true
		}
	}
	return grid
}
