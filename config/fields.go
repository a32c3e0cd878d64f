package config

import (
	"reflect"
	"strings"
)

// field is one scalar or list key of Config, found by walking the yaml
// tags. Env overrides, redaction and error messages all use this one walk,
// so adding a key to a struct is all it takes to support it everywhere.
type field struct {
	path   string        // dotted YAML path: tokens.access_token_lifetime
	value  reflect.Value // settable
	secret bool          // of type Secret
}

// fields lists the leaf keys of c in declaration order. Nested structs are
// walked into; everything else (Duration included) is a leaf.
func fields(c *Config) []field {
	var out []field
	walkFields(reflect.ValueOf(c).Elem(), "", &out)
	return out
}

func walkFields(v reflect.Value, prefix string, out *[]field) {
	t := v.Type()
	for i := range t.NumField() {
		sf := t.Field(i)
		name, _, _ := strings.Cut(sf.Tag.Get("yaml"), ",")
		if !sf.IsExported() || name == "" || name == "-" {
			continue
		}
		path := joinPath(prefix, name)
		if sf.Type.Kind() == reflect.Slice && sf.Type.Elem().Kind() == reflect.Struct {
			// Lists of sections (connectors) have keys of their own, set
			// and redacted by their own code.
			continue
		}
		if sf.Type.Kind() == reflect.Struct {
			walkFields(v.Field(i), path, out)
			continue
		}
		*out = append(*out, field{path: path, value: v.Field(i), secret: sf.Type == secretType})
	}
}

var secretType = reflect.TypeFor[Secret]()

// secretPaths returns the dotted paths of the keys of type Secret.
func secretPaths() map[string]bool {
	m := make(map[string]bool)
	for _, f := range fields(&Config{}) {
		if f.secret {
			m[f.path] = true
		}
	}
	return m
}

func joinPath(prefix, name string) string {
	if prefix == "" {
		return name
	}
	return prefix + "." + name
}
