// Package egress owns the one HTTP client through which Gatehouse calls
// out on behalf of someone else: a client's jwks_uri and
// backchannel_logout_uri today, webhooks, request URIs and upstream
// identity providers later. Whoever registers such a URL chooses where
// the server connects, so every call is held to the same rules
// (server-side request forgery, OWASP ASVS 5.0 V13):
//
//  1. Policy.CheckURL looks at the URL alone: https only, no user
//     information, and a host that is neither "localhost" (nor a name
//     under .localhost) nor an IP literal in a refused range. Client
//     registration uses it to turn such URLs away before they are stored.
//  2. Client.Do checks the URL again, then resolves the host itself and
//     dials only addresses in global unicast space; the dialer's Control
//     hook checks the address of the actual socket once more, so a name
//     that resolves to 127.0.0.1, or whose DNS answer changes between the
//     check and the connection (DNS rebinding), cannot reach an internal
//     service. Refused ranges: loopback, RFC 1918 and fc00::/7 private,
//     link-local (169.254/16 with the cloud metadata services, fe80::/10),
//     multicast, unspecified, CGNAT 100.64/10, documentation, benchmarking
//     and reserved space, and the IPv6 forms that embed an IPv4 address
//     (IPv4-mapped, IPv4-compatible, NAT64, 6to4, Teredo).
//  3. Redirects are not followed: the registered URL is the only
//     destination. Proxy environment variables are ignored, so the check
//     applies to the real peer. Connecting, the TLS handshake, the wait
//     for response headers and the whole call have time limits, and a
//     response body larger than the cap fails with ErrResponseTooLarge.
//
// Every refusal wraps ErrForbiddenDestination, which callers treat as a
// permanent failure. Policy.AllowPrivateNetworks lifts the address rules
// and allows http, for development and tests against local servers.
package egress
