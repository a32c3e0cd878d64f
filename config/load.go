package config

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"os"
	"regexp"
	"strconv"
	"strings"

	"gopkg.in/yaml.v3"
)

// Load reads the configuration: defaults, then the YAML file at path (none
// when path is ""), then the environment through getenv (os.LookupEnv in
// production; nil means no environment), then derived defaults, then
// Validate.
//
// Every problem in the file, the environment and the rules is returned
// together as one *Error. A file that cannot be read is not a
// configuration problem: that error is returned wrapped, so
// errors.Is(err, fs.ErrNotExist) works.
func Load(path string, getenv func(string) (string, bool)) (*Config, error) {
	c := defaults()
	var problems []string
	if path != "" {
		data, err := os.ReadFile(path)
		if err != nil {
			return nil, fmt.Errorf("config: %w", err)
		}
		p, fatal := c.decodeYAML(path, data)
		problems = append(problems, p...)
		if fatal {
			return nil, &Error{Problems: problems}
		}
	}
	if getenv != nil {
		problems = append(problems, c.applyEnv(getenv)...)
		problems = append(problems, c.applyConnectorEnv(getenv)...)
	}
	c.fillDerived()
	var verr *Error
	if errors.As(c.Validate(), &verr) {
		problems = append(problems, verr.Problems...)
	}
	if len(problems) > 0 {
		return nil, &Error{Problems: problems}
	}
	return c, nil
}

// decodeYAML decodes data over c. Unknown keys and badly typed values are
// problems, all of them reported; fatal is true when the file is not YAML
// at all and nothing else is worth checking.
func (c *Config) decodeYAML(file string, data []byte) (problems []string, fatal bool) {
	var root yaml.Node
	if err := yaml.Unmarshal(data, &root); err != nil {
		return []string{fmt.Sprintf("%s: %v", file, err)}, true
	}
	lines := make(lineIndex)
	lines.add(&root, "")

	dec := yaml.NewDecoder(bytes.NewReader(data))
	dec.KnownFields(true)
	err := dec.Decode(c)
	var terr *yaml.TypeError
	switch {
	case err == nil, errors.Is(err, io.EOF): // io.EOF: empty file
	case errors.As(err, &terr):
		secret := secretPaths()
		for _, msg := range terr.Errors {
			problems = append(problems, lines.problem(file, msg, secret))
		}
	default:
		return []string{fmt.Sprintf("%s: %v", file, err)}, true
	}
	if err == nil && !errors.Is(dec.Decode(new(yaml.Node)), io.EOF) {
		problems = append(problems, file+": holds more than one YAML document; put every key in the first")
	}
	return problems, false
}

// lineIndex maps a line of the file to the dotted paths of the keys and
// list items on it, so that yaml.v3's "line N: …" messages can name the
// key. Most lines hold one key; flow style ({a: 1, b: 2}) holds several.
type lineIndex map[int][]string

func (ix lineIndex) add(n *yaml.Node, prefix string) {
	switch n.Kind {
	case yaml.DocumentNode:
		for _, child := range n.Content {
			ix.add(child, prefix)
		}
	case yaml.MappingNode:
		for i := 0; i+1 < len(n.Content); i += 2 {
			k, v := n.Content[i], n.Content[i+1]
			path := joinPath(prefix, k.Value)
			ix[k.Line] = append(ix[k.Line], path)
			if v.Line != k.Line {
				ix[v.Line] = append(ix[v.Line], path)
			}
			ix.add(v, path)
		}
	case yaml.SequenceNode:
		for i, item := range n.Content {
			path := fmt.Sprintf("%s[%d]", prefix, i)
			ix[item.Line] = append(ix[item.Line], path)
			ix.add(item, path)
		}
	}
}

var (
	lineMessage  = regexp.MustCompile(`^line (\d+): (.*)$`)
	unknownField = regexp.MustCompile(`^field (\S+) not found in type `)
	listIndex    = regexp.MustCompile(`\[\d+\]`)
)

// problem turns one yaml.v3 type error into a problem that names its key.
func (ix lineIndex) problem(file, msg string, secret map[string]bool) string {
	m := lineMessage.FindStringSubmatch(msg)
	if m == nil {
		return fmt.Sprintf("%s: %s", file, msg)
	}
	line, _ := strconv.Atoi(m[1])
	text := m[2]
	candidates := ix[line]

	if u := unknownField.FindStringSubmatch(text); u != nil {
		for _, p := range candidates {
			if p == u[1] || strings.HasSuffix(p, "."+u[1]) {
				return fmt.Sprintf("%s: unknown key (line %d)", p, line)
			}
		}
		return fmt.Sprintf("%s: unknown key (line %d)", u[1], line)
	}
	if len(candidates) == 0 {
		return fmt.Sprintf("%s: line %d: %s", file, line, text)
	}
	// A wrongly shaped value (a map or list where a scalar belongs) starts
	// on the line of its own first entry: blame the outer key. A bad
	// scalar belongs to the innermost key on its line.
	path := candidates[len(candidates)-1]
	if strings.HasPrefix(text, "cannot unmarshal !!map") || strings.HasPrefix(text, "cannot unmarshal !!seq") {
		path = candidates[0]
	}
	if secret[listIndex.ReplaceAllString(path, "")] {
		// yaml.v3 quotes the start of the value; this one is a secret.
		text = "cannot decode value"
	}
	return fmt.Sprintf("%s: %s (line %d)", path, text, line)
}
