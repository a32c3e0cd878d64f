package sqlstore_test

import (
	"errors"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/google/uuid"
	"gorm.io/gorm"

	"gatehouse/identity"
	"gatehouse/identity/sqlstore"
	"gatehouse/migrations/dbtest"
)

var searchEpoch = time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)

// seedUser is the part of a user the search tests vary.
type seedUser struct {
	name, email, given, family, phone string
	roles                             []string
	status                            identity.Status
	created                           int  // hours after searchEpoch
	login                             *int // hours after searchEpoch; nil: never signed in
}

func hours(h int) *int { return &h }

var seedUsers = []seedUser{
	{"alice", "alice@example.com", "Alice", "Liddell", "+15550001", []string{"admin"}, identity.StatusActive, 1, hours(10)},
	{"Bob", "bob@Example.org", "Robert", "Smith", "+15550002", nil, identity.StatusActive, 2, hours(12)},
	{"carol", "carol@example.com", "Carol", "SMITHERS", "+15550003", []string{"support", "admin"}, identity.StatusDisabled, 3, nil},
	{"dave", "", "Dave", "Jones", "+44770099", []string{"support"}, identity.StatusActive, 4, hours(12)},
	{"erin_x", "erin%x@example.net", "Erin", "Vale", "", nil, identity.StatusActive, 5, nil},
	{"frank", "frank@corp.example", "", "", "+15550006", []string{"administrator"}, identity.StatusDisabled, 6, hours(3)},
}

// mustSeed creates the seed users and returns their IDs by username.
func mustSeed(t *testing.T, s *sqlstore.UserStore, users []seedUser) map[string]string {
	t.Helper()
	ids := map[string]string{}
	for _, su := range users {
		u := &identity.User{
			ID: uuid.NewString(), Username: su.name, Email: su.email, GivenName: su.given,
			FamilyName: su.family, Phone: su.phone, Roles: su.roles, Status: su.status,
			CreatedAt: searchEpoch.Add(time.Duration(su.created) * time.Hour),
		}
		if err := s.CreateUser(t.Context(), u, "$argon2id$secret-hash"); err != nil {
			t.Fatalf("CreateUser(%s): %v", su.name, err)
		}
		if su.login != nil {
			if err := s.RecordLogin(t.Context(), u.ID, searchEpoch.Add(time.Duration(*su.login)*time.Hour)); err != nil {
				t.Fatalf("RecordLogin(%s): %v", su.name, err)
			}
		}
		ids[su.name] = u.ID
	}
	return ids
}

func usernames(users []*identity.User) []string {
	var out []string
	for _, u := range users {
		out = append(out, u.Username)
	}
	return out
}

func TestSearchUsersFilters(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, db *gorm.DB) {
		s := sqlstore.NewUserStore(db)
		mustSeed(t, s, seedUsers)
		tests := []struct {
			name string
			q    identity.UserQuery
			want []string
		}{
			{"all by creation", identity.UserQuery{}, []string{"alice", "Bob", "carol", "dave", "erin_x", "frank"}},
			{"q username ignores case", identity.UserQuery{Q: "BOB"}, []string{"Bob"}},
			{"q family name ignores case", identity.UserQuery{Q: "smith"}, []string{"Bob", "carol"}},
			{"q given name", identity.UserQuery{Q: "rober"}, []string{"Bob"}},
			{"q e-mail domain", identity.UserQuery{Q: "EXAMPLE.COM"}, []string{"alice", "carol"}},
			{"q phone", identity.UserQuery{Q: "4477"}, []string{"dave"}},
			{"q percent is literal", identity.UserQuery{Q: "n%x"}, []string{"erin_x"}},
			{"q underscore is literal", identity.UserQuery{Q: "n_x"}, []string{"erin_x"}},
			{"q no match across fields", identity.UserQuery{Q: "alice alice"}, nil},
			{"email prefix ignores case", identity.UserQuery{Email: "CAROL@"}, []string{"carol"}},
			{"email exact address", identity.UserQuery{Email: "bob@example.org"}, []string{"Bob"}},
			{"email prefix is not substring", identity.UserQuery{Email: "example"}, nil},
			{"email percent is literal", identity.UserQuery{Email: "erin%"}, []string{"erin_x"}},
			{"email wildcard refused as literal", identity.UserQuery{Email: "%"}, nil},
			{"status disabled", identity.UserQuery{Status: identity.StatusDisabled}, []string{"carol", "frank"}},
			{"status active", identity.UserQuery{Status: identity.StatusActive}, []string{"alice", "Bob", "dave", "erin_x"}},
			{"role exact, not prefix", identity.UserQuery{Role: "admin"}, []string{"alice", "carol"}},
			{"role support", identity.UserQuery{Role: "support"}, []string{"carol", "dave"}},
			{"role none hold", identity.UserQuery{Role: "adm"}, nil},
			{"created after", identity.UserQuery{CreatedAfter: searchEpoch.Add(4 * time.Hour)}, []string{"erin_x", "frank"}},
			{"created before", identity.UserQuery{CreatedBefore: searchEpoch.Add(3 * time.Hour)}, []string{"alice", "Bob"}},
			{"last login after", identity.UserQuery{LastLoginAfter: searchEpoch.Add(10 * time.Hour)}, []string{"Bob", "dave"}},
			{"last login before", identity.UserQuery{LastLoginBefore: searchEpoch.Add(11 * time.Hour)}, []string{"alice", "frank"}},
			{"filters combine", identity.UserQuery{Role: "admin", Status: identity.StatusActive, Q: "lid"}, []string{"alice"}},
		}
		for _, tc := range tests {
			t.Run(tc.name, func(t *testing.T) {
				page, err := s.SearchUsers(t.Context(), tc.q)
				if err != nil {
					t.Fatalf("SearchUsers: %v", err)
				}
				if diff := cmp.Diff(tc.want, usernames(page.Users)); diff != "" {
					t.Errorf("SearchUsers(%+v) mismatch (-want +got):\n%s", tc.q, diff)
				}
				if page.NextCursor != "" {
					t.Errorf("NextCursor = %q on the only page", page.NextCursor)
				}
			})
		}
	})
}

func TestSearchUsersSort(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, db *gorm.DB) {
		s := sqlstore.NewUserStore(db)
		ids := mustSeed(t, s, seedUsers)
		// Bob and dave signed in at the same time: the ID breaks the tie.
		bobDave := []string{"Bob", "dave"}
		if ids["dave"] < ids["Bob"] {
			bobDave = []string{"dave", "Bob"}
		}
		rev := func(s []string) []string { s = slices.Clone(s); slices.Reverse(s); return s }
		// Never signed in sorts last in both directions, ties by ID.
		never := []string{"carol", "erin_x"}
		if ids["erin_x"] < ids["carol"] {
			never = []string{"erin_x", "carol"}
		}
		tests := []struct {
			sort identity.UserSort
			desc bool
			want []string
		}{
			{identity.SortCreated, false, []string{"alice", "Bob", "carol", "dave", "erin_x", "frank"}},
			{identity.SortCreated, true, []string{"frank", "erin_x", "dave", "carol", "Bob", "alice"}},
			{identity.SortUsername, false, []string{"alice", "Bob", "carol", "dave", "erin_x", "frank"}},
			{identity.SortUsername, true, []string{"frank", "erin_x", "dave", "carol", "Bob", "alice"}},
			{identity.SortEmail, false, []string{"dave", "alice", "Bob", "carol", "erin_x", "frank"}},
			{identity.SortEmail, true, []string{"frank", "erin_x", "carol", "Bob", "alice", "dave"}},
			{identity.SortLastLogin, false, slices.Concat([]string{"frank", "alice"}, bobDave, never)},
			{identity.SortLastLogin, true, slices.Concat(rev(bobDave), []string{"alice", "frank"}, rev(never))},
		}
		for _, tc := range tests {
			t.Run(fmt.Sprintf("%s desc=%v", tc.sort, tc.desc), func(t *testing.T) {
				// One user per page, so every step crosses a cursor.
				var got []string
				q := identity.UserQuery{Sort: tc.sort, Descending: tc.desc, Limit: 1}
				for range 20 {
					page, err := s.SearchUsers(t.Context(), q)
					if err != nil {
						t.Fatalf("SearchUsers: %v", err)
					}
					got = append(got, usernames(page.Users)...)
					if page.NextCursor == "" {
						break
					}
					q.Cursor = page.NextCursor
				}
				if diff := cmp.Diff(tc.want, got); diff != "" {
					t.Errorf("order mismatch (-want +got):\n%s", diff)
				}
			})
		}
	})
}

// TestSearchUsersCursorWalk pages through every user while others are
// inserted between pages, in every order: each user that existed before
// the first page is seen exactly once.
func TestSearchUsersCursorWalk(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, db *gorm.DB) {
		s := sqlstore.NewUserStore(db)
		var seed []seedUser
		for i := range 40 {
			su := seedUser{name: fmt.Sprintf("user%02d", i), email: fmt.Sprintf("u%02d@example.com", 39-i),
				status: identity.StatusActive, created: i % 7}
			if i%3 != 0 {
				su.login = hours(i % 5)
			}
			seed = append(seed, su)
		}
		existing := mustSeed(t, s, seed)
		inserted := 0
		for _, sort := range []identity.UserSort{identity.SortCreated, identity.SortLastLogin, identity.SortUsername, identity.SortEmail} {
			for _, desc := range []bool{false, true} {
				seen := map[string]int{}
				q := identity.UserQuery{Sort: sort, Descending: desc, Limit: 7}
				for pages := 0; ; pages++ {
					if pages > 1000 {
						t.Fatalf("%s desc=%v: no last page", sort, desc)
					}
					page, err := s.SearchUsers(t.Context(), q)
					if err != nil {
						t.Fatalf("SearchUsers: %v", err)
					}
					for _, u := range page.Users {
						seen[u.ID]++
					}
					// Rows that sort anywhere: before, inside and after the cursor.
					for _, h := range []int{-1, 3, 100} {
						inserted++
						login := h
						mustSeed(t, s, []seedUser{{name: fmt.Sprintf("new%03d", inserted), email: fmt.Sprintf("n%03d@example.com", inserted),
							status: identity.StatusActive, created: h, login: &login}})
					}
					if page.NextCursor == "" {
						break
					}
					q.Cursor = page.NextCursor
				}
				for name, id := range existing {
					if seen[id] != 1 {
						t.Errorf("%s desc=%v: %s seen %d times, want once", sort, desc, name, seen[id])
					}
				}
			}
		}
	})
}

func TestSearchUsersInvalid(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, db *gorm.DB) {
		s := sqlstore.NewUserStore(db)
		mustSeed(t, s, seedUsers)
		first, err := s.SearchUsers(t.Context(), identity.UserQuery{Limit: 2})
		if err != nil || first.NextCursor == "" {
			t.Fatalf("first page: %v, cursor %q", err, first.NextCursor)
		}
		tamper := []byte(first.NextCursor)
		tamper[len(tamper)/2] ^= 1
		tests := []struct {
			name  string
			q     identity.UserQuery
			field string
		}{
			{"limit negative", identity.UserQuery{Limit: -1}, identity.FieldLimit},
			{"limit 10000", identity.UserQuery{Limit: 10000}, identity.FieldLimit},
			{"limit 501", identity.UserQuery{Limit: 501}, identity.FieldLimit},
			{"unknown sort", identity.UserQuery{Sort: "password"}, identity.FieldSort},
			{"unknown status", identity.UserQuery{Status: "deleted"}, identity.FieldStatus},
			{"control character", identity.UserQuery{Q: "a\nb"}, identity.FieldQuery},
			{"q too short for trigrams", identity.UserQuery{Q: " ab "}, identity.FieldQuery},
			{"q two letters beyond ASCII", identity.UserQuery{Q: "öß"}, identity.FieldQuery},
			{"garbage cursor", identity.UserQuery{Cursor: "not a cursor"}, identity.FieldCursor},
			{"tampered cursor", identity.UserQuery{Limit: 2, Cursor: string(tamper)}, identity.FieldCursor},
			{"cursor of another sort", identity.UserQuery{Limit: 2, Sort: identity.SortUsername, Cursor: first.NextCursor}, identity.FieldCursor},
			{"cursor of another filter", identity.UserQuery{Limit: 2, Role: "admin", Cursor: first.NextCursor}, identity.FieldCursor},
			{"cursor of other direction", identity.UserQuery{Limit: 2, Descending: true, Cursor: first.NextCursor}, identity.FieldCursor},
			{"forged injection cursor", identity.UserQuery{Cursor: forgedCursor(t, s)}, identity.FieldCursor},
		}
		for _, tc := range tests {
			t.Run(tc.name, func(t *testing.T) {
				_, err := s.SearchUsers(t.Context(), tc.q)
				var ve *identity.ValidationError
				if !errors.As(err, &ve) {
					t.Fatalf("SearchUsers error = %v, want *ValidationError", err)
				}
				if _, ok := ve.Fields[tc.field]; !ok || len(ve.Fields) != 1 {
					t.Errorf("fields = %v, want only %q", ve.Fields, tc.field)
				}
			})
		}
		// Limit 0 takes the default, a cursor with another limit is fine.
		page, err := s.SearchUsers(t.Context(), identity.UserQuery{Limit: 0})
		if err != nil || len(page.Users) != len(seedUsers) {
			t.Errorf("Limit 0: %d users, %v; want the default limit", len(page.Users), err)
		}
		page, err = s.SearchUsers(t.Context(), identity.UserQuery{Limit: 500, Cursor: first.NextCursor})
		if err != nil || len(page.Users) != len(seedUsers)-2 {
			t.Errorf("next page with limit 500: %d users, %v", len(page.Users), err)
		}
	})
}

// forgedCursor is a well-formed cursor for the default search whose ID is
// SQL rather than a UUID.
func forgedCursor(t *testing.T, s *sqlstore.UserStore) string {
	t.Helper()
	q, _, err := identity.NormalizeUserQuery(identity.UserQuery{})
	if err != nil {
		t.Fatal(err)
	}
	key := searchEpoch.Format(identity.TimeKeyLayout)
	return identity.EncodeCursor(q, identity.SearchPosition{Key: &key, ID: "x' OR 1=1 --"})
}

func TestLookupUsers(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, db *gorm.DB) {
		s := sqlstore.NewUserStore(db)
		ids := mustSeed(t, s, seedUsers)
		unknownID := uuid.NewString()
		keys := []string{ids["alice"], "BOB@example.ORG", unknownID, "nobody@example.com", strings.ToUpper(ids["dave"]), "not-an-id-or-address"}
		got, err := s.LookupUsers(t.Context(), keys)
		if err != nil {
			t.Fatalf("LookupUsers: %v", err)
		}
		names := usernames(got.Users)
		slices.Sort(names)
		if diff := cmp.Diff([]string{"Bob", "alice", "dave"}, names); diff != "" {
			t.Errorf("found mismatch (-want +got):\n%s", diff)
		}
		if diff := cmp.Diff([]string{unknownID, "nobody@example.com", "not-an-id-or-address"}, got.Missing); diff != "" {
			t.Errorf("missing mismatch (-want +got):\n%s", diff)
		}

		// The cap: 1000 keys are one query, 1001 a validation error.
		many := make([]string, identity.MaxLookupKeys)
		for i := range many {
			many[i] = uuid.NewString()
		}
		many[0] = ids["carol"]
		got, err = s.LookupUsers(t.Context(), many)
		if err != nil || len(got.Users) != 1 || len(got.Missing) != identity.MaxLookupKeys-1 {
			t.Errorf("1000 keys: %d found, %d missing, %v", len(got.Users), len(got.Missing), err)
		}
		_, err = s.LookupUsers(t.Context(), append(many, uuid.NewString()))
		var ve *identity.ValidationError
		if !errors.As(err, &ve) || ve.Fields[identity.FieldKeys] == "" {
			t.Errorf("1001 keys: error %v, want *ValidationError for %q", err, identity.FieldKeys)
		}
		_, err = s.LookupUsers(t.Context(), []string{" "})
		if !errors.As(err, &ve) {
			t.Errorf("empty key: error %v, want *ValidationError", err)
		}
	})
}
