package identity_test

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"
	"github.com/google/uuid"

	"gatehouse/identity"
	"gatehouse/identity/sqlstore"
	"gatehouse/migrations/dbtest"
)

var testNow = time.Date(2025, 6, 1, 12, 0, 0, 0, time.UTC)

// newService returns the identity service on a fresh SQLite database,
// with cheap argon2id parameters and a fixed clock.
func newService(t testing.TB) *service {
	t.Helper()
	core := &identity.Core{Hasher: identity.NewHasher(fastParams, nil), Now: func() time.Time { return testNow }}
	return newParts(core, sqlstore.NewUserStore(dbtest.MustOpen(t, "sqlite")), nil, "", "")
}

// mustRegister registers a user, failing the test on error.
func mustRegister(t testing.TB, s *service, in identity.RegisterInput) *identity.User {
	t.Helper()
	u, err := s.Register(t.Context(), in)
	if err != nil {
		t.Fatalf("Register(%q): %v", in.Username, err)
	}
	return u
}

var alice = identity.RegisterInput{
	Username:   "Alice.Liddell",
	Email:      " alice@Example.com ",
	Password:   "down the rabbit hole",
	GivenName:  "Alice",
	FamilyName: "Liddell",
}

func TestRegister(t *testing.T) {
	s := newService(t)
	got := mustRegister(t, s, alice)

	id, err := uuid.Parse(got.ID)
	if err != nil || id.Version() != 7 {
		t.Errorf("ID = %q (%v), want a UUID v7", got.ID, err)
	}
	want := &identity.User{
		ID:         got.ID,
		Username:   "Alice.Liddell",
		Email:      "alice@example.com",
		GivenName:  "Alice",
		FamilyName: "Liddell",
		Status:     identity.StatusActive,
		CreatedAt:  testNow,
		UpdatedAt:  testNow,
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("Register mismatch (-want +got):\n%s", diff)
	}
	stored, err := s.Users.GetUser(t.Context(), got.ID)
	if err != nil {
		t.Fatalf("GetUser: %v", err)
	}
	if diff := cmp.Diff(want, stored, cmpopts.EquateEmpty()); diff != "" {
		t.Errorf("stored user mismatch (-want +got):\n%s", diff)
	}
	if _, hash, _ := s.Users.FindUserByLogin(t.Context(), "alice.liddell"); !strings.HasPrefix(hash, "$argon2id$") {
		t.Errorf("stored hash = %q, want an argon2id PHC string", hash)
	}
}

func TestRegisterInvalid(t *testing.T) {
	tests := []struct {
		name string
		in   identity.RegisterInput
		want map[string]string
	}{
		{
			name: "every field wrong",
			in: identity.RegisterInput{
				Username:   "x",
				Email:      "Alice <alice@example.com>",
				Password:   "short",
				GivenName:  "Al\nice",
				FamilyName: strings.Repeat("L", 101),
			},
			want: map[string]string{
				"username":    "Use 3 to 64 characters for the username.",
				"email":       "Enter an e-mail address in the form name@example.com.",
				"password":    "Choose a longer password: at least 8 characters.",
				"given_name":  "Remove the special characters (such as line breaks or tabs).",
				"family_name": "Use at most 100 characters.",
			},
		},
		{
			name: "everything missing",
			want: map[string]string{
				"username": "Enter a username.",
				"email":    "Enter your e-mail address.",
				"password": "Enter a password.",
			},
		},
		{
			name: "password is the username",
			in:   identity.RegisterInput{Username: "tweedledum", Email: "dum@example.com", Password: "TweedleDum"},
			want: map[string]string{"password": "Choose a password that is not your username or e-mail address."},
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			s := newService(t)
			u, err := s.Register(t.Context(), tc.in)
			if u != nil {
				t.Errorf("Register returned a user: %+v", u)
			}
			if diff := cmp.Diff(tc.want, asValidation(t, err).Fields); diff != "" {
				t.Errorf("Register fields mismatch (-want +got):\n%s", diff)
			}
			if users, _ := s.Users.ListUsers(t.Context(), 0, 0); len(users) != 0 {
				t.Errorf("%d users stored after a failed Register", len(users))
			}
		})
	}
}

func TestRegisterDuplicate(t *testing.T) {
	const (
		usernameTaken = "This username is already taken. Choose another one."
		emailTaken    = "An account already uses this e-mail address. Sign in, or reset your password if you forgot it."
	)
	tests := []struct {
		name     string
		username string
		email    string
		password string
		want     map[string]string
	}{
		{"username, other case", "ALICE.liddell", "other@example.com", "through the looking glass", map[string]string{"username": usernameTaken}},
		{"email, other case", "alice2", "ALICE@example.COM", "through the looking glass", map[string]string{"email": emailTaken}},
		{"both, with a bad password", "alice.LIDDELL", "Alice@Example.com", "tiny", map[string]string{
			"username": usernameTaken,
			"email":    emailTaken,
			"password": "Choose a longer password: at least 8 characters.",
		}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			s := newService(t)
			mustRegister(t, s, alice)
			_, err := s.Register(t.Context(), identity.RegisterInput{Username: tc.username, Email: tc.email, Password: tc.password})
			if diff := cmp.Diff(tc.want, asValidation(t, err).Fields); diff != "" {
				t.Errorf("Register fields mismatch (-want +got):\n%s", diff)
			}
		})
	}
}

// blindStore hides existing users from FindUserByLogin, as if another
// registration committed between Register's check and its insert.
type blindStore struct{ identity.UserStore }

func (blindStore) FindUserByLogin(context.Context, string) (*identity.User, string, error) {
	return nil, "", identity.ErrNotFound
}

func TestRegisterRace(t *testing.T) {
	s := newService(t)
	mustRegister(t, s, alice)
	s.Accounts.Users = blindStore{s.Users}

	_, err := s.Register(t.Context(), identity.RegisterInput{Username: "ALICE.LIDDELL", Email: "new@example.com", Password: "through the looking glass"})
	if got := asValidation(t, err).Fields["username"]; got == "" {
		t.Errorf("Register(taken username) fields = %v, want a username message", asValidation(t, err).Fields)
	}
	_, err = s.Register(t.Context(), identity.RegisterInput{Username: "alice2", Email: "ALICE@example.com", Password: "through the looking glass"})
	if got := asValidation(t, err).Fields["email"]; got == "" {
		t.Errorf("Register(taken email) fields = %v, want an email message", asValidation(t, err).Fields)
	}
}

func TestCreateUser(t *testing.T) {
	s := newService(t)
	got, err := s.CreateUser(t.Context(), identity.CreateInput{
		Username:      "admin",
		Password:      "a long admin passphrase",
		Roles:         []string{" admin ", "admin", "", "manager"},
		EmailVerified: true,
	})
	if err != nil {
		t.Fatalf("CreateUser: %v", err)
	}
	want := &identity.User{
		ID:            got.ID,
		Username:      "admin",
		EmailVerified: true,
		Roles:         []string{"admin", "manager"},
		Status:        identity.StatusActive,
		CreatedAt:     testNow,
		UpdatedAt:     testNow,
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("CreateUser mismatch (-want +got):\n%s", diff)
	}

	_, err = s.CreateUser(t.Context(), identity.CreateInput{Username: "-bad", Email: "nope", Password: "password1", Roles: []string{"two words"}})
	wantFields := []string{"email", "password", "roles", "username"}
	if diff := cmp.Diff(wantFields, fieldNames(asValidation(t, err))); diff != "" {
		t.Errorf("CreateUser(invalid) fields mismatch (-want +got):\n%s", diff)
	}
}

func TestSetPassword(t *testing.T) {
	s := newService(t)
	u := mustRegister(t, s, alice)
	ctx := t.Context()

	err := s.SetPassword(ctx, u.ID, "Qwerty123")
	if got := asValidation(t, err).Fields["password"]; got == "" {
		t.Errorf("SetPassword(common) fields = %v, want a password message", asValidation(t, err).Fields)
	}
	err = s.SetPassword(ctx, u.ID, "ALICE@example.com")
	if got := asValidation(t, err).Fields["password"]; got == "" {
		t.Errorf("SetPassword(own e-mail) fields = %v, want a password message", asValidation(t, err).Fields)
	}
	if err := s.SetPassword(ctx, uuid.Must(uuid.NewV7()).String(), "a fine new passphrase"); !errors.Is(err, identity.ErrNotFound) {
		t.Errorf("SetPassword(unknown user) = %v, want ErrNotFound", err)
	}

	if err := s.SetPassword(ctx, u.ID, "a fine new passphrase"); err != nil {
		t.Fatalf("SetPassword: %v", err)
	}
	if _, ok, _ := s.Authenticate(ctx, "alice.liddell", alice.Password); ok {
		t.Errorf("old password still accepted")
	}
	if _, ok, err := s.Authenticate(ctx, "alice.liddell", "a fine new passphrase"); !ok || err != nil {
		t.Errorf("Authenticate(new password) = %v, %v; want true, nil", ok, err)
	}
}

func TestLoginExists(t *testing.T) {
	s := newService(t)
	mustRegister(t, s, alice)
	for _, tc := range []struct {
		login string
		want  bool
	}{
		{"Alice.Liddell", true},
		{"alice.liddell", true},
		{" alice@example.com ", true},
		{"hunter2secret", false},
		{"", false},
	} {
		got, err := s.LoginExists(t.Context(), tc.login)
		if err != nil || got != tc.want {
			t.Errorf("LoginExists(%q) = %v, %v; want %v", tc.login, got, err, tc.want)
		}
	}
}
