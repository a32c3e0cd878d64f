package config

import (
	"fmt"
	"log/slog"
	"reflect"
	"slices"
	"strings"
)

// Redacted returns a copy of c that is safe to print or log anywhere, also
// as plain strings: every Secret reads as its redacted form (see Secret).
// Printing or logging c itself needs no such copy: a Secret redacts itself.
func (c Config) Redacted() Config {
	r := c
	r.HTTP.TrustedProxies = slices.Clone(c.HTTP.TrustedProxies)
	r.Connectors = slices.Clone(c.Connectors)
	for i := range r.Connectors {
		r.Connectors[i].LDAP.BindPassword = Secret(r.Connectors[i].LDAP.BindPassword.Redacted())
	}
	for _, f := range fields(&r) {
		if f.secret {
			f.value.SetString(f.value.Interface().(Secret).Redacted())
		}
	}
	return r
}

// plainConfig has Config's fields and none of its methods, so fmt prints
// the fields instead of calling Format again.
type plainConfig Config

// Format prints the configuration's fields with any verb, each Secret
// redacting itself, so neither %v nor %+v nor %#v nor %s can show one.
func (c Config) Format(f fmt.State, verb rune) {
	fmt.Fprintf(f, fmt.FormatString(f, verb), plainConfig(c))
}

// String returns the configuration with field names, secrets redacted.
func (c Config) String() string {
	return fmt.Sprintf("%+v", c)
}

// LogValue logs the configuration as groups named like the YAML keys, so
// the logged config reads like the file; each Secret logs redacted.
func (c Config) LogValue() slog.Value {
	return groupValue(reflect.ValueOf(c))
}
func groupValue(v reflect.Value) slog.Value {
	t := v.Type()
	var attrs []slog.Attr
	for i := range t.NumField() {
		sf := t.Field(i)
		name, _, _ := strings.Cut(sf.Tag.Get("yaml"), ",")
		if !sf.IsExported() || name == "" || name == "-" {
			continue
		}
		fv := v.Field(i)
		if sf.Type.Kind() == reflect.Struct {
			attrs = append(attrs, slog.Attr{Key: name, Value: groupValue(fv)})
			continue
		}
		attrs = append(attrs, slog.Any(name, fv.Interface()))
	}
	return slog.GroupValue(attrs...)
}
