package static

import "embed"

// FS holds the static assets at its root: style.css, logo.svg and the
// scripts (*.js, e.g. altcha.js for the proof-of-work CAPTCHA).
//
//go:embed style.css logo.svg *.js
var FS embed.FS
