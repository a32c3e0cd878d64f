package config

import (
	"fmt"
	"time"

	"gopkg.in/yaml.v3"
)

// Duration is a time.Duration written as a Go duration string ("60s",
// "1h30m") in YAML and in the environment. A bare number is rejected: "60"
// could mean seconds or nanoseconds.
type Duration time.Duration

// Std returns d as a time.Duration.
func (d Duration) Std() time.Duration { return time.Duration(d) }

// String formats d like time.Duration does ("1h0m0s").
func (d Duration) String() string { return time.Duration(d).String() }

// MarshalText writes d as a Go duration string, for YAML and JSON.
func (d Duration) MarshalText() ([]byte, error) {
	return []byte(d.String()), nil
}

// UnmarshalText parses a Go duration string.
func (d *Duration) UnmarshalText(text []byte) error {
	v, err := time.ParseDuration(string(text))
	if err != nil {
		return fmt.Errorf("not a duration: %q", text)
	}
	*d = Duration(v)
	return nil
}

// UnmarshalYAML parses a Go duration string. It reports failure as a
// *yaml.TypeError so that the decoder carries on and every bad key in the
// file is reported at once.
func (d *Duration) UnmarshalYAML(n *yaml.Node) error {
	if n.Kind != yaml.ScalarNode {
		return &yaml.TypeError{Errors: []string{
			fmt.Sprintf("line %d: cannot unmarshal %s into a duration; want a string such as \"60s\" or \"1h\"",
				n.Line, n.ShortTag()),
		}}
	}
	if err := d.UnmarshalText([]byte(n.Value)); err != nil {
		return &yaml.TypeError{Errors: []string{fmt.Sprintf("line %d: %v", n.Line, err)}}
	}
	return nil
}
