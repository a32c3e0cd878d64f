package identity

import (
	"context"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/google/uuid"
)

// Limits of a user search and of a batch lookup.
const (
	DefaultSearchLimit = 50
	MaxSearchLimit     = 500
	MaxLookupKeys      = 1000
	MinSearchQuery     = 3 // characters of UserQuery.Q
)

// Field names of UserQuery in a *ValidationError, as an admin API would
// name its query parameters.
const (
	FieldQuery  = "q"
	FieldStatus = "status"
	FieldSort   = "sort"
	FieldLimit  = "limit"
	FieldCursor = "cursor"
	FieldKeys   = "keys"
)

// UserSort is the order of a search's results. Every order ends with the
// user ID as tie-breaker, so it is total and a cursor names one position.
type UserSort string

const (
	SortCreated   UserSort = "created"    // creation time
	SortLastLogin UserSort = "last_login" // last sign-in; never signed in comes last in both directions
	SortUsername  UserSort = "username"   // username, ignoring case
	SortEmail     UserSort = "email"      // e-mail address, ignoring case
)

// UserQuery selects users. Empty fields do not filter.
type UserQuery struct {
	// Q matches case-insensitively as a substring of the username, the
	// e-mail address, the given or family name or the phone number. It
	// needs at least MinSearchQuery characters.
	Q string
	// Email is a case-insensitive prefix of the e-mail address; a whole
	// address matches itself (and longer addresses that begin with it).
	Email  string
	Status Status
	Role   string // users holding this role

	CreatedAfter, CreatedBefore     time.Time // exclusive bounds
	LastLoginAfter, LastLoginBefore time.Time // exclusive; users who never signed in never match

	Sort       UserSort // default SortCreated
	Descending bool
	Limit      int    // 0 means DefaultSearchLimit; else 1..MaxSearchLimit
	Cursor     string // UserPage.NextCursor of the previous page
}

// UserPage is one page of a search. Users never carry password hashes
// (User has none).
type UserPage struct {
	Users []*User
	// NextCursor continues the search after this page; empty on the last.
	NextCursor string
}

// UserLookup is the answer to a batch lookup.
type UserLookup struct {
	Users   []*User  // in no particular order
	Missing []string // the keys, as given, that named no user
}

// UserSearcher searches the user store; the admin API and CLI use it.
type UserSearcher interface {
	// SearchUsers returns one page of the users q selects, or a
	// *ValidationError naming the bad field of q.
	SearchUsers(ctx context.Context, q UserQuery) (UserPage, error)
	// LookupUsers finds users by ID or e-mail address (a key that is a
	// UUID is an ID, any other an address, ignoring case) in one query,
	// or returns a *ValidationError for more than MaxLookupKeys keys.
	LookupUsers(ctx context.Context, keys []string) (UserLookup, error)
}

// SearchPosition is where a page starts: after the row with sort key Key
// (nil for a NULL last login) and ID.
type SearchPosition struct {
	Key *string
	ID  string
}

// cursor is the decoded form of UserQuery.Cursor. Query is a fingerprint
// of the filters and order it was made for, so a cursor of another
// search is refused rather than silently skipping rows.
type cursor struct {
	Query string  `json:"q"`
	Key   *string `json:"k"`
	ID    string  `json:"i"`
}

// NormalizeUserQuery checks q, fills in defaults and decodes its cursor.
// It returns a *ValidationError naming each bad field.
func NormalizeUserQuery(q UserQuery) (UserQuery, *SearchPosition, error) {
	ve := &ValidationError{}
	q.Q = strings.ToLower(strings.TrimSpace(q.Q))
	if strings.IndexFunc(q.Q, unicode.IsControl) >= 0 {
		ve.Add(FieldQuery, "Remove control characters from the search.")
	}
	// A trigram index cannot narrow a search for fewer than three
	// characters: on a large table it would read every row.
	if n := utf8.RuneCountInString(q.Q); n > 0 && n < MinSearchQuery {
		ve.Add(FieldQuery, "Search for at least 3 characters.")
	}
	q.Email = strings.ToLower(strings.TrimSpace(q.Email))
	switch q.Status {
	case "", StatusActive, StatusDisabled:
	default:
		ve.Add(FieldStatus, "Choose a status: active or disabled.")
	}
	q.Role = strings.TrimSpace(q.Role)
	switch q.Sort {
	case "":
		q.Sort = SortCreated
	case SortCreated, SortLastLogin, SortUsername, SortEmail:
	default:
		ve.Add(FieldSort, "Choose a sort: created, last_login, username or email.")
	}
	switch {
	case q.Limit == 0:
		q.Limit = DefaultSearchLimit
	case q.Limit < 1 || q.Limit > MaxSearchLimit:
		ve.Add(FieldLimit, "Choose a limit from 1 to 500.")
	}
	if err := ve.orNil(); err != nil {
		return q, nil, err
	}
	if q.Cursor == "" {
		return q, nil, nil
	}
	pos, ok := decodeCursor(q)
	if !ok {
		ve.Add(FieldCursor, "The cursor is not one this search returned; start again from the first page.")
		return q, nil, ve
	}
	return q, pos, nil
}

// EncodeCursor returns the cursor of the position after pos for q.
func EncodeCursor(q UserQuery, pos SearchPosition) string {
	b, _ := json.Marshal(cursor{Query: fingerprint(q), Key: pos.Key, ID: pos.ID})
	return base64.RawURLEncoding.EncodeToString(b)
}

func decodeCursor(q UserQuery) (*SearchPosition, bool) {
	b, err := base64.RawURLEncoding.DecodeString(q.Cursor)
	if err != nil {
		return nil, false
	}
	var c cursor
	if err := json.Unmarshal(b, &c); err != nil || c.Query != fingerprint(q) {
		return nil, false
	}
	if _, err := uuid.Parse(c.ID); err != nil {
		return nil, false
	}
	switch {
	case c.Key == nil:
		// Only users who never signed in have no sort key.
		if q.Sort != SortLastLogin {
			return nil, false
		}
	case q.Sort == SortCreated || q.Sort == SortLastLogin:
		if _, err := time.Parse(TimeKeyLayout, *c.Key); err != nil {
			return nil, false
		}
	}
	return &SearchPosition{Key: c.Key, ID: c.ID}, true
}

// TimeKeyLayout is how a time sort key is written in a cursor: the
// databases' own precision, fixed width.
const TimeKeyLayout = "2006-01-02T15:04:05.000000Z"

// fingerprint identifies the filters and order of q (not its limit or
// cursor): a cursor is valid only for the search that made it.
func fingerprint(q UserQuery) string {
	b, _ := json.Marshal([]any{q.Q, q.Email, q.Status, q.Role,
		q.CreatedAfter.UnixMicro(), q.CreatedBefore.UnixMicro(),
		q.LastLoginAfter.UnixMicro(), q.LastLoginBefore.UnixMicro(),
		q.Sort, q.Descending})
	sum := sha256.Sum256(b)
	return hex.EncodeToString(sum[:8])
}

// CheckLookupKeys returns a *ValidationError when keys are too many or
// include an empty one.
func CheckLookupKeys(keys []string) error {
	ve := &ValidationError{}
	if len(keys) > MaxLookupKeys {
		ve.Add(FieldKeys, "Look up at most 1000 users at once.")
	}
	for _, k := range keys {
		if strings.TrimSpace(k) == "" {
			ve.Add(FieldKeys, "Remove the empty key.")
		}
	}
	return ve.orNil()
}
