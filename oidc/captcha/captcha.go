package captcha

import (
	"context"
	"errors"
	"fmt"
	"net/http"
)

// ErrFailed reports that the request carries no valid CAPTCHA answer:
// missing, wrong, expired or already used. Callers show the form again.
var ErrFailed = errors.New("captcha: failed")

// ErrUnavailable reports that a hosted CAPTCHA service could not be asked:
// unreachable, timed out, overloaded (5xx, 429) or answering nonsense.
// Nobody is at fault that the visitor could repair; callers decide whether
// to refuse for now (registration) or to go on without the check (login,
// which rate limits and the lockout still protect).
var ErrUnavailable = errors.New("captcha: service unavailable")

// Verifier checks the CAPTCHA answer a form submission carries.
type Verifier interface {
	// Verify reads its field(s) from r.Form and returns nil when the answer
	// is valid, an error wrapping ErrFailed when it is not, one wrapping
	// ErrUnavailable when a hosted service could not be asked, or another
	// error when it could not be checked.
	Verify(ctx context.Context, r *http.Request) error
}

// formValue returns the first value of field in r.Form, parsing the form
// first if nobody has.
func formValue(r *http.Request, field string) (string, error) {
	if r.Form == nil {
		if err := r.ParseForm(); err != nil {
			return "", fmt.Errorf("captcha: parse form: %w", err)
		}
	}
	return r.Form.Get(field), nil
}
