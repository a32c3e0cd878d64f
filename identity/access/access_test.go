package access_test

import (
	"errors"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"gatehouse/identity/access"
)

func TestPermissionsOf(t *testing.T) {
	custom := []access.Role{
		{Name: "support", Permissions: []access.Permission{access.UsersRead, access.AuditRead}},
		{Name: "auditor", Permissions: []access.Permission{access.AuditRead}},
	}
	tests := []struct {
		name  string
		roles []string
		want  []access.Permission
	}{
		{"none", nil, nil},
		{"user grants nothing", []string{"user"}, nil},
		{"manager sees usage only", []string{"manager"}, []access.Permission{access.UsageRead}},
		{"admin has all", []string{"admin"}, access.All()},
		{"custom role", []string{"support"}, []access.Permission{access.UsersRead, access.AuditRead}},
		{"union without repeats", []string{"manager", "support", "auditor"},
			[]access.Permission{access.UsersRead, access.AuditRead, access.UsageRead}},
		{"unknown role grants nothing", []string{"ghost", "user"}, nil},
		{"names are exact", []string{"Admin", "admin "}, nil},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got := access.PermissionsOf(tc.roles, custom).List()
			if diff := cmp.Diff(tc.want, got); diff != "" {
				t.Errorf("PermissionsOf(%q) mismatch (-want +got):\n%s", tc.roles, diff)
			}
		})
	}
}

func TestAdminHoldsUsersAdminOnly(t *testing.T) {
	set := access.PermissionsOf([]string{"admin"}, nil)
	if !set.Has(access.UsersAdmin) {
		t.Error("admin lacks users:admin")
	}
	for _, r := range []string{"user", "manager"} {
		if access.PermissionsOf([]string{r}, nil).Has(access.UsersAdmin) {
			t.Errorf("%s holds users:admin", r)
		}
	}
	got := access.RolesWith(access.UsersAdmin, []access.Role{{Name: "ops", Permissions: []access.Permission{access.UsersAdmin}}})
	if diff := cmp.Diff([]string{"admin", "ops"}, got); diff != "" {
		t.Errorf("RolesWith(users:admin) mismatch (-want +got):\n%s", diff)
	}
}

func TestValidateName(t *testing.T) {
	good := []string{"a", "support", "ops-team", "tier_2", "a" + strings.Repeat("b", 63)}
	for _, n := range good {
		if err := access.ValidateName(n); err != nil {
			t.Errorf("ValidateName(%q) = %v, want nil", n, err)
		}
	}
	bad := []string{"", "Admin", "1team", "-x", "_x", "team lead", "a" + strings.Repeat("b", 64),
		"équipe", "ops\n", "ops;drop", `ops"`, "a.b"}
	for _, n := range bad {
		if err := access.ValidateName(n); !errors.Is(err, access.ErrInvalidName) {
			t.Errorf("ValidateName(%q) = %v, want ErrInvalidName", n, err)
		}
	}
}

func TestValidateCustom(t *testing.T) {
	for _, name := range []string{"user", "manager", "admin"} {
		_, err := access.ValidateCustom(access.Role{Name: name, Permissions: []access.Permission{access.UsageRead}})
		if !errors.Is(err, access.ErrBuiltIn) {
			t.Errorf("ValidateCustom(%q) = %v, want ErrBuiltIn", name, err)
		}
	}
	if _, err := access.ValidateCustom(access.Role{Name: "ops", Permissions: []access.Permission{"users:everything"}}); !errors.Is(err, access.ErrUnknownPermission) {
		t.Errorf("unknown permission: err = %v, want ErrUnknownPermission", err)
	}
	if _, err := access.ValidateCustom(access.Role{Name: "Ops"}); !errors.Is(err, access.ErrInvalidName) {
		t.Errorf("invalid name: err = %v, want ErrInvalidName", err)
	}
	got, err := access.ValidateCustom(access.Role{Name: "ops", BuiltIn: true,
		Permissions: []access.Permission{access.UsageRead, access.UsersRead, access.UsageRead}})
	if err != nil {
		t.Fatal(err)
	}
	want := access.Role{Name: "ops", Permissions: []access.Permission{access.UsersRead, access.UsageRead}}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("ValidateCustom mismatch (-want +got):\n%s", diff)
	}
}
