package identitytest

import (
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/google/uuid"

	"gatehouse/identity"
)

// setProfile fills every optional profile field of u, with middle as the
// middle name so that two calls can differ.
func setProfile(u *identity.User, middle string) {
	u.MiddleName = middle
	u.Nickname = "Nick " + middle
	u.Website = "https://example.com/~" + strings.ToLower(middle)
	u.Gender = "non-binary"
	u.Birthdate = "0000-05-04"
	u.Address = identity.Address{
		Formatted:     "1 High Street\nOxford OX1 1AA\nUnited Kingdom",
		StreetAddress: "1 High Street\nChrist Church",
		Locality:      "Oxford",
		Region:        "Oxfordshire",
		PostalCode:    "OX1 1AA",
		Country:       "United Kingdom",
	}
}

func testUpdateProfile(t *testing.T, s identity.UserStore) {
	ctx := t.Context()
	u := newUser(t, "judy")
	u.Phone, u.PhoneVerified = "+15551234567", true
	u.Roles = []string{"admin"}
	mustCreate(t, s, u, "judy-hash")
	other := newUser(t, "ken")
	mustCreate(t, s, other, "")

	// Fields outside the profile in the argument must not be written.
	edit := *u
	edit.Username = "Judy-Renamed-" + u.ID[len(u.ID)-6:]
	edit.GivenName, edit.FamilyName, edit.Locale, edit.Zoneinfo, edit.Picture = "Judy", "Garland", "fr-CA", "America/Toronto", "https://example.com/j.png"
	setProfile(&edit, "Frances")
	edit.UpdatedAt = base.Add(2 * time.Minute)
	edit.Email, edit.EmailVerified, edit.Phone, edit.PhoneVerified = "ignored@example.com", true, "", false
	edit.Roles, edit.Status = nil, identity.StatusDisabled
	if err := s.UpdateProfile(ctx, &edit); err != nil {
		t.Fatalf("UpdateProfile: %v", err)
	}

	want := *u
	want.Username, want.GivenName, want.FamilyName = edit.Username, "Judy", "Garland"
	want.Locale, want.Zoneinfo, want.Picture = "fr-CA", "America/Toronto", "https://example.com/j.png"
	setProfile(&want, "Frances")
	want.UpdatedAt = edit.UpdatedAt
	if diff := cmp.Diff(&want, mustGet(t, s, u.ID), equateUsers); diff != "" {
		t.Errorf("GetUser after UpdateProfile mismatch (-want +got):\n%s", diff)
	}
	if hash, err := s.PasswordHash(ctx, u.ID); err != nil || hash != "judy-hash" {
		t.Errorf("PasswordHash after UpdateProfile = %q, %v; want the unchanged hash", hash, err)
	}

	taken := want
	taken.Username = strings.ToUpper(other.Username)
	if err := s.UpdateProfile(ctx, &taken); !errors.Is(err, identity.ErrUsernameTaken) {
		t.Errorf("UpdateProfile(username of another user): err = %v, want ErrUsernameTaken", err)
	}
	ghost := want
	ghost.ID = uuid.Must(uuid.NewV7()).String()
	if err := s.UpdateProfile(ctx, &ghost); !errors.Is(err, identity.ErrNotFound) {
		t.Errorf("UpdateProfile(unknown id): err = %v, want ErrNotFound", err)
	}
}

func testPasswordHashByID(t *testing.T, s identity.UserStore) {
	ctx := t.Context()
	u := newUser(t, "lena")
	mustCreate(t, s, u, "")
	if hash, err := s.PasswordHash(ctx, u.ID); err != nil || hash != "" {
		t.Errorf("PasswordHash(no password) = %q, %v; want \"\", nil", hash, err)
	}
	if err := s.SetPasswordHash(ctx, u.ID, "lena-hash"); err != nil {
		t.Fatalf("SetPasswordHash: %v", err)
	}
	if hash, err := s.PasswordHash(ctx, u.ID); err != nil || hash != "lena-hash" {
		t.Errorf("PasswordHash = %q, %v; want %q", hash, err, "lena-hash")
	}
	for _, id := range []string{uuid.Must(uuid.NewV7()).String(), "not-a-uuid", ""} {
		if _, err := s.PasswordHash(ctx, id); !errors.Is(err, identity.ErrNotFound) {
			t.Errorf("PasswordHash(%q): err = %v, want ErrNotFound", id, err)
		}
	}
}

func testMarkEmailVerified(t *testing.T, s identity.UserStore) {
	ctx := t.Context()
	u := newUser(t, "Mallory")
	mustCreate(t, s, u, "")
	at := base.Add(time.Hour)

	// Another address (the user changed it since the code went out).
	if err := s.MarkEmailVerified(ctx, u.ID, "other."+u.Email, at); !errors.Is(err, identity.ErrNotFound) {
		t.Errorf("MarkEmailVerified(other address): err = %v, want ErrNotFound", err)
	}
	if got := mustGet(t, s, u.ID); got.EmailVerified {
		t.Fatalf("EmailVerified after MarkEmailVerified(other address) = true")
	}
	if err := s.MarkEmailVerified(ctx, u.ID, strings.ToUpper(u.Email), at); err != nil {
		t.Fatalf("MarkEmailVerified(same address, other case): %v", err)
	}
	want := *u
	want.EmailVerified, want.UpdatedAt = true, at
	if diff := cmp.Diff(&want, mustGet(t, s, u.ID), equateUsers); diff != "" {
		t.Errorf("GetUser after MarkEmailVerified mismatch (-want +got):\n%s", diff)
	}
	if err := s.MarkEmailVerified(ctx, uuid.Must(uuid.NewV7()).String(), u.Email, at); !errors.Is(err, identity.ErrNotFound) {
		t.Errorf("MarkEmailVerified(unknown user): err = %v, want ErrNotFound", err)
	}
}

func testSetEmail(t *testing.T, s identity.UserStore) {
	ctx := t.Context()
	u := newUser(t, "nina")
	mustCreate(t, s, u, "")
	other := newUser(t, "oscar")
	mustCreate(t, s, other, "")
	at := base.Add(time.Hour)

	newAddr := "Nina.New." + u.ID[len(u.ID)-6:] + "@example.org"
	if err := s.SetEmail(ctx, u.ID, newAddr, at); err != nil {
		t.Fatalf("SetEmail: %v", err)
	}
	want := *u
	want.Email, want.EmailVerified, want.UpdatedAt = newAddr, true, at
	if diff := cmp.Diff(&want, mustGet(t, s, u.ID), equateUsers); diff != "" {
		t.Errorf("GetUser after SetEmail mismatch (-want +got):\n%s", diff)
	}
	if got, _, err := s.FindUserByLogin(ctx, strings.ToLower(newAddr)); err != nil || got.ID != u.ID {
		t.Errorf("FindUserByLogin(new address) = %v, %v; want user %s", got, err, u.ID)
	}
	if err := s.SetEmail(ctx, u.ID, strings.ToUpper(other.Email), at); !errors.Is(err, identity.ErrEmailTaken) {
		t.Errorf("SetEmail(address of another user): err = %v, want ErrEmailTaken", err)
	}
	if err := s.SetEmail(ctx, "not-a-uuid", newAddr, at); !errors.Is(err, identity.ErrNotFound) {
		t.Errorf("SetEmail(bad id): err = %v, want ErrNotFound", err)
	}
}

func testSetPhone(t *testing.T, s identity.UserStore) {
	ctx := t.Context()
	u := newUser(t, "peggy")
	mustCreate(t, s, u, "")
	at := base.Add(time.Hour)
	for _, tc := range []struct {
		phone    string
		verified bool
	}{{"+447700900123", false}, {"+447700900123", true}, {"+12025550143", true}} {
		if err := s.SetPhone(ctx, u.ID, tc.phone, tc.verified, at); err != nil {
			t.Fatalf("SetPhone(%q, %v): %v", tc.phone, tc.verified, err)
		}
		want := *u
		want.Phone, want.PhoneVerified, want.UpdatedAt = tc.phone, tc.verified, at
		if diff := cmp.Diff(&want, mustGet(t, s, u.ID), equateUsers); diff != "" {
			t.Errorf("GetUser after SetPhone(%q, %v) mismatch (-want +got):\n%s", tc.phone, tc.verified, diff)
		}
	}
	if err := s.SetPhone(ctx, uuid.Must(uuid.NewV7()).String(), "+447700900123", true, at); !errors.Is(err, identity.ErrNotFound) {
		t.Errorf("SetPhone(unknown user): err = %v, want ErrNotFound", err)
	}
}
