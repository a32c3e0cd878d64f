// Package usagepage serves the managers' usage dashboard: a GET form for
// the period and client, the figures of a usage.Report as inline SVG
// charts each beside a table of its numbers, and the same numbers as one
// CSV download. It mounts on a group the caller has already guarded: who
// may see the page is the admin console's decision, not this package's.
//
// The flow of a request: the query is read into a usage.Query (a bad one
// shows the form again with its message and status 400), the report is
// fetched, and the page or the CSV is made from it. Suppressed counts
// stay suppressed all the way: the page and the CSV write "< MinCell".
package usagepage
