package identity_test

import (
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"gatehouse/identity"
)

// fullProfile is a valid profile using every field, as typed.
var fullProfile = identity.ProfileInput{
	GivenName:  " Alice ",
	MiddleName: "Pleasance",
	FamilyName: "Liddell",
	Nickname:   "Ally",
	Username:   "Alice.L",
	Picture:    "HTTPS://example.com/alice.png",
	Website:    "http://alice.example.org/blog?x=1#top",
	Gender:     "female",
	Birthdate:  "1990-05-04",
	Locale:     "en_gb",
	Zoneinfo:   "Europe/London",
	Address: identity.Address{
		Formatted:     "Christ Church\r\nOxford OX1 1DP\r\n\r\nUnited Kingdom",
		StreetAddress: " St Aldate's \n Christ Church ",
		Locality:      "Oxford",
		Region:        "Oxfordshire",
		PostalCode:    "OX1 1DP",
		Country:       "United Kingdom",
	},
}

func TestUpdateProfile(t *testing.T) {
	eachEnv(t, func(t *testing.T, e *env) {
		ctx := t.Context()
		in := alice
		in.Phone = "+447911123456"
		u, _ := e.register(t, in)
		e.clock.Advance(time.Minute)

		got, err := e.svc.UpdateProfile(ctx, u.ID, fullProfile)
		if err != nil {
			t.Fatalf("UpdateProfile: %v", err)
		}
		want := *u
		want.GivenName, want.MiddleName, want.FamilyName, want.Nickname = "Alice", "Pleasance", "Liddell", "Ally"
		want.Username = "Alice.L"
		want.Picture = "https://example.com/alice.png"
		want.Website = "http://alice.example.org/blog?x=1#top"
		want.Gender, want.Birthdate, want.Locale, want.Zoneinfo = "female", "1990-05-04", "en-GB", "Europe/London"
		want.Address = identity.Address{
			Formatted:     "Christ Church\nOxford OX1 1DP\nUnited Kingdom",
			StreetAddress: "St Aldate's\nChrist Church",
			Locality:      "Oxford", Region: "Oxfordshire", PostalCode: "OX1 1DP", Country: "United Kingdom",
		}
		want.UpdatedAt = e.clock.Now()
		if diff := cmp.Diff(&want, got); diff != "" {
			t.Errorf("UpdateProfile mismatch (-want +got):\n%s", diff)
		}
		if diff := cmp.Diff(&want, e.user(t, u.ID)); diff != "" {
			t.Errorf("stored profile mismatch (-want +got):\n%s", diff)
		}

		// Empty optional fields clear the values; the username stays
		// required. Contact details are never touched.
		cleared, err := e.svc.UpdateProfile(ctx, u.ID, identity.ProfileInput{Username: "alice.l"})
		if err != nil {
			t.Fatalf("UpdateProfile(cleared): %v", err)
		}
		if cleared.GivenName != "" || !cleared.Address.IsZero() || cleared.Username != "alice.l" ||
			cleared.Email != u.Email || cleared.Phone != "+447911123456" {
			t.Errorf("UpdateProfile(cleared) = %+v", cleared)
		}
	})
}

func TestUpdateProfileInvalid(t *testing.T) {
	long := func(n int) string { return strings.Repeat("x", n) }
	tests := []struct {
		name string
		edit func(p *identity.ProfileInput)
		want map[string]string
	}{
		{"username missing", func(p *identity.ProfileInput) { p.Username = " " }, map[string]string{"username": "Enter a username."}},
		{"username taken", func(p *identity.ProfileInput) { p.Username = "BOB" }, map[string]string{"username": "This username is already taken. Choose another one."}},
		{"name with a line break", func(p *identity.ProfileInput) { p.MiddleName = "Plea\nsance" }, map[string]string{"middle_name": "Remove the special characters (such as line breaks or tabs)."}},
		{"nickname too long", func(p *identity.ProfileInput) { p.Nickname = long(101) }, map[string]string{"nickname": "Use at most 100 characters."}},
		{"picture not a URL", func(p *identity.ProfileInput) { p.Picture = "alice.png" }, map[string]string{"picture": "Enter a full web address starting with https://, for example https://example.com/me."}},
		{"picture javascript", func(p *identity.ProfileInput) { p.Picture = "javascript:alert(1)" }, map[string]string{"picture": "Enter a full web address starting with https://, for example https://example.com/me."}},
		{"website ftp", func(p *identity.ProfileInput) { p.Website = "ftp://example.com/" }, map[string]string{"website": "Enter a full web address starting with https://, for example https://example.com/me."}},
		{"website without host", func(p *identity.ProfileInput) { p.Website = "https:///path" }, map[string]string{"website": "Enter a full web address starting with https://, for example https://example.com/me."}},
		{"website with credentials", func(p *identity.ProfileInput) { p.Website = "https://bank.example@evil.example/" }, map[string]string{"website": "Remove the user name and password from the address."}},
		{"website too long", func(p *identity.ProfileInput) { p.Website = "https://example.com/" + long(2000) }, map[string]string{"website": "This address is too long: use at most 2000 characters."}},
		{"gender too long", func(p *identity.ProfileInput) { p.Gender = long(51) }, map[string]string{"gender": "Use at most 50 characters."}},
		{"birthdate format", func(p *identity.ProfileInput) { p.Birthdate = "04/05/1990" }, map[string]string{"birthdate": "Enter the date as YYYY-MM-DD (for example 1990-04-21), or just the year."}},
		{"birthdate no such day", func(p *identity.ProfileInput) { p.Birthdate = "1990-02-30" }, map[string]string{"birthdate": "This date does not exist. Enter it as YYYY-MM-DD."}},
		{"birthdate in the future", func(p *identity.ProfileInput) { p.Birthdate = "2030-01-01" }, map[string]string{"birthdate": "Enter a date between 1900 and today."}},
		{"birth year too early", func(p *identity.ProfileInput) { p.Birthdate = "1850" }, map[string]string{"birthdate": "Enter a year between 1900 and 2025."}},
		{"year 0000 alone", func(p *identity.ProfileInput) { p.Birthdate = "0000" }, map[string]string{"birthdate": "Enter a year between 1900 and 2025."}},
		{"locale", func(p *identity.ProfileInput) { p.Locale = "english please" }, map[string]string{"locale": "Enter a language code such as en, en-GB or pt-BR."}},
		{"locale und", func(p *identity.ProfileInput) { p.Locale = "und" }, map[string]string{"locale": "Enter a language code such as en, en-GB or pt-BR."}},
		{"zoneinfo unknown", func(p *identity.ProfileInput) { p.Zoneinfo = "Mars/Olympus_Mons" }, map[string]string{"zoneinfo": "Choose a time zone such as Europe/London or America/New_York."}},
		{"zoneinfo Local", func(p *identity.ProfileInput) { p.Zoneinfo = "Local" }, map[string]string{"zoneinfo": "Choose a time zone such as Europe/London or America/New_York."}},
		{"zoneinfo path", func(p *identity.ProfileInput) { p.Zoneinfo = "../../etc/passwd" }, map[string]string{"zoneinfo": "Choose a time zone such as Europe/London or America/New_York."}},
		{"street too many lines", func(p *identity.ProfileInput) { p.Address.StreetAddress = "1\n2\n3\n4\n5\n6\n7" }, map[string]string{"street_address": "Use at most 6 lines."}},
		{"street with a tab", func(p *identity.ProfileInput) { p.Address.StreetAddress = "1\tHigh St" }, map[string]string{"street_address": "Remove the special characters (such as tabs)."}},
		{"postal code too long", func(p *identity.ProfileInput) { p.Address.PostalCode = long(21) }, map[string]string{"postal_code": "Use at most 20 characters."}},
		{"locality with a line break", func(p *identity.ProfileInput) { p.Address.Locality = "Ox\nford" }, map[string]string{"locality": "Remove the special characters (such as line breaks or tabs)."}},
		{"formatted too long", func(p *identity.ProfileInput) { p.Address.Formatted = long(501) }, map[string]string{"formatted_address": "Use at most 500 characters."}},
		{"several at once", func(p *identity.ProfileInput) {
			p.Website, p.Birthdate, p.Locale, p.Address.Country = "nope", "1990-13-01", "??", long(101)
		}, map[string]string{
			"website":   "Enter a full web address starting with https://, for example https://example.com/me.",
			"birthdate": "This date does not exist. Enter it as YYYY-MM-DD.",
			"locale":    "Enter a language code such as en, en-GB or pt-BR.",
			"country":   "Use at most 100 characters.",
		}},
	}
	eachEnv(t, func(t *testing.T, e *env) {
		u, _ := e.register(t, alice)
		mustRegister(t, e.svc, identity.RegisterInput{Username: "bob", Email: "bob@example.com", Password: "a decent passphrase"})
		before := e.user(t, u.ID)
		for _, tc := range tests {
			in := fullProfile
			tc.edit(&in)
			got, err := e.svc.UpdateProfile(t.Context(), u.ID, in)
			if got != nil {
				t.Errorf("%s: UpdateProfile returned a user", tc.name)
			}
			if diff := cmp.Diff(tc.want, asValidation(t, err).Fields); diff != "" {
				t.Errorf("%s: UpdateProfile fields mismatch (-want +got):\n%s", tc.name, diff)
			}
		}
		if diff := cmp.Diff(before, e.user(t, u.ID)); diff != "" {
			t.Errorf("user changed by rejected updates (-before +after):\n%s", diff)
		}
	})
}

func TestUpdateProfileValidForms(t *testing.T) {
	tests := []struct {
		name string
		edit func(p *identity.ProfileInput)
		got  func(u *identity.User) string
		want string
	}{
		{"year only", func(p *identity.ProfileInput) { p.Birthdate = "1990" }, func(u *identity.User) string { return u.Birthdate }, "1990"},
		{"year withheld, leap day", func(p *identity.ProfileInput) { p.Birthdate = "0000-02-29" }, func(u *identity.User) string { return u.Birthdate }, "0000-02-29"},
		{"born today", func(p *identity.ProfileInput) { p.Birthdate = "2025-06-01" }, func(u *identity.User) string { return u.Birthdate }, "2025-06-01"},
		{"locale with extension", func(p *identity.ProfileInput) { p.Locale = "EN-us-u-ca-gregory" }, func(u *identity.User) string { return u.Locale }, "en-US-u-ca-gregory"},
		{"zoneinfo UTC", func(p *identity.ProfileInput) { p.Zoneinfo = "UTC" }, func(u *identity.User) string { return u.Zoneinfo }, "UTC"},
		{"unicode name", func(p *identity.ProfileInput) { p.Nickname = "Алиса 🐇" }, func(u *identity.User) string { return u.Nickname }, "Алиса 🐇"},
		{"own username, other case", func(p *identity.ProfileInput) { p.Username = "ALICE.LIDDELL" }, func(u *identity.User) string { return u.Username }, "ALICE.LIDDELL"},
		{"gender free text", func(p *identity.ProfileInput) { p.Gender = "genderfluid" }, func(u *identity.User) string { return u.Gender }, "genderfluid"},
	}
	eachEnv(t, func(t *testing.T, e *env) {
		u, _ := e.register(t, alice)
		for _, tc := range tests {
			in := fullProfile
			in.Username = u.Username
			tc.edit(&in)
			got, err := e.svc.UpdateProfile(t.Context(), u.ID, in)
			if err != nil {
				t.Errorf("%s: UpdateProfile: %v", tc.name, err)
				continue
			}
			if g := tc.got(got); g != tc.want {
				t.Errorf("%s: got %q, want %q", tc.name, g, tc.want)
			}
		}
	})
}

func TestChangePassword(t *testing.T) {
	const wrongCurrent = "Your current password is not correct."
	tests := []struct {
		name, current, newPassword string
		want                       map[string]string
	}{
		{"wrong current password", "not my password", newPassword, map[string]string{"current_password": wrongCurrent}},
		{"empty current password", "", newPassword, map[string]string{"current_password": "Enter your current password."}},
		{"both wrong", "not my password", "short", map[string]string{
			"current_password": wrongCurrent,
			"password":         "Choose a longer password: at least 8 characters.",
		}},
		{"new password rejected", alice.Password, "alice.liddell", map[string]string{"password": "Choose a password that is not your username or e-mail address."}},
	}
	eachEnv(t, func(t *testing.T, e *env) {
		ctx := t.Context()
		u, _ := e.register(t, alice)
		for _, tc := range tests {
			err := e.svc.ChangePassword(ctx, u.ID, tc.current, tc.newPassword, "session-1")
			if diff := cmp.Diff(tc.want, asValidation(t, err).Fields); diff != "" {
				t.Errorf("%s: ChangePassword fields mismatch (-want +got):\n%s", tc.name, diff)
			}
		}
		if len(e.sessions.Calls()) != 0 {
			t.Errorf("sessions revoked after failed changes: %v", e.sessions.Calls())
		}
		e.noMail(t)

		if err := e.svc.ChangePassword(ctx, u.ID, alice.Password, newPassword, "session-1"); err != nil {
			t.Fatalf("ChangePassword: %v", err)
		}
		if diff := cmp.Diff([]revokeCall{{u.ID, "session-1"}}, e.sessions.Calls()); diff != "" {
			t.Errorf("revocations mismatch (-want +got):\n%s", diff)
		}
		e.onlyMail(t, identity.MailPasswordChanged)
		if _, ok, _ := e.svc.Authenticate(ctx, "alice.liddell", newPassword); !ok {
			t.Error("new password does not sign in")
		}
	})
}
