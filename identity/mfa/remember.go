package mfa

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/google/uuid"
)

// RememberedBrowser is a browser in which the user proved a second factor
// and asked not to be asked again for a while. The browser holds a random
// token in a cookie; the row keeps only its hash.
type RememberedBrowser struct {
	ID     string
	UserID string
	// TokenHash is the hex SHA-256 of the cookie's token.
	TokenHash string
	// Label names the browser for the user ("Firefox on Linux"), from
	// its User-Agent.
	Label      string
	CreatedAt  time.Time
	LastUsedAt time.Time
	ExpiresAt  time.Time
}

// Browsers stores remembered browsers. Forgetting one deletes its row,
// so a forgotten (revoked) browser is an unknown one.
type Browsers interface {
	// CreateBrowser inserts b, which carries its ID and UserID.
	CreateBrowser(ctx context.Context, b *RememberedBrowser) error
	// FindBrowser returns the browser whose token hashes to tokenHash, or
	// ErrNotFound.
	FindBrowser(ctx context.Context, tokenHash string) (*RememberedBrowser, error)
	// TouchBrowser sets the browser's last use.
	TouchBrowser(ctx context.Context, id string, at time.Time) error
	// ListBrowsers returns the user's browsers unexpired at now, newest
	// first.
	ListBrowsers(ctx context.Context, userID string, now time.Time) ([]RememberedBrowser, error)
	// DeleteBrowser forgets one browser of the user, or returns
	// ErrNotFound.
	DeleteBrowser(ctx context.Context, userID, id string) error
	// DeleteUserBrowsers forgets every browser of the user and returns
	// how many there were.
	DeleteUserBrowsers(ctx context.Context, userID string) (int64, error)
	// DeleteExpiredBrowsers purges the browsers that expired before
	// before, for the janitor.
	DeleteExpiredBrowsers(ctx context.Context, before time.Time) (int64, error)
}

// Graces records when the policy's enrolment grace period started for
// each user.
type Graces interface {
	// StartGrace records at as the user's start unless one is recorded,
	// and returns the recorded start.
	StartGrace(ctx context.Context, userID string, at time.Time) (time.Time, error)
}

// RememberBrowser remembers the browser of a sign-in of userID that just
// proved a second factor, for ttl. It returns the token for the browser's
// cookie, which is never stored.
func (s *Service) RememberBrowser(ctx context.Context, userID, userAgent string, ttl time.Duration) (string, error) {
	if s.Browsers == nil {
		return "", errors.New("mfa: Service.Browsers is not set")
	}
	if ttl <= 0 {
		return "", errors.New("mfa: remember browser: no lifetime")
	}
	raw := make([]byte, 32)
	if _, err := rand.Read(raw); err != nil {
		return "", fmt.Errorf("mfa: remember browser: %w", err)
	}
	token := base64.RawURLEncoding.EncodeToString(raw)
	now := s.now().Truncate(time.Second)
	b := &RememberedBrowser{
		ID: uuid.NewString(), UserID: userID, TokenHash: hashToken(token), Label: BrowserLabel(userAgent),
		CreatedAt: now, LastUsedAt: now, ExpiresAt: now.Add(ttl),
	}
	if err := s.Browsers.CreateBrowser(ctx, b); err != nil {
		return "", fmt.Errorf("mfa: remember browser: %w", err)
	}
	return token, nil
}

// RecogniseBrowser reports whether token, from a browser's cookie, names
// a browser remembered for userID that has not expired and was not
// forgotten. The row is found by the token's hash, so no secret is
// compared byte by byte; one of another user is not this user's.
func (s *Service) RecogniseBrowser(ctx context.Context, userID, token string) (bool, error) {
	if s.Browsers == nil || token == "" || userID == "" {
		return false, nil
	}
	b, err := s.Browsers.FindBrowser(ctx, hashToken(token))
	if errors.Is(err, ErrNotFound) {
		return false, nil
	}
	if err != nil {
		return false, fmt.Errorf("mfa: recognise browser: %w", err)
	}
	now := s.now()
	if b.UserID != userID || !now.Before(b.ExpiresAt) {
		return false, nil
	}
	if err := s.Browsers.TouchBrowser(ctx, b.ID, now); err != nil {
		return false, fmt.Errorf("mfa: recognise browser: %w", err)
	}
	return true, nil
}

// ListBrowsers returns the user's remembered browsers, newest first.
func (s *Service) ListBrowsers(ctx context.Context, userID string) ([]RememberedBrowser, error) {
	if s.Browsers == nil {
		return nil, nil
	}
	out, err := s.Browsers.ListBrowsers(ctx, userID, s.now())
	if err != nil {
		return nil, fmt.Errorf("mfa: list browsers: %w", err)
	}
	return out, nil
}

// ForgetBrowser forgets one of the user's remembered browsers.
func (s *Service) ForgetBrowser(ctx context.Context, userID, id string) error {
	if s.Browsers == nil {
		return ErrNotFound
	}
	if err := s.Browsers.DeleteBrowser(ctx, userID, id); err != nil {
		return fmt.Errorf("mfa: forget browser: %w", err)
	}
	return nil
}

// ForgetBrowsers forgets every remembered browser of the user: after a
// password change or reset, a factor removed, or a reset of the factors,
// no browser skips the second factor on the strength of the old ones.
func (s *Service) ForgetBrowsers(ctx context.Context, userID string) (int64, error) {
	if s.Browsers == nil {
		return 0, nil
	}
	n, err := s.Browsers.DeleteUserBrowsers(ctx, userID)
	if err != nil {
		return 0, fmt.Errorf("mfa: forget browsers: %w", err)
	}
	return n, nil
}

// GraceStart returns when the policy's enrolment grace period started for
// the user, starting it now when this is the first sign-in where the
// policy applied to them.
func (s *Service) GraceStart(ctx context.Context, userID string) (time.Time, error) {
	if s.Graces == nil {
		return time.Time{}, errors.New("mfa: Service.Graces is not set")
	}
	start, err := s.Graces.StartGrace(ctx, userID, s.now().Truncate(time.Second))
	if err != nil {
		return time.Time{}, fmt.Errorf("mfa: grace start: %w", err)
	}
	return start, nil
}

func hashToken(token string) string {
	sum := sha256.Sum256([]byte(token))
	return hex.EncodeToString(sum[:])
}

// BrowserLabel names a browser for the list of remembered browsers from
// its User-Agent: "Firefox on Linux", or "Unknown browser".
func BrowserLabel(userAgent string) string {
	ua := strings.ToLower(userAgent)
	browser := ""
	for _, b := range []struct{ token, name string }{
		{"edg/", "Edge"}, {"opr/", "Opera"}, {"firefox/", "Firefox"}, {"chrome/", "Chrome"},
		{"chromium/", "Chromium"}, {"safari/", "Safari"}, {"curl/", "curl"},
	} {
		if strings.Contains(ua, b.token) {
			browser = b.name
			break
		}
	}
	system := ""
	for _, o := range []struct{ token, name string }{
		{"android", "Android"}, {"iphone", "iOS"}, {"ipad", "iPadOS"}, {"windows", "Windows"},
		{"mac os x", "macOS"}, {"cros", "ChromeOS"}, {"linux", "Linux"},
	} {
		if strings.Contains(ua, o.token) {
			system = o.name
			break
		}
	}
	switch {
	case browser != "" && system != "":
		return browser + " on " + system
	case browser != "":
		return browser
	case system != "":
		return "Browser on " + system
	}
	return "Unknown browser"
}
