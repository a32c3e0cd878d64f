package main

import (
	"errors"
	"testing"
)

func TestParseTarget(t *testing.T) {
	tests := []struct {
		name    string
		in      string
		want    string
		wantErr error
	}{
		{name: "ipv4 loopback", in: "http://127.0.0.1:8080/", want: "http://127.0.0.1:8080"},
		{name: "other 127/8", in: "http://127.3.4.5:1", want: "http://127.3.4.5:1"},
		{name: "ipv6 loopback", in: "http://[::1]:8080", want: "http://[::1]:8080"},
		{name: "localhost", in: "https://LocalHost:8443", want: "https://LocalHost:8443"},
		{name: "private address", in: "http://10.0.0.1:8080", wantErr: errNotLoopback},
		{name: "public name", in: "http://example.com", wantErr: errNotLoopback},
		{name: "localhost suffix", in: "http://localhost.example.com", wantErr: errNotLoopback},
		{name: "unspecified", in: "http://0.0.0.0:8080", wantErr: errNotLoopback},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got, err := parseTarget(tc.in)
			if !errors.Is(err, tc.wantErr) {
				t.Fatalf("parseTarget(%q) error = %v, want %v", tc.in, err, tc.wantErr)
			}
			if got != tc.want {
				t.Errorf("parseTarget(%q) = %q, want %q", tc.in, got, tc.want)
			}
		})
	}
}
