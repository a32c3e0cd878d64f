package egress

import (
	"errors"
	"fmt"
	"net/netip"
	"net/url"
	"strings"
)

// ErrForbiddenDestination is returned for every call, URL or address the
// rules refuse.
var ErrForbiddenDestination = errors.New("egress: forbidden destination")

// Policy is the set of rules outbound calls are held to. The zero value
// is the strict production policy.
type Policy struct {
	// AllowPrivateNetworks allows http and every address, loopback and
	// private ranges included: for development and tests only.
	AllowPrivateNetworks bool
}

// ForbiddenError is a refusal with its reason. It matches
// ErrForbiddenDestination under errors.Is.
type ForbiddenError struct {
	// Reason completes "not an allowed destination: …" and never
	// repeats the URL.
	Reason string
}

func (e *ForbiddenError) Error() string { return ErrForbiddenDestination.Error() + ": " + e.Reason }

// Unwrap makes errors.Is(err, ErrForbiddenDestination) hold.
func (e *ForbiddenError) Unwrap() error { return ErrForbiddenDestination }

func forbidden(format string, args ...any) error {
	return &ForbiddenError{Reason: fmt.Sprintf(format, args...)}
}

// CheckURL applies the rules that need no network: an absolute https URL
// without user information whose host is not a loopback name or a
// refused IP literal. The error says why, without repeating the URL.
func (p Policy) CheckURL(raw string) error {
	u, err := url.Parse(raw)
	if err != nil || !u.IsAbs() || u.Host == "" {
		return forbidden("not an absolute URL")
	}
	return p.checkParsed(u)
}

func (p Policy) checkParsed(u *url.URL) error {
	switch scheme := strings.ToLower(u.Scheme); {
	case scheme == "https":
	case scheme == "http" && p.AllowPrivateNetworks:
	default:
		return forbidden("the scheme must be https")
	}
	if u.User != nil {
		return forbidden("the URL must not contain user information")
	}
	host := strings.TrimSuffix(strings.ToLower(u.Hostname()), ".")
	if host == "" {
		return forbidden("the URL has no host")
	}
	if p.AllowPrivateNetworks {
		return nil
	}
	// RFC 6761 §6.3: localhost and every name under it are loopback.
	if host == "localhost" || strings.HasSuffix(host, ".localhost") {
		return forbidden("the host is a loopback name")
	}
	if ip, err := netip.ParseAddr(host); err == nil {
		return p.CheckAddr(ip)
	}
	// No public DNS name ends in a numeric label; resolvers read hosts such
	// as "2130706433" or "127.1" as IPv4 addresses.
	last := host[strings.LastIndexByte(host, '.')+1:]
	if last == "" || strings.Trim(last, "0123456789") == "" || strings.HasPrefix(last, "0x") {
		return forbidden("the host is not a valid DNS name")
	}
	return nil
}

// CheckAddr refuses an address outside global unicast space.
func (p Policy) CheckAddr(ip netip.Addr) error {
	if p.AllowPrivateNetworks {
		return nil
	}
	if !IsPublic(ip) {
		return forbidden("%s is not a public address", ip.Unmap())
	}
	return nil
}

// refusedPrefixes are the ranges netip's predicates do not cover: special
// purpose space from the IANA IPv4 and IPv6 special-purpose registries
// (RFC 6890) that is not globally reachable, and the IPv6 ranges that
// carry an IPv4 address inside and could reach it through a translator.
var refusedPrefixes = []netip.Prefix{
	netip.MustParsePrefix("0.0.0.0/8"),       // RFC 791 "this network"
	netip.MustParsePrefix("100.64.0.0/10"),   // RFC 6598 CGNAT shared space
	netip.MustParsePrefix("192.0.0.0/24"),    // RFC 6890 IETF protocol assignments
	netip.MustParsePrefix("192.0.2.0/24"),    // RFC 5737 TEST-NET-1
	netip.MustParsePrefix("192.88.99.0/24"),  // RFC 7526 6to4 relay anycast
	netip.MustParsePrefix("198.18.0.0/15"),   // RFC 2544 benchmarking
	netip.MustParsePrefix("198.51.100.0/24"), // RFC 5737 TEST-NET-2
	netip.MustParsePrefix("203.0.113.0/24"),  // RFC 5737 TEST-NET-3
	netip.MustParsePrefix("240.0.0.0/4"),     // RFC 1112 reserved, broadcast included
	netip.MustParsePrefix("::/96"),           // RFC 4291 IPv4-compatible (deprecated)
	netip.MustParsePrefix("::ffff:0:0:0/96"), // RFC 2765 IPv4-translated
	netip.MustParsePrefix("64:ff9b::/96"),    // RFC 6052 NAT64
	netip.MustParsePrefix("64:ff9b:1::/48"),  // RFC 8215 local NAT64
	netip.MustParsePrefix("100::/64"),        // RFC 6666 discard
	netip.MustParsePrefix("2001::/23"),       // RFC 2928 IETF protocol assignments, Teredo included
	netip.MustParsePrefix("2001:db8::/32"),   // RFC 3849 documentation
	netip.MustParsePrefix("2002::/16"),       // RFC 3056 6to4
	netip.MustParsePrefix("3fff::/20"),       // RFC 9637 documentation
	netip.MustParsePrefix("5f00::/16"),       // RFC 9602 SRv6 SIDs
	netip.MustParsePrefix("fec0::/10"),       // RFC 3879 site-local (deprecated)
}

// IsPublic reports whether ip is a global unicast address outside every
// private and special-purpose range. An IPv4-mapped IPv6 address is
// judged as the IPv4 address it carries; an address with a zone is never
// public.
func IsPublic(ip netip.Addr) bool {
	if !ip.IsValid() || ip.Zone() != "" {
		return false
	}
	ip = ip.Unmap()
	// IsGlobalUnicast is false for loopback, link-local, multicast,
	// unspecified and the IPv4 broadcast address; IsPrivate covers RFC 1918
	// and fc00::/7.
	if !ip.IsGlobalUnicast() || ip.IsPrivate() {
		return false
	}
	for _, p := range refusedPrefixes {
		if p.Contains(ip) {
			return false
		}
	}
	return true
}
