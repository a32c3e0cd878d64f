package config

import (
	"encoding/base64"
	"testing"

	"github.com/google/go-cmp/cmp"
)

// TestOutboundAllowsPrivateNetworks: off by default in a configured
// deployment, on by itself only in the zero-configuration development
// setup, and settable from the file or the environment.
func TestOutboundAllowsPrivateNetworks(t *testing.T) {
	key := base64.StdEncoding.EncodeToString(testKey(32))
	tests := []struct {
		name string
		file string
		env  map[string]string
		want bool
	}{
		{name: "development setup", want: true},
		{name: "configured deployment", env: map[string]string{"GATEHOUSE_MASTER_KEY": key}, want: false},
		{
			name: "configured deployment, file",
			file: "outbound:\n  allow_private_networks: true\n",
			env:  map[string]string{"GATEHOUSE_MASTER_KEY": key},
			want: true,
		},
		{
			name: "configured deployment, environment",
			env:  map[string]string{"GATEHOUSE_MASTER_KEY": key, "GATEHOUSE_OUTBOUND_ALLOW_PRIVATE_NETWORKS": "true"},
			want: true,
		},
		{
			name: "environment turns the file's setting off",
			file: "outbound:\n  allow_private_networks: true\n",
			env:  map[string]string{"GATEHOUSE_MASTER_KEY": key, "GATEHOUSE_OUTBOUND_ALLOW_PRIVATE_NETWORKS": "false"},
			want: false,
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			path := ""
			if tc.file != "" {
				path = writeFile(t, tc.file)
			}
			c := mustLoad(t, path, tc.env)
			if got := c.OutboundAllowsPrivateNetworks(); got != tc.want {
				t.Errorf("OutboundAllowsPrivateNetworks() = %v, want %v", got, tc.want)
			}
		})
	}
	if Default().Outbound.AllowPrivateNetworks {
		t.Error("outbound.allow_private_networks defaults to true; only the development setup may allow it")
	}
}

func TestOutboundProblems(t *testing.T) {
	tests := []struct {
		name string
		file string
		env  map[string]string
		want []string
	}{
		{
			name: "environment not a boolean",
			env:  map[string]string{"GATEHOUSE_OUTBOUND_ALLOW_PRIVATE_NETWORKS": "sometimes"},
			want: []string{"GATEHOUSE_OUTBOUND_ALLOW_PRIVATE_NETWORKS: not a boolean (true or false)"},
		},
		{
			name: "file not a boolean",
			file: "outbound:\n  allow_private_networks: sometimes\n",
			want: []string{"outbound.allow_private_networks: cannot unmarshal !!str `sometimes` into bool (line 2)"},
		},
		{
			name: "unknown key",
			file: "outbound:\n  allow_loopback: true\n",
			want: []string{"outbound.allow_loopback: unknown key (line 2)"},
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			path := ""
			if tc.file != "" {
				path = writeFile(t, tc.file)
			}
			_, err := Load(path, envMap(tc.env))
			if diff := cmp.Diff(tc.want, problemsOf(t, err)); diff != "" {
				t.Errorf("Load problems mismatch (-want +got):\n%s", diff)
			}
		})
	}
}
