package adminapi

import (
	"net/http"

	"github.com/labstack/echo/v4"
)

// problemType is the "type" of every problem: RFC 9457 §4.2.1's
// "about:blank", whose title is the status's reason phrase; the detail
// and the field errors say the rest.
const problemType = "about:blank"

// problemContentType is RFC 9457's media type.
const problemContentType = "application/problem+json"

// problem is an error answer. Handlers return it as their error; the
// API's error handling writes it.
type problem struct {
	status int
	detail string
	fields []FieldError
}

func (p *problem) Error() string { return http.StatusText(p.status) + ": " + p.detail }

// newProblem is a problem with a detail for a person to read.
func newProblem(status int, detail string) *problem {
	return &problem{status: status, detail: detail}
}

// fieldProblem is a 400 naming the fields at fault.
func fieldProblem(detail string, fields ...FieldError) *problem {
	return &problem{status: http.StatusBadRequest, detail: detail, fields: fields}
}

// write sends p as application/problem+json.
func (p *problem) write(c echo.Context) error {
	body := Problem{Type: problemType, Title: http.StatusText(p.status), Status: p.status}
	if p.detail != "" {
		body.Detail = &p.detail
	}
	if len(p.fields) > 0 {
		body.Errors = &p.fields
	}
	instance := c.Request().URL.Path
	body.Instance = &instance
	h := c.Response().Header()
	h.Set(echo.HeaderContentType, problemContentType)
	return c.JSON(p.status, body)
}
