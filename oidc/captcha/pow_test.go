package captcha_test

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/labstack/echo/v4"

	"gatehouse/oidc/captcha"
	"gatehouse/oidc/captcha/captchatest"
)

// memSpent is an in-memory SpentStore for the package's own tests.
type memSpent struct {
	mu   sync.Mutex
	seen map[string]time.Time
}

func (m *memSpent) Spend(_ context.Context, challenge string, expiresAt time.Time) (bool, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if _, ok := m.seen[challenge]; ok {
		return false, nil
	}
	m.seen[challenge] = expiresAt
	return true, nil
}

func TestPoWMemory(t *testing.T) {
	captchatest.RunSpentStoreTests(t, func(*testing.T) captcha.SpentStore {
		return &memSpent{seen: map[string]time.Time{}}
	})
}

// failSpent is a SpentStore whose database is down.
type failSpent struct{}

func (failSpent) Spend(context.Context, string, time.Time) (bool, error) {
	return false, errors.New("connection refused")
}

func TestPoWStoreErrorIsNotFailed(t *testing.T) {
	p := &captcha.PoW{Key: []byte("k"), MaxNumber: 50, Spent: failSpent{}}
	ch, err := p.NewChallenge()
	if err != nil {
		t.Fatal(err)
	}
	err = p.Verify(t.Context(), captchatest.FormRequest(captcha.PoWField, captchatest.MustSolve(t, ch).Encode()))
	if err == nil || errors.Is(err, captcha.ErrFailed) {
		t.Errorf("Verify() = %v, want a non-ErrFailed error", err)
	}
}

func TestNewChallenge(t *testing.T) {
	now := time.Date(2030, 1, 1, 0, 0, 0, 0, time.UTC)
	p := &captcha.PoW{Key: []byte("k"), MaxNumber: 1234, TTL: time.Minute, Now: func() time.Time { return now }}
	ch, err := p.NewChallenge()
	if err != nil {
		t.Fatal(err)
	}
	if ch.Algorithm != "SHA-256" || ch.MaxNumber != 1234 || len(ch.Challenge) != 64 || len(ch.Signature) != 64 {
		t.Errorf("NewChallenge() = %+v", ch)
	}
	if want := "?expires=1893456060&"; !strings.HasSuffix(ch.Salt, want) {
		t.Errorf("salt %q does not end in %q", ch.Salt, want)
	}
	if _, err := (&captcha.PoW{}).NewChallenge(); err == nil {
		t.Error("NewChallenge() without key succeeded")
	}
}

func TestServeChallenge(t *testing.T) {
	p := &captcha.PoW{Key: []byte("k"), MaxNumber: 100}
	e := echo.New()
	rec := httptest.NewRecorder()
	c := e.NewContext(httptest.NewRequest(http.MethodGet, "/captcha/challenge", nil), rec)
	if err := p.ServeChallenge(c); err != nil {
		t.Fatal(err)
	}
	got := map[string]string{
		"status":        http.StatusText(rec.Code),
		"cache-control": rec.Header().Get("Cache-Control"),
		"content-type":  rec.Header().Get("Content-Type"),
	}
	want := map[string]string{"status": "OK", "cache-control": "no-store", "content-type": "application/json"}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("ServeChallenge headers mismatch (-want +got):\n%s", diff)
	}
	var fields map[string]any
	if err := json.Unmarshal(rec.Body.Bytes(), &fields); err != nil {
		t.Fatal(err)
	}
	for _, k := range []string{"algorithm", "challenge", "maxnumber", "salt", "signature"} {
		if _, ok := fields[k]; !ok {
			t.Errorf("challenge JSON lacks %q: %s", k, rec.Body)
		}
	}
	var ch captcha.Challenge
	json.Unmarshal(rec.Body.Bytes(), &ch)
	pl := captchatest.MustSolve(t, ch)
	p.Spent = &memSpent{seen: map[string]time.Time{}}
	if err := p.Verify(t.Context(), captchatest.FormRequest("altcha", pl.Encode())); err != nil {
		t.Errorf("Verify(served challenge) = %v", err)
	}
}
