// Package templates renders Gatehouse's hosted pages (sign-in,
// registration, consent, logout, password recovery, e-mail verification,
// the account area and the error page) and its transactional e-mails.
//
// New parses every page once, together with one shared layout and the
// labelled-input partials of fields.html, and renders each with zero data
// so that html/template's contextual escaping is settled at start-up rather
// than on the first request. Each Renderer method takes a typed page struct
// whose string fields are plain text; html/template escapes them for their
// context. A page is rendered into a buffer and written out only when
// execution succeeded, so a failure never leaves half a page on the wire:
// the caller can still send an error page instead.
//
// The pages work without JavaScript and carry none. Every input has a
// visible label and its autocomplete token, every POST form a csrf field;
// a field's error sits directly under it and is named by aria-invalid and
// aria-describedby, and a confirmation is a role="status" element with
// id="notice". Stable id attributes (login-submit, username-error,
// verify-code …) are the contract for browser tests. The theme comes from
// configuration: the product name and logo, and the primary colour, which
// reaches the page as one inline `:root{--primary:…}` rule whose CSP hash
// StyleHash reports.
//
// RenderMail turns an identity.Mail into a subject, a plain-text body
// (text/template, mail_<kind>.txt) and an HTML body (html/template,
// mail_<kind>.html), each kind inside a shared mail_layout. Mail clients
// ignore stylesheets and remote images, so the HTML carries inline styles
// with the theme's colour and names the product in text instead of a logo.
package templates
