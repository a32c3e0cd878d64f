package ratelimit

import (
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/labstack/echo/v4"
)

// testServer serves POST /login and POST /token behind Middleware with a
// memory limiter. Its error handler renders *LimitedError the way the
// central one does: status and message as text.
func testServer(t *testing.T, rules []KeyedRule, onLimited func(echo.Context, Decision) error) *echo.Echo {
	t.Helper()
	clock := newFakeClock()
	e := echo.New()
	e.HTTPErrorHandler = func(err error, c echo.Context) {
		var le *LimitedError
		var he *echo.HTTPError
		switch {
		case errors.As(err, &le):
			_ = c.String(le.StatusCode(), le.Title()+": "+le.Message())
		case errors.As(err, &he):
			_ = c.String(he.Code, "http error")
		default:
			_ = c.String(http.StatusInternalServerError, err.Error())
		}
	}
	mw := Middleware(NewMemory(clock.Now), rules, onLimited)
	// The handlers echo what they read, to show the body is intact.
	e.POST("/login", func(c echo.Context) error { return c.String(http.StatusOK, "login="+c.FormValue("login")) }, mw)
	e.POST("/api", func(c echo.Context) error {
		b, err := io.ReadAll(c.Request().Body)
		if err != nil {
			return err
		}
		return c.String(http.StatusOK, string(b))
	}, mw)
	return e
}

func post(e *echo.Echo, path, ip string, form url.Values, mutate ...func(*http.Request)) *httptest.ResponseRecorder {
	req := httptest.NewRequest(http.MethodPost, path, strings.NewReader(form.Encode()))
	req.Header.Set(echo.HeaderContentType, echo.MIMEApplicationForm)
	req.RemoteAddr = ip + ":40000"
	for _, m := range mutate {
		m(req)
	}
	rec := httptest.NewRecorder()
	e.ServeHTTP(rec, req)
	return rec
}

func TestMiddlewarePerAccountIsCaseInsensitive(t *testing.T) {
	e := testServer(t, []KeyedRule{
		{Name: "login_account", Rule: Rule{Limit: 2, Window: time.Minute}, Key: ByFormField("login")},
	}, nil)
	var got []int
	for i, login := range []string{"Alice@Example.com", " alice@example.com ", "ALICE@EXAMPLE.COM", "bob@example.com"} {
		rec := post(e, "/login", "192.0.2."+string(rune('1'+i)), url.Values{"login": {login}})
		got = append(got, rec.Code)
		if rec.Code == http.StatusOK && rec.Body.String() != "login="+login {
			t.Errorf("handler read %q, want login=%s: the middleware consumed the form", rec.Body.String(), login)
		}
	}
	if diff := cmp.Diff([]int{200, 200, 429, 200}, got); diff != "" {
		t.Errorf("statuses mismatch (-want +got):\n%s", diff)
	}
}

func TestMiddlewarePage(t *testing.T) {
	e := testServer(t, []KeyedRule{
		{Name: "login_ip", Rule: Rule{Limit: 1, Window: 10 * time.Second}, Key: ByIP},
		{Name: "login_account", Rule: Rule{Limit: 1, Window: time.Minute}, Key: ByFormField("login")},
	}, nil)
	form := url.Values{"login": {"alice"}}
	if rec := post(e, "/login", "192.0.2.1", form); rec.Code != http.StatusOK {
		t.Fatalf("first request: status %d, want 200", rec.Code)
	}
	rec := post(e, "/login", "192.0.2.1", form)
	if rec.Code != http.StatusTooManyRequests {
		t.Fatalf("second request: status %d, want 429", rec.Code)
	}
	// Both rules deny; the longer wait wins.
	if got := rec.Header().Get("Retry-After"); got != "60" {
		t.Errorf("Retry-After = %q, want 60", got)
	}
	if want := "Too many attempts: Too many requests. Try again in 60 seconds."; rec.Body.String() != want {
		t.Errorf("body = %q, want %q", rec.Body.String(), want)
	}
	// No login field: the account rule is skipped, the IP rule applies.
	if rec := post(e, "/login", "192.0.2.2", nil); rec.Code != http.StatusOK {
		t.Errorf("request without login from a new IP: status %d, want 200", rec.Code)
	}
}

func TestMiddlewareJSON(t *testing.T) {
	e := testServer(t, []KeyedRule{
		{Name: "token_client", Rule: Rule{Limit: 2, Window: time.Second}, Key: ByClient},
	}, func(c echo.Context, d Decision) error { return Respond(c, d, true) })
	basic := func(user string) func(*http.Request) {
		return func(r *http.Request) { r.SetBasicAuth(url.QueryEscape(user), "secret") }
	}
	post(e, "/api", "192.0.2.1", url.Values{"client_id": {"app 1"}})
	post(e, "/api", "192.0.2.1", nil, basic("app 1")) // same client, other way of saying so
	rec := post(e, "/api", "192.0.2.9", nil, basic("app 1"))
	if rec.Code != http.StatusTooManyRequests {
		t.Fatalf("third request of the client: status %d, want 429", rec.Code)
	}
	if got := rec.Header().Get("Retry-After"); got != "1" {
		t.Errorf("Retry-After = %q, want 1 (rounded up from 500ms)", got)
	}
	if got := rec.Header().Get(echo.HeaderContentType); !strings.HasPrefix(got, echo.MIMEApplicationJSON) {
		t.Errorf("Content-Type = %q, want JSON", got)
	}
	var body map[string]string
	if err := json.Unmarshal(rec.Body.Bytes(), &body); err != nil {
		t.Fatalf("body %q: %v", rec.Body.String(), err)
	}
	want := map[string]string{"error": "too_many_requests", "error_description": "Too many requests. Try again in 1 second."}
	if diff := cmp.Diff(want, body); diff != "" {
		t.Errorf("body mismatch (-want +got):\n%s", diff)
	}
	// Another client is not affected, and a JSON body reaches the handler.
	req := func(r *http.Request) {
		r.Header.Set(echo.HeaderContentType, echo.MIMEApplicationJSON)
		r.Body = io.NopCloser(strings.NewReader(`{"a":1}`))
	}
	rec = post(e, "/api", "192.0.2.1", nil, basic("app2"), req)
	if rec.Code != http.StatusOK || rec.Body.String() != `{"a":1}` {
		t.Errorf("other client: %d %q, want 200 with the JSON body intact", rec.Code, rec.Body.String())
	}
}

func TestRetryAfterSeconds(t *testing.T) {
	for d, want := range map[time.Duration]string{
		0: "1", time.Millisecond: "1", time.Second: "1", time.Second + 1: "2", 59500 * time.Millisecond: "60",
	} {
		if got := retryAfterSeconds(d); got != want {
			t.Errorf("retryAfterSeconds(%v) = %q, want %q", d, got, want)
		}
	}
}

func TestLimitedErrorIsHTTP429(t *testing.T) {
	var he *echo.HTTPError
	if err := error(&LimitedError{RetryAfter: time.Second}); !errors.As(err, &he) || he.Code != http.StatusTooManyRequests {
		t.Errorf("errors.As(LimitedError, *echo.HTTPError) = %v, want code 429", he)
	}
}
