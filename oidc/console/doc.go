// Package console serves the admin console at /admin: server-rendered
// pages for the people who run Gatehouse, calling the same identity
// services as the admin API (identity.UserAdmin, identity.Roles, the
// user search), so the two can never disagree about a rule.
//
// Every console route sits behind Guard(permission). At each request it
// reads the browser session again, the user behind it (who must be
// active) and the permissions their roles grant now (a demotion takes
// effect at the next click), then:
//
//   - nobody signed in: a redirect to the sign-in page, with "next"
//     pointing back;
//   - signed in without the permission: the 403 page;
//   - signed in longer ago than MaxAuthAge: the sign-in page again, which
//     over one's own session asks for the password and the second factor
//     again (no remembered browser stands in), then back to the page;
//   - otherwise the page, with the Viewer (ViewerOf) whose Actor is what
//     the services are called with and audited as.
//
// Every answer is sent with Cache-Control: no-store, every form carries
// the CSRF token of the hosted pages, and every page works without
// JavaScript: a change that cannot be taken back (deactivate, end all
// sessions, delete) is a link to a confirmation page whose button posts
// it. A refusal of the services is shown on the page in words: field
// errors next to their inputs, the last administrator who must stay, a
// user changed by someone else meanwhile (the form carries the ETag it
// was made from); forbidden is the 403 page and unknown the 404 page.
//
// The OAuth clients section (Handler.Clients, clientreg.Admin) and the
// audit trail viewer (Handler.Audit, audit.Log) are served here too when
// their services are set. A client's secret is shown once, on the page
// that answers its registration or rotation (no-store like every page);
// the audit chain is verified only when the viewer asks for it, as the
// walk reads the whole trail since the last checkpoint.
//
// Other parts of the console (usage figures) register their pages with
// Handler.Route, each behind Guard with its permission, list themselves
// in Handler.Sections and render the navigation with
// Handler.Nav(ViewerOf(c), path).
package console
