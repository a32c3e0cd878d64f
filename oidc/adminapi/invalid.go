package adminapi

import (
	"errors"
	"fmt"
	"regexp"
	"strings"

	"github.com/getkin/kin-openapi/openapi3"
	"github.com/getkin/kin-openapi/openapi3filter"
)

func init() {
	// JSON Schema leaves "format" unchecked unless a validator is
	// registered for it; ids in paths and bodies are UUIDs.
	openapi3.DefineStringFormatValidator("uuid", openapi3.NewRegexpFormatValidator(openapi3.FormatOfStringForUUIDOfRFC9562))
}

// requestProblem turns the validator's findings into a 400 naming each
// bad field: a parameter or header by its name, a body field by its
// JSON path ("address/locality"). The wording is ours, made from the
// schema: the validator's own messages may quote the value sent, which
// could be a password.
func requestProblem(err error) *problem {
	p := fieldProblem("The request does not match the API document.")
	walkInvalid(err, "", func(field, detail string) {
		p.fields = append(p.fields, FieldError{Field: field, Detail: detail})
	})
	if len(p.fields) == 0 {
		p.fields = append(p.fields, FieldError{Field: "body", Detail: "Not valid here (see the API document)."})
	}
	return p
}

// walkInvalid reports each leaf finding of a validation error.
func walkInvalid(err error, field string, report func(field, detail string)) {
	switch e := err.(type) {
	case openapi3.MultiError:
		for _, one := range e {
			walkInvalid(one, field, report)
		}
	case *openapi3filter.RequestError:
		switch {
		case e.Parameter != nil:
			field = e.Parameter.Name
		case e.RequestBody != nil:
			field = ""
		}
		if e.Err == nil {
			report(orBody(field), sentence(e.Reason))
			return
		}
		walkInvalid(e.Err, field, report)
	case *openapi3.SchemaError:
		var causes openapi3.MultiError
		if errors.As(e.Origin, &causes) {
			walkInvalid(causes, field, report)
			return
		}
		path := strings.Join(e.JSONPointer(), "/")
		if field == "" {
			field = path
		}
		for _, f := range namedFields(e) {
			// A missing property's path may end in its name already.
			if field != f && !strings.HasSuffix(field, "/"+f) {
				f = join(field, f)
			}
			report(f, schemaDetail(e))
		}
		if len(namedFields(e)) == 0 {
			report(orBody(field), schemaDetail(e))
		}
	case *openapi3filter.ParseError:
		report(orBody(field), "Not valid JSON, or not of the type the API document gives.")
	default:
		var schemaErr *openapi3.SchemaError
		var reqErr *openapi3filter.RequestError
		switch {
		case errors.As(err, &reqErr):
			walkInvalid(reqErr, field, report)
		case errors.As(err, &schemaErr):
			walkInvalid(schemaErr, field, report)
		default:
			report(orBody(field), "Not valid here (see the API document).")
		}
	}
}

// quoted finds the property names a message of the validator quotes:
// "additional properties 'a', 'b' not allowed", "missing property 'x'".
var quoted = regexp.MustCompile(`'([A-Za-z0-9_]+)'`)

// legacyProperty finds the property the OpenAPI 3.0 validator (which
// kin-openapi falls back to for schemas without JSON Schema 2020
// keywords) names: `property "x" is unsupported` or `... is missing`.
var legacyProperty = regexp.MustCompile(`^property "([^"]+)" is (unsupported|missing)$`)

// namedFields are the properties an unknown-field or required finding is
// about: the field to name is the property, not its object.
func namedFields(e *openapi3.SchemaError) []string {
	if m := legacyProperty.FindStringSubmatch(e.Reason); m != nil {
		return []string{m[1]}
	}
	switch e.SchemaField {
	case "additionalProperties", "required":
		var out []string
		for _, m := range quoted.FindAllStringSubmatch(e.Reason, -1) {
			out = append(out, m[1])
		}
		return out
	}
	return nil
}

// schemaDetail says what the schema wanted, from the keyword that failed.
func schemaDetail(e *openapi3.SchemaError) string {
	s := e.Schema
	if s == nil {
		s = &openapi3.Schema{}
	}
	if m := legacyProperty.FindStringSubmatch(e.Reason); m != nil {
		if m[2] == "missing" {
			return "This field is required."
		}
		return "This field is not part of the API."
	}
	switch e.SchemaField {
	case "additionalProperties":
		return "This field is not part of the API."
	case "required":
		return "This field is required."
	case "minimum":
		return fmt.Sprintf("Must be at least %v.", number(s.Min))
	case "maximum":
		return fmt.Sprintf("Must be at most %v.", number(s.Max))
	case "minLength":
		return fmt.Sprintf("Must be at least %d characters long.", s.MinLength)
	case "maxLength":
		return fmt.Sprintf("Must be at most %d characters long.", *s.MaxLength)
	case "minItems":
		return fmt.Sprintf("Must hold at least %d items.", s.MinItems)
	case "maxItems":
		return fmt.Sprintf("Must hold at most %d items.", *s.MaxItems)
	case "minProperties", "maxProperties":
		if s.Description != "" {
			return "Send " + strings.TrimSuffix(strings.ToLower(s.Description[:1])+s.Description[1:], ".") + "."
		}
		return "Has too few or too many fields."
	case "enum":
		values := make([]string, len(s.Enum))
		for i, v := range s.Enum {
			values[i] = fmt.Sprint(v)
		}
		return "Must be one of: " + strings.Join(values, ", ") + "."
	case "format":
		return fmt.Sprintf("Must be a valid %s.", s.Format)
	case "pattern":
		return "Does not have the form the API document gives."
	case "type":
		if s.Type != nil && len(s.Type.Slice()) > 0 {
			return "Must be of type " + strings.Join(s.Type.Slice(), " or ") + "."
		}
	}
	return "Not valid here (see the API document)."
}

func number(f *float64) any {
	if f == nil {
		return "?"
	}
	return *f
}

func orBody(field string) string {
	if field == "" {
		return "body"
	}
	return field
}

func join(path, name string) string {
	if path == "" {
		return name
	}
	return path + "/" + name
}

// sentence is a validator message on a request as a whole (a missing
// body, a wrong Content-Type): these never hold a value sent.
func sentence(reason string) string {
	if reason == "" {
		return "Not valid here (see the API document)."
	}
	return strings.ToUpper(reason[:1]) + reason[1:] + "."
}
