// Package static holds the files Gatehouse serves under /static/: one
// hand-written stylesheet and the default logo.
//
// The files are embedded in the binary (FS), so a deployment needs no asset
// directory and no CDN. The hosted pages (package templates) link to
// /static/style.css and, unless a logo is configured, /static/logo.svg; the
// HTTP layer serves FS at that prefix. The stylesheet reads the theme from
// CSS variables: each page sets --primary from configuration in a tiny inline
// <style>, everything else derives from it or from the light/dark palette.
//
// altcha.js is the one script: it solves the proof-of-work CAPTCHA (oidc/captcha) where a form asks for it. Scripts the platform needs later
// (WebAuthn, proof-of-work) belong in this package too, self-hosted.
//
// screenshots/ holds the pictures README shows, taken by the browser tier;
// they are not embedded or served.
package static
