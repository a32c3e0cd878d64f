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
package main
