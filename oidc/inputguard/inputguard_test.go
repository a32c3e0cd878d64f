package inputguard

import (
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"

	"github.com/labstack/echo/v4"

	"gatehouse/oidc"
)

func TestNew(t *testing.T) {
	tests := []struct {
		name, method, target, contentType, body string
		header                                  map[string]string
		wantStatus                              int // 0: passed on
	}{
		{name: "clean query", method: "GET", target: "/x?a=caf%C3%A9&b=tab%09"},
		{name: "escaped NUL in a value", method: "GET", target: "/x?a=%00", wantStatus: 400},
		{name: "escaped NUL in a name", method: "GET", target: "/x?a%00=1", wantStatus: 400},
		{name: "escaped 0xFF", method: "GET", target: "/x?a=%FF", wantStatus: 400},
		{name: "raw 0xFF", method: "GET", target: "/x?a=\xff", wantStatus: 400},
		{name: "escaped CR LF", method: "GET", target: "/x?a=%0D%0A", wantStatus: 400},
		{name: "broken escape", method: "GET", target: "/x?a=%zz", wantStatus: 400},
		{name: "NUL in the path", method: "GET", target: "/x/%00", wantStatus: 400},
		{name: "clean form", method: "POST", target: "/x", contentType: "application/x-www-form-urlencoded; charset=utf-8", body: "a=%C3%A9"},
		{name: "NUL in a form field", method: "POST", target: "/x", contentType: "application/x-www-form-urlencoded", body: "a=%00", wantStatus: 400},
		{name: "raw NUL in a form field", method: "POST", target: "/x", contentType: "application/x-www-form-urlencoded", body: "a=\x00", wantStatus: 400},
		{name: "NUL in a PUT form", method: "PUT", target: "/x", contentType: "application/x-www-form-urlencoded", body: "a=%00", wantStatus: 400},
		{name: "form body of a GET is not read", method: "GET", target: "/x", contentType: "application/x-www-form-urlencoded", body: "a=%00"},
		{name: "other content types are not read", method: "POST", target: "/x", contentType: "text/plain", body: "\x00"},
		{name: "clean multipart", method: "POST", target: "/x", contentType: "multipart/form-data; boundary=B",
			body: "--B\r\nContent-Disposition: form-data; name=\"a\"\r\n\r\nv\r\n--B--\r\n"},
		{name: "0xFF in a multipart field", method: "POST", target: "/x", contentType: "multipart/form-data; boundary=B",
			body: "--B\r\nContent-Disposition: form-data; name=\"a\"\r\n\r\n\xff\r\n--B--\r\n", wantStatus: 400},
		{name: "broken multipart", method: "POST", target: "/x", contentType: "multipart/form-data; boundary=B", body: "--B\r\nno", wantStatus: 400},
		{name: "clean JSON", method: "POST", target: "/x", contentType: "application/json", body: `{"a":["é\t"],"b":{"c":1}}`},
		{name: "escaped NUL in JSON", method: "POST", target: "/x", contentType: "application/json", body: `{"a":{"b":["\u0000"]}}`, wantStatus: 400},
		{name: "escaped control in a JSON key", method: "POST", target: "/x", contentType: "application/json", body: `{"a\u001f":1}`, wantStatus: 400},
		{name: "0xFF in JSON", method: "POST", target: "/x", contentType: "application/json", body: "{\"a\":\"\xff\"}", wantStatus: 400},
		{name: "malformed JSON is the handler's", method: "POST", target: "/x", contentType: "application/json", body: `{"a":`},
		{name: "0xFF in a header", method: "GET", target: "/x", header: map[string]string{"User-Agent": "\xff"}, wantStatus: 400},
		{name: "NUL in Basic credentials", method: "POST", target: "/x", header: map[string]string{"Authorization": "Basic YSUwMDpi"}, wantStatus: 400},
		{name: "clean Basic credentials", method: "POST", target: "/x", header: map[string]string{"Authorization": "Basic YSUyMGI6Yw=="}},
		{name: "lines in a multi-line field", method: "POST", target: "/profile", contentType: "application/x-www-form-urlencoded", body: "street=1+Main+St%0D%0AFlat+2"},
		{name: "lines in a multipart multi-line field", method: "POST", target: "/profile", contentType: "multipart/form-data; boundary=B",
			body: "--B\r\nContent-Disposition: form-data; name=\"street\"\r\n\r\na\r\nb\r\n--B--\r\n"},
		{name: "NUL in a multi-line field", method: "POST", target: "/profile", contentType: "application/x-www-form-urlencoded", body: "street=a%00", wantStatus: 400},
		{name: "lines in another field", method: "POST", target: "/profile", contentType: "application/x-www-form-urlencoded", body: "name=a%0Ab", wantStatus: 400},
		{name: "lines in the field on another path", method: "POST", target: "/x", contentType: "application/x-www-form-urlencoded", body: "street=a%0Ab", wantStatus: 400},
		{name: "lines in the field in the query", method: "GET", target: "/profile?street=a%0Ab", wantStatus: 400},
		{name: "headers over the cap", method: "GET", target: "/x", header: map[string]string{"X-Pad": strings.Repeat("p", 5000)}, wantStatus: 431},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			e := echo.New()
			var seen string
			reached := false
			h := New(4096, map[string][]string{"/profile": {"street"}})(func(c echo.Context) error {
				reached = true
				b, err := io.ReadAll(c.Request().Body)
				seen = string(b)
				return err
			})
			req := httptest.NewRequest(tc.method, "/", strings.NewReader(tc.body))
			path, query, _ := strings.Cut(tc.target, "?")
			req.URL.Path, _ = url.PathUnescape(path)
			req.URL.RawQuery = query // as sent: raw bytes and broken escapes too
			if tc.contentType != "" {
				req.Header.Set("Content-Type", tc.contentType)
			}
			for k, v := range tc.header {
				req.Header.Set(k, v)
			}
			err := h(e.NewContext(req, httptest.NewRecorder()))
			status := 0
			var pe *oidc.PageError
			var he *echo.HTTPError
			switch {
			case errors.As(err, &pe):
				status = pe.Status
			case errors.As(err, &he):
				status = he.Code
			case err != nil:
				t.Fatalf("unexpected error %v", err)
			}
			if status != tc.wantStatus {
				t.Fatalf("status %d, want %d", status, tc.wantStatus)
			}
			if tc.wantStatus == 0 && (!reached || seen != tc.body) {
				t.Errorf("handler read %q (reached %v), want the whole body %q", seen, reached, tc.body)
			}
		})
	}
}

func TestInputGuardBodyLimit(t *testing.T) {
	e := echo.New()
	req := httptest.NewRequest(http.MethodPost, "/x", strings.NewReader("a="+strings.Repeat("b", 100)))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Body = io.NopCloser(errReader{echo.ErrStatusRequestEntityTooLarge})
	err := New(4096, nil)(func(echo.Context) error { return nil })(e.NewContext(req, httptest.NewRecorder()))
	var he *echo.HTTPError
	if !errors.As(err, &he) || he.Code != http.StatusRequestEntityTooLarge {
		t.Fatalf("a body over the limit: got %v, want 413", err)
	}
}

type errReader struct{ err error }

func (r errReader) Read([]byte) (int, error) { return 0, r.err }
