// Package ratelimit limits how often a key (a client IP, an account, an
// OAuth client) may do something, in-process or shared through Redis.
//
// A Rule is a number of requests per window ("20/1m", see ParseRule). Both
// limiters implement it with the generic cell rate algorithm (GCRA): each
// key keeps one timestamp, its theoretical arrival time (TAT). A rule of N
// per W lets N requests through at once and then one every W/N, and a
// denied request is told exactly when the next one would pass
// (Decision.RetryAfter). A denied request does not count.
//
//   - Memory keeps the TATs in a map guarded by a mutex, with an injected
//     clock. A TAT in the past means the same as no entry, so idle keys are
//     swept away and memory stays bounded by the keys active in their window.
//   - Redis runs one Lua script per request that reads the server's TIME,
//     so several Gatehouse instances share counters exactly, whatever their
//     clocks say. Each key expires with its TAT.
//   - Failover uses Redis while it answers and the in-process limiter while
//     it does not: limits stay on (per instance) instead of failing open to
//     "allow everything". FailoverCounter does the same for counters.
//   - Breaker, shared by both, gives each Redis call a short deadline and,
//     after a few failures in a row, leaves Redis alone for a cool-down,
//     then lets one probe through. A Redis that has stopped answering so
//     costs a few short timeouts, not every request's wait. It logs the
//     switch to degraded and back once each.
//
// Middleware applies a list of KeyedRules to a route. Each rule takes its
// key from the request (ByIP, ByFormField, ByClient); an empty key skips
// the rule. When any rule denies, the middleware sets Retry-After and hands
// the Decision with the longest wait to onLimited; Respond is the usual
// onLimited: JSON for API paths, a *LimitedError (429) for pages, which the
// central error handler turns into a page.
package ratelimit
