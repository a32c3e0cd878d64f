package archtest

import (
	"fmt"
	"sort"
	"strings"
)

// pkg is one package of the module and the packages it imports directly.
type pkg struct {
	ImportPath string
	Imports    []string
}

// violation is one import that breaks a rule.
type violation struct {
	From, To, Why string
}

func (v violation) String() string {
	return fmt.Sprintf("%s imports %s: %s", v.From, v.To, v.Why)
}

// check returns every import of pkgs that breaks one of rules, sorted.
func check(pkgs []pkg, rules []rule) []violation {
	var out []violation
	for _, p := range pkgs {
		for _, imp := range p.Imports {
			for _, r := range rules {
				if r.forbids(p.ImportPath, imp) {
					out = append(out, violation{From: p.ImportPath, To: imp, Why: r.Why})
				}
			}
		}
	}
	sort.Slice(out, func(i, j int) bool { return out[i].String() < out[j].String() })
	return out
}

// forbids reports whether r forbids from to import imp.
func (r rule) forbids(from, imp string) bool {
	if !matchAny(r.Imports, imp) || matchAny(r.Except, from) {
		return false
	}
	if r.OnlyFrom != nil && !matchAny(r.OnlyFrom, from) {
		return true
	}
	return matchAny(r.NotFrom, from)
}

func matchAny(patterns []string, path string) bool {
	for _, p := range patterns {
		if match(p, path) {
			return true
		}
	}
	return false
}

// match reports whether path matches pattern (see rule).
func match(pattern, path string) bool {
	if name, ok := strings.CutPrefix(pattern, ".../"); ok {
		return path == name || strings.HasSuffix(path, "/"+name)
	}
	if prefix, ok := strings.CutSuffix(pattern, "/..."); ok {
		return path == prefix || strings.HasPrefix(path, prefix+"/")
	}
	return path == pattern
}
