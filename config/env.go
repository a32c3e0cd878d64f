package config

import (
	"errors"
	"fmt"
	"reflect"
	"strconv"
	"strings"
	"time"
)

const envPrefix = "GATEHOUSE_"

// envAliases are extra variable names for keys, kept because operators
// expect them. The canonical names need no entry: envName derives them.
var envAliases = []struct{ name, path string }{
	{"GATEHOUSE_DCR_INITIAL_ACCESS_TOKEN", "registration.initial_access_token"},
	{"GATEHOUSE_SMTP_URL", "email.smtp_url"},
}

// envName is the canonical variable for a dotted path:
// tokens.access_token_lifetime → GATEHOUSE_TOKENS_ACCESS_TOKEN_LIFETIME.
func envName(path string) string {
	return envPrefix + strings.ToUpper(strings.ReplaceAll(path, ".", "_"))
}

// applyEnv sets every key whose variable (or alias) is set. It returns one
// problem per bad variable, named by the variable, and never repeats a
// value, which may be a secret.
func (c *Config) applyEnv(getenv func(string) (string, bool)) []string {
	var problems []string
	for _, f := range fields(c) {
		names := []string{envName(f.path)}
		for _, a := range envAliases {
			if a.path == f.path {
				names = append(names, a.name)
			}
		}
		var setName, setValue string
		conflict := false
		for _, name := range names {
			v, ok := getenv(name)
			switch {
			case !ok:
			case setName == "":
				setName, setValue = name, v
			case v != setValue:
				problems = append(problems, fmt.Sprintf("%s: conflicts with %s; set only one", name, setName))
				conflict = true
			}
		}
		if setName == "" || conflict {
			continue
		}
		if err := setFromString(f.value, setValue); err != nil {
			problems = append(problems, fmt.Sprintf("%s: %v", setName, err))
		}
	}
	return problems
}

var durationType = reflect.TypeFor[Duration]()

// setFromString parses s into v according to v's type. Lists are
// comma-separated; blank items are dropped, so "" sets an empty list.
func setFromString(v reflect.Value, s string) error {
	if v.Type() == durationType {
		d, err := time.ParseDuration(strings.TrimSpace(s))
		if err != nil {
			return errors.New("not a duration")
		}
		v.SetInt(int64(d))
		return nil
	}
	switch v.Kind() {
	case reflect.String:
		v.SetString(s)
	case reflect.Bool:
		b, err := strconv.ParseBool(strings.TrimSpace(s))
		if err != nil {
			return errors.New("not a boolean (true or false)")
		}
		v.SetBool(b)
	case reflect.Int, reflect.Int64:
		n, err := strconv.ParseInt(strings.TrimSpace(s), 10, v.Type().Bits())
		if err != nil {
			return errors.New("not an integer")
		}
		v.SetInt(n)
	case reflect.Slice:
		if v.Type().Elem().Kind() != reflect.String {
			panic(fmt.Sprintf("config: no environment parser for %s", v.Type()))
		}
		items := []string{}
		for item := range strings.SplitSeq(s, ",") {
			if item = strings.TrimSpace(item); item != "" {
				items = append(items, item)
			}
		}
		v.Set(reflect.ValueOf(items))
	default:
		// A new key of a new type: TestEnvCoversEveryKey catches this.
		panic(fmt.Sprintf("config: no environment parser for %s", v.Type()))
	}
	return nil
}
