package console

import (
	"errors"
	"fmt"
	"maps"
	"slices"
	"strings"
	"time"

	"github.com/google/uuid"

	"gatehouse/identity"
)

// Words for the refusals of the services that a page shows itself.
const (
	msgStale     = "Someone changed this user meanwhile. Review the details as they are now, and make your change again."
	msgLastAdmin = "This is the last active user who can manage roles (users:admin). " +
		"Give that permission to someone else first."
	msgUnknownRole = "One of the roles chosen no longer exists. Review the roles and try again."
	msgDisabled    = "The user is deactivated: reactivate them first."
)

// refusal says in words why a service refused a change, or returns the
// error for the error page: forbidden is the 403 page, unknown the 404
// page, anything else not the user's doing (the database, say) the
// error handler's page.
func refusal(err error) (string, error) {
	var last *identity.LastAdminError
	var ve *identity.ValidationError
	var cool *identity.CooldownError
	switch {
	case errors.Is(err, identity.ErrForbidden):
		return "", forbidden()
	case errors.Is(err, identity.ErrNotFound):
		return "", notFound()
	case errors.Is(err, identity.ErrPreconditionFailed):
		return msgStale, nil
	case errors.As(err, &last):
		return msgLastAdmin, nil
	case errors.Is(err, identity.ErrUnknownRole):
		return msgUnknownRole, nil
	case errors.Is(err, identity.ErrAccountDisabled):
		return msgDisabled, nil
	case errors.As(err, &cool):
		return fmt.Sprintf("A link was sent moments ago. Try again in %s.", cool.RetryAfter.Round(time.Second)), nil
	case errors.As(err, &ve):
		return joinMessages(ve.Fields), nil
	}
	return "", err
}

// joinMessages puts a ValidationError's messages in one line, in field
// order, for a page that has no field to put them next to.
func joinMessages(fields map[string]string) string {
	var out []string
	for _, k := range slices.Sorted(maps.Keys(fields)) {
		out = append(out, fields[k])
	}
	return strings.Join(out, " ")
}

// validID reports whether id can name a user: anything else is not
// looked up.
func validID(id string) bool {
	_, err := uuid.Parse(id)
	return err == nil && len(id) == 36
}

func userURL(id string) string { return PathUsers + "/" + id }
