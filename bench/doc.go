// Command bench is a closed-loop HTTP load generator for a local Gatehouse.
//
// Each of -concurrency workers sends one request, waits for the answer,
// checks it and sends the next, so the offered load follows the server's
// speed instead of a fixed rate. The run has two phases: -warmup, whose
// answers are checked but not counted, and -duration, whose answers are
// counted and timed into a fixed-size histogram per worker. When the
// measured phase ends no new request starts; those in flight may finish
// within a few seconds' grace, are left out of the figures, and are then
// cancelled, so the program always stops soon after warmup+duration.
//
// The introspect scenario first obtains -tokens access tokens through the
// client_credentials grant and then cycles through them. The login-flood
// scenario is not closed-loop: it registers -users accounts, opens the
// login form of an authorization request for each, sends every sign-in at
// the same moment and probes discovery meanwhile (see flood.go). Targets must be
// loopback addresses: this is a tool for measuring your own build, not for
// loading someone else's server.
//
// bench/run.sh starts a server per database and runs every scenario.
//
// With -fault the program is a fault runner instead (fault.go): for each
// named scenario it starts `gatehouse serve` (-gatehouse) on a fresh
// PostgreSQL schema, with a TCP proxy in front of the database or an SMTP
// sink of its own where the scenario needs one, breaks the proxy, the
// sink or the process while it drives the server with the scenarios
// above, and prints the answers it got with PASS or FAIL against the
// targets. bench/faults.sh builds both programs and runs it.
package main
