// Package inputguard refuses text that no field of Gatehouse accepts
// (invalid UTF-8, NUL and other control characters, oversized headers)
// before any handler or store sees it.
package inputguard

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"errors"
	"io"
	"mime"
	"mime/multipart"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"unicode/utf8"

	"github.com/labstack/echo/v4"

	"gatehouse/oidc"
)

// errBadInput is the answer to text no field of ours accepts. The error
// handler renders it as a page, or as invalid_request on the JSON routes.
var errBadInput = &oidc.PageError{Status: http.StatusBadRequest, Title: "Invalid request",
	Message: "The request contains characters that are not allowed: text must be UTF-8 without control characters."}

// New returns the middleware that refuses, before any handler or store sees it, a request whose
// path, query parameters, header values (Basic credentials decoded), form
// fields (URL-encoded and multipart) or JSON strings are not valid UTF-8
// or hold a NUL or another C0 control character other than tab; only the
// form fields that multiline names for a path (such as a street address,
// whose lines OpenID Connect Core §5.1.1 separates with "\n") may also
// hold CR and LF. PostgreSQL refuses NUL and invalid UTF-8 with an error,
// and nothing legitimate sends them. Headers larger than maxHeaderBytes
// get 431 in the route's format.
//
// It reads form and JSON bodies whole, so it runs after the body limit;
// the body is put back for the handlers.
func New(maxHeaderBytes int, multiline map[string][]string) echo.MiddlewareFunc {
	return func(next echo.HandlerFunc) echo.HandlerFunc {
		return func(c echo.Context) error {
			r := c.Request()
			if headerSize(r) > maxHeaderBytes {
				return echo.NewHTTPError(http.StatusRequestHeaderFieldsTooLarge)
			}
			if !cleanText(r.URL.Path) || !cleanText(r.Host) || !cleanHeaders(r.Header) {
				return errBadInput
			}
			q, err := url.ParseQuery(r.URL.RawQuery)
			if err != nil || !cleanValues(q) {
				return errBadInput
			}
			if err := checkBody(r, multiline[r.URL.Path]); err != nil {
				return err
			}
			return next(c)
		}
	}
}

// headerSize is about what the request line and headers took on the wire.
func headerSize(r *http.Request) int {
	n := len(r.Method) + len(r.RequestURI) + len(r.Proto) + len(r.Host) + 4
	for k, vs := range r.Header {
		for _, v := range vs {
			n += len(k) + len(v) + 4 // ": " and CRLF
		}
	}
	return n
}

// cleanText reports whether s is UTF-8 without C0 controls except tab.
func cleanText(s string) bool { return clean(s, false) }

// clean is cleanText that also allows CR and LF when lines is true.
func clean(s string, lines bool) bool {
	for i := 0; i < len(s); i++ {
		if b := s[i]; b < 0x20 && b != '\t' && !(lines && (b == '\r' || b == '\n')) {
			return false
		}
	}
	return utf8.ValidString(s)
}

func cleanValues(v map[string][]string) bool { return cleanFields(v, nil) }

// cleanFields is cleanValues where the fields named in lines may hold
// several lines.
func cleanFields(v map[string][]string, lines []string) bool {
	for k, vs := range v {
		if !cleanText(k) {
			return false
		}
		multi := slices.Contains(lines, k)
		for _, s := range vs {
			if !clean(s, multi) {
				return false
			}
		}
	}
	return true
}

// cleanHeaders also checks Basic credentials as they will be read: base64
// decoded, then form-decoded (RFC 6749 §2.3.1).
func cleanHeaders(h http.Header) bool {
	if !cleanValues(h) {
		return false
	}
	auth := h.Get(echo.HeaderAuthorization)
	if len(auth) < 6 || !strings.EqualFold(auth[:6], "basic ") {
		return true
	}
	raw, err := base64.StdEncoding.DecodeString(strings.TrimSpace(auth[6:]))
	if err != nil {
		return true // not credentials at all: client authentication refuses it
	}
	id, secret, _ := strings.Cut(string(raw), ":")
	for _, s := range []string{id, secret} {
		if !cleanText(s) {
			return false
		}
		if d, err := url.QueryUnescape(s); err == nil && !cleanText(d) {
			return false
		}
	}
	return true
}

// checkBody checks the form or JSON body of a POST, PUT or PATCH (the
// methods whose body Go parses as a form) and puts it back for the handler.
func checkBody(r *http.Request, lines []string) error {
	if r.Method != http.MethodPost && r.Method != http.MethodPut && r.Method != http.MethodPatch {
		return nil
	}
	ct, params, err := mime.ParseMediaType(r.Header.Get(echo.HeaderContentType))
	if err != nil {
		return nil // no form or JSON: the handler refuses what it cannot read
	}
	isJSON := ct == echo.MIMEApplicationJSON || strings.HasSuffix(ct, "+json")
	if ct != echo.MIMEApplicationForm && ct != echo.MIMEMultipartForm && !isJSON {
		return nil
	}
	body, err := io.ReadAll(r.Body)
	if err != nil {
		var he *echo.HTTPError
		if errors.As(err, &he) {
			return he // over the body limit: 413
		}
		return errBadInput
	}
	r.Body.Close()
	r.Body = io.NopCloser(bytes.NewReader(body))
	switch {
	case isJSON:
		return checkJSON(body)
	case ct == echo.MIMEMultipartForm:
		return checkMultipart(body, params["boundary"], lines)
	}
	form, err := url.ParseQuery(string(body))
	if err != nil || !cleanFields(form, lines) {
		return errBadInput
	}
	return nil
}

func checkMultipart(body []byte, boundary string, lines []string) error {
	if boundary == "" {
		return errBadInput
	}
	mr := multipart.NewReader(bytes.NewReader(body), boundary)
	for {
		part, err := mr.NextPart()
		if errors.Is(err, io.EOF) {
			return nil
		}
		if err != nil {
			return errBadInput
		}
		value, err := io.ReadAll(part)
		if err != nil || !cleanText(part.FormName()) || !cleanText(part.FileName()) ||
			!clean(string(value), slices.Contains(lines, part.FormName())) {
			return errBadInput
		}
	}
}

// checkJSON refuses invalid UTF-8 anywhere and control characters in any
// key or string, escaped ones (\u0000) included. JSON that does not parse
// is left to the handler, which answers in its own terms.
func checkJSON(body []byte) error {
	if !utf8.Valid(body) {
		return errBadInput
	}
	var v any
	if json.Unmarshal(body, &v) != nil {
		return nil
	}
	if !cleanJSON(v) {
		return errBadInput
	}
	return nil
}

func cleanJSON(v any) bool {
	switch x := v.(type) {
	case string:
		return cleanText(x)
	case []any:
		for _, e := range x {
			if !cleanJSON(e) {
				return false
			}
		}
	case map[string]any:
		for k, e := range x {
			if !cleanText(k) || !cleanJSON(e) {
				return false
			}
		}
	}
	return true
}
