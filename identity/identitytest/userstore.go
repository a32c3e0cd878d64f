package identitytest

import (
	"errors"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"
	"github.com/google/uuid"

	"gatehouse/identity"
)

// RunUserStoreTests runs the identity.UserStore conformance cases, each as
// a subtest with a store from newStore. Stores returned by newStore may
// share their data: every case makes its own uniquely named users and
// ignores everybody else's.
func RunUserStoreTests(t *testing.T, newStore func(t *testing.T) identity.UserStore) {
	cases := []struct {
		name string
		run  func(t *testing.T, s identity.UserStore)
	}{
		{"CreateGet", testCreateGet},
		{"FindByLogin", testFindByLogin},
		{"DuplicateUsername", testDuplicateUsername},
		{"DuplicateEmail", testDuplicateEmail},
		{"EmptyEmailsDoNotCollide", testEmptyEmails},
		{"Update", testUpdate},
		{"NotFound", testNotFound},
		{"PasswordHash", testPasswordHash},
		{"ListOrder", testListOrder},
		{"RecordLogin", testRecordLogin},
		{"UpdateProfile", testUpdateProfile},
		{"PasswordHashByID", testPasswordHashByID},
		{"MarkEmailVerified", testMarkEmailVerified},
		{"SetEmail", testSetEmail},
		{"SetPhone", testSetPhone},
		{"LockoutCounts", testLockoutCounts},
		{"LockUser", testLockUser},
		{"LockPermanently", testLockPermanently},
		{"ConcurrentAttempts", testConcurrentAttempts},
		{"LockoutNotFound", testLockoutNotFound},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) { tc.run(t, newStore(t)) })
	}
}

// base is a fixed instant with microsecond precision, the finest that every
// supported database keeps.
var base = time.Date(2025, 3, 14, 15, 9, 26, 535897000, time.UTC)

// equateUsers compares users treating nil and empty Roles alike.
var equateUsers = cmpopts.EquateEmpty()

// newUser returns a valid user with a unique username and e-mail address.
func newUser(t testing.TB, prefix string) *identity.User {
	t.Helper()
	id := uuid.Must(uuid.NewV7())
	tag := strings.ReplaceAll(id.String(), "-", "")[20:]
	return &identity.User{
		ID:        id.String(),
		Username:  prefix + "-" + tag,
		Email:     prefix + "." + tag + "@example.com",
		Status:    identity.StatusActive,
		CreatedAt: base,
		UpdatedAt: base,
	}
}

// mustCreate stores u with hash, failing the test on error.
func mustCreate(t testing.TB, s identity.UserStore, u *identity.User, hash string) {
	t.Helper()
	if err := s.CreateUser(t.Context(), u, hash); err != nil {
		t.Fatalf("CreateUser(%q): %v", u.Username, err)
	}
}

// mustGet returns the stored user with id, failing the test on error.
func mustGet(t testing.TB, s identity.UserStore, id string) *identity.User {
	t.Helper()
	got, err := s.GetUser(t.Context(), id)
	if err != nil {
		t.Fatalf("GetUser(%q): %v", id, err)
	}
	return got
}

func testCreateGet(t *testing.T, s identity.UserStore) {
	login := base.Add(time.Hour)
	u := newUser(t, "Alice")
	u.EmailVerified = true
	u.Phone = "+15551234567"
	u.PhoneVerified = true
	u.GivenName = "Alice"
	u.FamilyName = "Liddell"
	u.Locale = "en-GB"
	u.Zoneinfo = "Europe/London"
	u.Picture = "https://example.com/alice.png"
	setProfile(u, "Pleasance")
	u.Roles = []string{"admin", "manager"}
	// A non-UTC zone must come back as the same instant, in UTC.
	u.CreatedAt = base.In(time.FixedZone("CET", 3600))
	u.LastLoginAt = &login
	mustCreate(t, s, u, "")

	want := *u
	want.CreatedAt = base
	got := mustGet(t, s, u.ID)
	if diff := cmp.Diff(&want, got, equateUsers); diff != "" {
		t.Errorf("GetUser mismatch (-want +got):\n%s", diff)
	}
	if loc := got.CreatedAt.Location(); loc != time.UTC {
		t.Errorf("GetUser: CreatedAt in %v, want UTC", loc)
	}

	plain := newUser(t, "bob")
	mustCreate(t, s, plain, "")
	if diff := cmp.Diff(plain, mustGet(t, s, plain.ID), equateUsers); diff != "" {
		t.Errorf("GetUser(minimal user) mismatch (-want +got):\n%s", diff)
	}
}

func testFindByLogin(t *testing.T, s identity.UserStore) {
	u := newUser(t, "Carol")
	u.Email = "Carol.Mixed+" + u.Username + "@Example.COM"
	mustCreate(t, s, u, "hash-of-carol")

	for _, login := range []string{
		u.Username,
		strings.ToUpper(u.Username),
		strings.ToLower(u.Username),
		u.Email,
		strings.ToLower(u.Email),
		strings.ToUpper(u.Email),
	} {
		got, hash, err := s.FindUserByLogin(t.Context(), login)
		if err != nil {
			t.Errorf("FindUserByLogin(%q): %v", login, err)
			continue
		}
		if diff := cmp.Diff(u, got, equateUsers); diff != "" {
			t.Errorf("FindUserByLogin(%q) mismatch (-want +got):\n%s", login, diff)
		}
		if hash != "hash-of-carol" {
			t.Errorf("FindUserByLogin(%q) hash = %q, want %q", login, hash, "hash-of-carol")
		}
	}
}

func testDuplicateUsername(t *testing.T, s identity.UserStore) {
	first := newUser(t, "dave")
	mustCreate(t, s, first, "")
	dup := newUser(t, "other")
	dup.Username = strings.ToUpper(first.Username)
	if err := s.CreateUser(t.Context(), dup, ""); !errors.Is(err, identity.ErrUsernameTaken) {
		t.Errorf("CreateUser(%q) after %q: err = %v, want ErrUsernameTaken", dup.Username, first.Username, err)
	}
}

func testDuplicateEmail(t *testing.T, s identity.UserStore) {
	first := newUser(t, "erin")
	mustCreate(t, s, first, "")
	dup := newUser(t, "other")
	dup.Email = strings.ToUpper(first.Email)
	if err := s.CreateUser(t.Context(), dup, ""); !errors.Is(err, identity.ErrEmailTaken) {
		t.Errorf("CreateUser(email %q) after %q: err = %v, want ErrEmailTaken", dup.Email, first.Email, err)
	}
}

func testEmptyEmails(t *testing.T, s identity.UserStore) {
	for range 2 {
		u := newUser(t, "noemail")
		u.Email = ""
		mustCreate(t, s, u, "")
	}
	if _, _, err := s.FindUserByLogin(t.Context(), ""); !errors.Is(err, identity.ErrNotFound) {
		t.Errorf("FindUserByLogin(\"\"): err = %v, want ErrNotFound", err)
	}
}

func testUpdate(t *testing.T, s identity.UserStore) {
	u := newUser(t, "frank")
	mustCreate(t, s, u, "frank-hash")
	other := newUser(t, "grace")
	mustCreate(t, s, other, "")

	u.Username = "Frank-Renamed-" + u.ID[len(u.ID)-6:]
	u.Email = "frank.new." + u.ID[len(u.ID)-6:] + "@example.org"
	u.EmailVerified = true
	u.Phone = "+447700900123"
	u.PhoneVerified = true
	u.GivenName = "Frank"
	setProfile(u, "Francis")
	u.Roles = []string{"manager"}
	u.Status = identity.StatusDisabled
	u.UpdatedAt = base.Add(time.Minute)
	if err := s.UpdateUser(t.Context(), u); err != nil {
		t.Fatalf("UpdateUser: %v", err)
	}
	if diff := cmp.Diff(u, mustGet(t, s, u.ID), equateUsers); diff != "" {
		t.Errorf("GetUser after UpdateUser mismatch (-want +got):\n%s", diff)
	}
	if _, hash, err := s.FindUserByLogin(t.Context(), strings.ToLower(u.Username)); err != nil || hash != "frank-hash" {
		t.Errorf("FindUserByLogin(new name) = hash %q, err %v; want the unchanged hash", hash, err)
	}

	taken := *u
	taken.Username = strings.ToUpper(other.Username)
	if err := s.UpdateUser(t.Context(), &taken); !errors.Is(err, identity.ErrUsernameTaken) {
		t.Errorf("UpdateUser(username of another user): err = %v, want ErrUsernameTaken", err)
	}
	taken = *u
	taken.Email = strings.ToUpper(other.Email)
	if err := s.UpdateUser(t.Context(), &taken); !errors.Is(err, identity.ErrEmailTaken) {
		t.Errorf("UpdateUser(email of another user): err = %v, want ErrEmailTaken", err)
	}
}

func testNotFound(t *testing.T, s identity.UserStore) {
	ctx := t.Context()
	missing := uuid.Must(uuid.NewV7()).String()
	for _, id := range []string{missing, "not-a-uuid", ""} {
		if _, err := s.GetUser(ctx, id); !errors.Is(err, identity.ErrNotFound) {
			t.Errorf("GetUser(%q): err = %v, want ErrNotFound", id, err)
		}
		if err := s.SetPasswordHash(ctx, id, "x"); !errors.Is(err, identity.ErrNotFound) {
			t.Errorf("SetPasswordHash(%q): err = %v, want ErrNotFound", id, err)
		}
		if err := s.RecordLogin(ctx, id, base); !errors.Is(err, identity.ErrNotFound) {
			t.Errorf("RecordLogin(%q): err = %v, want ErrNotFound", id, err)
		}
		u := newUser(t, "ghost")
		u.ID = id
		if err := s.UpdateUser(ctx, u); !errors.Is(err, identity.ErrNotFound) {
			t.Errorf("UpdateUser(id %q): err = %v, want ErrNotFound", id, err)
		}
	}
	for _, login := range []string{"nobody-" + missing[24:], "nobody." + missing[24:] + "@example.com"} {
		if _, _, err := s.FindUserByLogin(ctx, login); !errors.Is(err, identity.ErrNotFound) {
			t.Errorf("FindUserByLogin(%q): err = %v, want ErrNotFound", login, err)
		}
	}
}

func testPasswordHash(t *testing.T, s identity.UserStore) {
	u := newUser(t, "heidi")
	mustCreate(t, s, u, "")
	for _, want := range []string{"$argon2id$v=19$m=64,t=1,p=1$c2FsdA$a2V5", ""} {
		if err := s.SetPasswordHash(t.Context(), u.ID, want); err != nil {
			t.Fatalf("SetPasswordHash(%q): %v", want, err)
		}
		_, got, err := s.FindUserByLogin(t.Context(), u.Username)
		if err != nil {
			t.Fatalf("FindUserByLogin: %v", err)
		}
		if got != want {
			t.Errorf("hash after SetPasswordHash(%q) = %q", want, got)
		}
	}
}

func testListOrder(t *testing.T, s identity.UserStore) {
	// Created out of order. Two share a creation time and are ordered by
	// ID. Sub-second steps within one second catch a store that compares
	// times as text with trailing zeros trimmed ("05.5Z" > "05.55Z").
	sec := base.Truncate(time.Second)
	times := []time.Time{
		sec.Add(-time.Hour),
		sec,
		sec.Add(500 * time.Millisecond),
		sec.Add(500 * time.Millisecond),
		sec.Add(550 * time.Millisecond),
		sec.Add(550*time.Millisecond + time.Microsecond),
		sec.Add(time.Second),
	}
	var want []string
	users := make([]*identity.User, len(times))
	for i := range users {
		users[i] = newUser(t, "list")
		users[i].CreatedAt = times[i]
		want = append(want, users[i].ID)
	}
	for _, i := range []int{3, 6, 0, 4, 2, 5, 1} {
		mustCreate(t, s, users[i], "")
	}

	all, err := s.ListUsers(t.Context(), 0, 0)
	if err != nil {
		t.Fatalf("ListUsers(0, 0): %v", err)
	}
	var got []string
	for _, u := range all {
		if slices.Contains(want, u.ID) {
			got = append(got, u.ID)
		}
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("ListUsers order mismatch (-want +got):\n%s", diff)
	}

	// Pages of two, put together, are the whole list.
	var paged []*identity.User
	for offset := 0; ; offset += 2 {
		page, err := s.ListUsers(t.Context(), 2, offset)
		if err != nil {
			t.Fatalf("ListUsers(2, %d): %v", offset, err)
		}
		if len(page) > 2 {
			t.Fatalf("ListUsers(2, %d) returned %d users", offset, len(page))
		}
		if len(page) == 0 {
			break
		}
		paged = append(paged, page...)
	}
	if diff := cmp.Diff(all, paged, equateUsers); diff != "" {
		t.Errorf("ListUsers pages mismatch (-whole list +pages):\n%s", diff)
	}
}

func testRecordLogin(t *testing.T, s identity.UserStore) {
	u := newUser(t, "ivan")
	mustCreate(t, s, u, "")
	at := base.Add(36 * time.Hour).In(time.FixedZone("EST", -5*3600))
	if err := s.RecordLogin(t.Context(), u.ID, at); err != nil {
		t.Fatalf("RecordLogin: %v", err)
	}
	got := mustGet(t, s, u.ID)
	if got.LastLoginAt == nil || !got.LastLoginAt.Equal(at) || got.LastLoginAt.Location() != time.UTC {
		t.Errorf("LastLoginAt after RecordLogin(%v) = %v, want the same instant in UTC", at, got.LastLoginAt)
	}
	if !got.UpdatedAt.Equal(u.UpdatedAt) {
		t.Errorf("RecordLogin changed UpdatedAt to %v, want %v", got.UpdatedAt, u.UpdatedAt)
	}
}
