package config

import (
	"fmt"
	"strings"
)

// Error is an invalid configuration. It lists every problem found, each
// starting with the key it is about (a dotted YAML path such as
// tokens.access_token_lifetime, or an environment variable). No problem
// ever contains a secret's value.
type Error struct {
	Problems []string
}

func (e *Error) Error() string {
	var b strings.Builder
	b.WriteString("invalid configuration:")
	for _, p := range e.Problems {
		b.WriteString("\n  - ")
		b.WriteString(p)
	}
	return b.String()
}

// problems collects validation problems in the order they are found.
type problems []string

func (p *problems) add(key, format string, args ...any) {
	*p = append(*p, key+": "+fmt.Sprintf(format, args...))
}

func (p *problems) durationBetween(key string, d, lo, hi Duration) {
	if d < lo || d > hi {
		p.add(key, "must be between %v and %v, got %v", lo, hi, d)
	}
}

func (p *problems) intBetween(key string, n, lo, hi int64) {
	if n < lo || n > hi {
		p.add(key, "must be between %d and %d, got %d", lo, hi, n)
	}
}

func (p *problems) oneOf(key, got string, allowed ...string) {
	for _, a := range allowed {
		if got == a {
			return
		}
	}
	p.add(key, "must be one of %s, got %q", strings.Join(allowed, ", "), got)
}
