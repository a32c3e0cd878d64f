// Package templates renders Gatehouse's hosted pages: sign-in,
// registration, consent, logout and the error page.
//
// New parses every page once, together with one shared layout, and renders
// each with zero data so that html/template's contextual escaping is settled
// at start-up rather than on the first request. Each Renderer method takes a
// typed page struct whose string fields are plain text; html/template
// escapes them for their context. A page is rendered into a buffer and
// written out only when execution succeeded, so a failure never leaves half
// a page on the wire: the caller can still send an error page instead.
//
// The pages work without JavaScript and carry none. Stable id attributes
// (login-submit, register-username-error …) are the contract for browser
// tests. The theme comes from configuration: the product name and logo, and
// the primary colour, which reaches the page as one inline
// `:root{--primary:…}` rule whose CSP hash StyleHash reports.
package templates
