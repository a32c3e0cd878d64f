package adminapi

import (
	"encoding/json"
	"maps"
	"slices"
	"time"

	"github.com/labstack/echo/v4"
)

// timeNow is the clock of the "locked" flag.
var timeNow = time.Now

// decode reads a JSON body the guard has validated already; unknown
// fields are refused here too, in case the document allows one by
// mistake.
func decode(c echo.Context, v any) error {
	dec := json.NewDecoder(c.Request().Body)
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		return fieldProblem("The body is not valid JSON for this call.", FieldError{Field: "body", Detail: "Not valid JSON or not of the expected type."})
	}
	return nil
}

func deref(s *string) string {
	if s == nil {
		return ""
	}
	return *s
}

// optional is nil for an empty string, so that the answer leaves out
// fields that are not set.
func optional(s string) *string {
	if s == "" {
		return nil
	}
	return &s
}

func setTime(into *time.Time, from *time.Time) {
	if from != nil {
		*into = *from
	}
}

func sortedKeys[V any](m map[string]V) []string {
	return slices.Sorted(maps.Keys(m))
}

func flag(b *bool) bool { return b != nil && *b }

func derefList(l *[]string) []string {
	if l == nil {
		return nil
	}
	return *l
}
