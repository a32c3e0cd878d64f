package egress

import (
	"errors"
	"net/netip"
	"testing"
)

// TestCheckURLRefusesInternalDestinations: the URLs an attacker registers
// to make the server call into its own network are refused by the strict
// policy and allowed only when private networks are.
func TestCheckURLRefusesInternalDestinations(t *testing.T) {
	for _, raw := range []string{
		"http://127.0.0.1:8080/jwks",
		"http://localhost:6379/",
		"https://localhost/",
		"https://LOCALHOST./",
		"https://redis.localhost/",
		"https://10.0.0.1/",
		"https://172.16.5.4/",
		"https://192.168.1.1/",
		"https://169.254.169.254/latest/meta-data",
		"https://[fd00:ec2::254]/latest/meta-data",
		"https://[::1]/",
		"https://[::ffff:127.0.0.1]/",
		"https://[::ffff:169.254.169.254]/",
		"https://[::127.0.0.1]/",
		"https://[64:ff9b::7f00:1]/",
		"https://[fe80::1%25eth0]/",
		"https://0.0.0.0/",
		"https://[::]/",
		"https://100.64.0.1/",
		"https://224.0.0.1/",
		"https://255.255.255.255/",
		"https://2130706433/",
		"https://127.1/",
		"https://0x7f.0x0.0x0.0x1/",
	} {
		t.Run(raw, func(t *testing.T) {
			if err := (Policy{}).CheckURL(raw); !errors.Is(err, ErrForbiddenDestination) {
				t.Errorf("CheckURL(%q) = %v, want ErrForbiddenDestination", raw, err)
			}
		})
	}
	dev := Policy{AllowPrivateNetworks: true}
	for _, raw := range []string{"http://127.0.0.1:8080/jwks", "http://localhost:6379/", "https://[::1]/", "https://10.0.0.1/"} {
		if err := dev.CheckURL(raw); err != nil {
			t.Errorf("with private networks allowed, CheckURL(%q) = %v, want nil", raw, err)
		}
	}
}

// TestCheckURLSchemes: only https leaves the server; http only with
// private networks allowed; no user information anywhere.
func TestCheckURLSchemes(t *testing.T) {
	tests := []struct {
		raw         string
		strict, dev bool // allowed?
	}{
		{"https://rp.example.com/backchannel", true, true},
		{"https://rp.example.com:8443/jwks.json", true, true},
		{"http://rp.example.com/backchannel", false, true},
		{"ftp://rp.example.com/jwks", false, false},
		{"file:///etc/passwd", false, false},
		{"gopher://rp.example.com/", false, false},
		{"https://user:pass@rp.example.com/", false, false},
		{"/relative", false, false},
		{"https://", false, false},
	}
	for _, tc := range tests {
		for _, p := range []struct {
			policy Policy
			want   bool
		}{{Policy{}, tc.strict}, {Policy{AllowPrivateNetworks: true}, tc.dev}} {
			err := p.policy.CheckURL(tc.raw)
			if got := err == nil; got != p.want {
				t.Errorf("%+v CheckURL(%q) = %v, want allowed %v", p.policy, tc.raw, err, p.want)
			}
			if err != nil && !errors.Is(err, ErrForbiddenDestination) {
				t.Errorf("CheckURL(%q) = %v, not ErrForbiddenDestination", tc.raw, err)
			}
		}
	}
}

func TestIsPublic(t *testing.T) {
	tests := map[string]bool{
		"93.184.215.14":        true,
		"8.8.8.8":              true,
		"2606:4700::1111":      true,
		"::ffff:8.8.8.8":       true,
		"127.0.0.1":            false,
		"127.255.0.9":          false,
		"10.1.2.3":             false,
		"172.31.255.255":       false,
		"192.168.0.1":          false,
		"169.254.169.254":      false,
		"100.100.100.200":      false,
		"0.0.0.0":              false,
		"0.1.2.3":              false,
		"224.0.0.251":          false,
		"239.255.255.250":      false,
		"255.255.255.255":      false,
		"240.0.0.1":            false,
		"192.0.0.170":          false,
		"192.0.2.1":            false,
		"198.18.0.1":           false,
		"::":                   false,
		"::1":                  false,
		"::ffff:127.0.0.1":     false,
		"::ffff:10.0.0.1":      false,
		"::7f00:1":             false,
		"fe80::1":              false,
		"fc00::1":              false,
		"fd12:3456::1":         false,
		"fec0::1":              false,
		"ff02::1":              false,
		"64:ff9b::a9fe:a9fe":   false,
		"2002:7f00:1::1":       false,
		"2001:0:4136:e378::1":  false,
		"2001:db8::1":          false,
		"fe80::1%eth0":         false,
		"2606:4700::1111%eth0": false,
	}
	for s, want := range tests {
		if got := IsPublic(netip.MustParseAddr(s)); got != want {
			t.Errorf("IsPublic(%s) = %v, want %v", s, got, want)
		}
	}
}
