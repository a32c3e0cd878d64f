package oidc

import (
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/ory/fosite"

	"gatehouse/identity"
)

func TestUserClaims(t *testing.T) {
	updated := time.Date(2030, 1, 2, 3, 4, 5, 0, time.UTC)
	full := &identity.User{
		ID:            "6c1f7b9e-0000-4000-8000-000000000001",
		Username:      "alice",
		Email:         "alice@example.com",
		EmailVerified: true,
		Phone:         "+41791234567",
		PhoneVerified: false,
		GivenName:     "Alice",
		FamilyName:    "Liddell",
		Locale:        "en-GB",
		Zoneinfo:      "Europe/London",
		Picture:       "https://example.com/alice.png",
		Roles:         []string{"admin"},
		UpdatedAt:     updated,
	}
	bare := &identity.User{ID: "6c1f7b9e-0000-4000-8000-000000000002", Username: "bob", UpdatedAt: updated}
	unverified := &identity.User{Username: "carol", Email: "carol@example.com", Phone: "+15550100", PhoneVerified: true}

	tests := []struct {
		name    string
		user    *identity.User
		granted fosite.Arguments
		want    map[string]interface{}
	}{
		{"no scopes", full, nil, map[string]interface{}{}},
		{"openid only", full, fosite.Arguments{"openid"}, map[string]interface{}{}},
		{"unknown and offline scopes", full, fosite.Arguments{"openid", "offline_access", "roles"}, map[string]interface{}{}},
		{"profile", full, fosite.Arguments{"openid", "profile"}, map[string]interface{}{
			"name":               "Alice Liddell",
			"given_name":         "Alice",
			"family_name":        "Liddell",
			"preferred_username": "alice",
			"picture":            "https://example.com/alice.png",
			"locale":             "en-GB",
			"zoneinfo":           "Europe/London",
			"updated_at":         updated.Unix(),
		}},
		{"profile leaves out empty values", bare, fosite.Arguments{"openid", "profile"}, map[string]interface{}{
			"preferred_username": "bob",
			"updated_at":         updated.Unix(),
		}},
		{"email", full, fosite.Arguments{"openid", "email"}, map[string]interface{}{
			"email":          "alice@example.com",
			"email_verified": true,
		}},
		{"email unverified", unverified, fosite.Arguments{"openid", "email"}, map[string]interface{}{
			"email":          "carol@example.com",
			"email_verified": false,
		}},
		{"email without an address", bare, fosite.Arguments{"openid", "email"}, map[string]interface{}{}},
		{"phone with a number", full, fosite.Arguments{"openid", "phone"}, map[string]interface{}{
			"phone_number":          "+41791234567",
			"phone_number_verified": false,
		}},
		{"phone verified", unverified, fosite.Arguments{"openid", "phone"}, map[string]interface{}{
			"phone_number":          "+15550100",
			"phone_number_verified": true,
		}},
		{"phone without a number", bare, fosite.Arguments{"openid", "phone"}, map[string]interface{}{}},
		{"all scopes", full, fosite.Arguments{"openid", "profile", "email", "phone", "address", "offline_access"}, map[string]interface{}{
			"name":                  "Alice Liddell",
			"given_name":            "Alice",
			"family_name":           "Liddell",
			"preferred_username":    "alice",
			"picture":               "https://example.com/alice.png",
			"locale":                "en-GB",
			"zoneinfo":              "Europe/London",
			"updated_at":            updated.Unix(),
			"email":                 "alice@example.com",
			"email_verified":        true,
			"phone_number":          "+41791234567",
			"phone_number_verified": false,
		}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got := userClaims(tc.user, tc.granted)
			if diff := cmp.Diff(tc.want, got); diff != "" {
				t.Errorf("userClaims(%s, %v) mismatch (-want +got):\n%s", tc.user.Username, tc.granted, diff)
			}
		})
	}
}

func TestUnion(t *testing.T) {
	tests := []struct {
		name string
		a, b []string
		want []string
	}{
		{"both empty", nil, nil, nil},
		{"only a", []string{"x", "y"}, nil, []string{"x", "y"}},
		{"only b", nil, []string{"x", "y"}, []string{"x", "y"}},
		{"disjoint keeps order", []string{"b", "a"}, []string{"d", "c"}, []string{"b", "a", "d", "c"}},
		{"overlap", []string{"a", "b"}, []string{"b", "c"}, []string{"a", "b", "c"}},
		{"duplicates within a", []string{"a", "a", "b"}, []string{"a"}, []string{"a", "b"}},
		{"same", []string{"a"}, []string{"a"}, []string{"a"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got := union(tc.a, tc.b)
			if diff := cmp.Diff(tc.want, got); diff != "" {
				t.Errorf("union(%q, %q) mismatch (-want +got):\n%s", tc.a, tc.b, diff)
			}
		})
	}
}

// union must not write into a's spare capacity: Client.GetAudience calls
// it with the client's registered audience.
func TestUnionDoesNotAliasA(t *testing.T) {
	a := make([]string, 1, 4)
	a[0] = "a"
	spare := a[:4]
	_ = union(a, []string{"b", "c"})
	if diff := cmp.Diff([]string{"a", "", "", ""}, spare); diff != "" {
		t.Errorf("union wrote into a's backing array (-want +got):\n%s", diff)
	}
}
