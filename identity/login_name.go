package identity

import (
	"context"
	"errors"
	"fmt"
	"strings"
)

// LoginExists reports whether login, a username or e-mail address read as
// Authenticate reads it, belongs to an account. The audit trail uses it to
// decide whether the name typed at a failed sign-in may be kept in clear.
func (s *Accounts) LoginExists(ctx context.Context, login string) (bool, error) {
	login = strings.TrimSpace(login)
	if login == "" {
		return false, nil
	}
	_, _, err := s.Users.FindUserByLogin(ctx, login)
	switch {
	case err == nil:
		return true, nil
	case errors.Is(err, ErrNotFound):
		return false, nil
	}
	return false, fmt.Errorf("identity: look up login: %w", err)
}
