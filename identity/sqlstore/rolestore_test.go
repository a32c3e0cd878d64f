package sqlstore_test

import (
	"errors"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"gorm.io/gorm"

	"gatehouse/identity"
	"gatehouse/identity/access"
	"gatehouse/identity/sqlstore"
	"gatehouse/migrations/dbtest"
)

// TestRoleStore: custom roles come back by name with their permissions
// and creation time, a name is stored once, and deleting an unknown role
// is ErrNotFound.
func TestRoleStore(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, db *gorm.DB) {
		ctx := t.Context()
		s := sqlstore.NewRoleStore(db)
		at := time.Date(2031, 1, 2, 3, 4, 5, 123456000, time.UTC)
		support := access.Role{Name: "support", Description: "Help desk",
			Permissions: []access.Permission{access.UsersRead, access.AuditRead}, CreatedAt: at}
		empty := access.Role{Name: "auditor_x", CreatedAt: at.Add(time.Second)}
		for _, r := range []access.Role{support, empty} {
			if err := s.CreateRole(ctx, r); err != nil {
				t.Fatal(err)
			}
		}
		if err := s.CreateRole(ctx, access.Role{Name: "support", CreatedAt: at}); !errors.Is(err, identity.ErrRoleExists) {
			t.Errorf("CreateRole(support) again = %v, want ErrRoleExists", err)
		}
		got, err := s.ListRoles(ctx)
		if err != nil {
			t.Fatal(err)
		}
		if diff := cmp.Diff([]access.Role{empty, support}, got); diff != "" {
			t.Errorf("ListRoles mismatch (-want +got):\n%s", diff)
		}
		if err := s.DeleteRole(ctx, "support"); err != nil {
			t.Fatal(err)
		}
		if err := s.DeleteRole(ctx, "support"); !errors.Is(err, identity.ErrNotFound) {
			t.Errorf("DeleteRole(support) again = %v, want ErrNotFound", err)
		}
		got, err = s.ListRoles(ctx)
		if err != nil || len(got) != 1 || got[0].Name != "auditor_x" {
			t.Errorf("ListRoles after delete = %+v, %v; want auditor_x only", got, err)
		}
	})
}

// TestUserStoreRoleHolders: roles are written to users.roles, and holders
// are found by exact name: '_' in a name is no wildcard, a name is not
// found inside a longer one, and only active users count as holders.
func TestUserStoreRoleHolders(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, db *gorm.DB) {
		ctx := t.Context()
		s := sqlstore.NewUserStore(db)
		ada, bob, cy := mustUser(t, db, "ada"), mustUser(t, db, "bob"), mustUser(t, db, "cy")
		at := time.Date(2031, 1, 2, 3, 4, 5, 0, time.UTC)
		set := func(id string, roles ...string) {
			t.Helper()
			if err := s.SetUserRoles(ctx, id, roles, at); err != nil {
				t.Fatal(err)
			}
		}
		set(ada, "admin", "ops_team")
		set(bob, "opsxteam", "admins")
		set(cy, "admin")
		u, err := s.GetUser(ctx, cy)
		if err != nil {
			t.Fatal(err)
		}
		u.Status = identity.StatusDisabled
		if err := s.UpdateUser(ctx, u); err != nil {
			t.Fatal(err)
		}
		got, err := s.GetUser(ctx, ada)
		if err != nil || !cmp.Equal(got.Roles, []string{"admin", "ops_team"}) || !got.UpdatedAt.Equal(at) {
			t.Errorf("GetUser(ada) roles %v, updated %v, err %v; want [admin ops_team] at %v", got.Roles, got.UpdatedAt, err, at)
		}
		holders, err := s.LockActiveRoleHolders(ctx, []string{"admin"})
		if err != nil || !cmp.Equal(holders, []string{ada}) {
			t.Errorf("LockActiveRoleHolders(admin) = %v, %v; want Ada only (Bob holds admins, Cy is disabled)", holders, err)
		}
		holders, err = s.LockActiveRoleHolders(ctx, []string{"ops_team", "missing"})
		if err != nil || !cmp.Equal(holders, []string{ada}) {
			t.Errorf("LockActiveRoleHolders(ops_team) = %v, %v; want Ada only ('_' is no wildcard)", holders, err)
		}
		for role, want := range map[string]int64{"admin": 2, "ops_team": 1, "admins": 1, "ops": 0, "user": 0} {
			n, err := s.CountRoleHolders(ctx, role)
			if err != nil || n != want {
				t.Errorf("CountRoleHolders(%q) = %d, %v; want %d", role, n, err, want)
			}
		}
		set(ada)
		if got, err := s.GetUser(ctx, ada); err != nil || len(got.Roles) != 0 {
			t.Errorf("roles after clearing = %v, %v; want none", got.Roles, err)
		}
		if err := s.SetUserRoles(ctx, "0190a1b2-0000-7000-8000-00000000dead", []string{"admin"}, at); !errors.Is(err, identity.ErrNotFound) {
			t.Errorf("SetUserRoles(unknown user) = %v, want ErrNotFound", err)
		}
	})
}
