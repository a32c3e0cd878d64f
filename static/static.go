package static

import "embed"

// FS holds the static assets at its root: style.css and logo.svg.
//
//go:embed style.css logo.svg
var FS embed.FS
