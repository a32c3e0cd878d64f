package mfa

import (
	"fmt"
	"image/color"
	"strings"

	"github.com/boombuler/barcode/qr"
)

// quietZone is the light border around a QR code, in modules (ISO/IEC
// 18004 §6.3.8 asks for 4), without which scanners miss the finder
// patterns on a dark page.
const quietZone = 4

// QRCodeSVG renders content as a QR code in SVG, drawn here from the
// module matrix so that no third-party service ever sees an otpauth://
// URI. One SVG unit is one module; the page scales it. Dark modules are
// one path, a run of adjacent modules per subpath, so the markup stays
// small.
func QRCodeSVG(content string) (string, error) {
	code, err := qr.Encode(content, qr.M, qr.Auto)
	if err != nil {
		return "", fmt.Errorf("mfa: qr code: %w", err)
	}
	n := code.Bounds().Dx()
	size := n + 2*quietZone
	var path strings.Builder
	for y := range n {
		for x := 0; x < n; {
			if !isDark(code.At(x, y)) {
				x++
				continue
			}
			run := 1
			for x+run < n && isDark(code.At(x+run, y)) {
				run++
			}
			fmt.Fprintf(&path, "M%d %dh%dv1h-%dz", x+quietZone, y+quietZone, run, run)
			x += run
		}
	}
	return fmt.Sprintf(`<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 %d %d" width="%d" height="%d" `+
		`shape-rendering="crispEdges" role="img" aria-label="QR code">`+
		`<rect width="%d" height="%d" fill="#fff"/><path fill="#000" d="%s"/></svg>`,
		size, size, size*4, size*4, size, size, path.String()), nil
}

// isDark reports a dark module of the barcode's colour model (black or
// white only).
func isDark(c color.Color) bool {
	r, _, _, _ := c.RGBA()
	return r < 0x8000
}
