package identity_test

import (
	"context"
	"errors"
	"sync"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/google/uuid"
	"gorm.io/gorm"

	"gatehouse/identity"
	"gatehouse/identity/access"
	"gatehouse/identity/audit"
	auditsql "gatehouse/identity/audit/sqlstore"
	"gatehouse/identity/sqlstore"
	"gatehouse/migrations"
	"gatehouse/migrations/dbtest"
	"gatehouse/migrations/dbtx"
)

type rolesFixture struct {
	roles *identity.Roles
	users *sqlstore.UserStore
	audit *audit.Log
}

func newRolesFixture(t *testing.T, db *gorm.DB) rolesFixture {
	t.Helper()
	users := sqlstore.NewUserStore(db)
	log := audit.New(auditsql.New(db))
	core := &identity.Core{Hasher: identity.NewHasher(fastParams, nil), Now: (&clock{now: testNow}).Now, Tx: dbtx.New(db)}
	return rolesFixture{
		roles: &identity.Roles{Core: core, Users: users, Store: sqlstore.NewRoleStore(db), Audit: log},
		users: users, audit: log,
	}
}

// mustRoleUser creates an active user holding roles.
func (f rolesFixture) mustUser(t *testing.T, name string, roles ...string) string {
	t.Helper()
	u := &identity.User{ID: uuid.NewString(), Username: name, Email: name + "@example.com",
		Status: identity.StatusActive, Roles: roles}
	if err := f.users.CreateUser(t.Context(), u, ""); err != nil {
		t.Fatal(err)
	}
	return u.ID
}

func (f rolesFixture) rolesOf(t *testing.T, id string) []string {
	t.Helper()
	u, err := f.users.GetUser(t.Context(), id)
	if err != nil {
		t.Fatal(err)
	}
	return u.Roles
}

// TestSetRolesAuthorization is written from the side of a user who tries
// to raise their own rights: without users:admin nothing is granted,
// however the request is put, and nothing is audited as done.
func TestSetRolesAuthorization(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, db *gorm.DB) {
		ctx := t.Context()
		f := newRolesFixture(t, db)
		f.mustUser(t, "root", "admin")
		mallory := f.mustUser(t, "mallory", "manager")
		ghost := uuid.NewString()
		disabledAdmin := f.mustUser(t, "former", "admin")
		u, err := f.users.GetUser(ctx, disabledAdmin)
		if err != nil {
			t.Fatal(err)
		}
		u.Status = identity.StatusDisabled
		if err := f.users.UpdateUser(ctx, u); err != nil {
			t.Fatal(err)
		}
		if _, err := f.roles.CreateRole(ctx, identity.OperatorActor, access.Role{Name: "viewer",
			Permissions: []access.Permission{access.UsersRead, access.UsersWrite}}); err != nil {
			t.Fatal(err)
		}
		if _, err := f.roles.SetRoles(ctx, identity.OperatorActor, mallory, []string{"viewer"}); err != nil {
			t.Fatal(err)
		}
		for name, actor := range map[string]identity.Actor{
			"users:write but not users:admin": {UserID: mallory},
			"nobody":                          {},
			"unknown user":                    {UserID: ghost},
			"disabled admin":                  {UserID: disabledAdmin},
		} {
			t.Run(name, func(t *testing.T) {
				if _, err := f.roles.SetRoles(ctx, actor, mallory, []string{"admin"}); !errors.Is(err, identity.ErrForbidden) {
					t.Errorf("SetRoles(admin) = %v, want ErrForbidden", err)
				}
				if _, err := f.roles.CreateRole(ctx, actor, access.Role{Name: "mine", Permissions: access.All()}); !errors.Is(err, identity.ErrForbidden) {
					t.Errorf("CreateRole = %v, want ErrForbidden", err)
				}
				if err := f.roles.DeleteRole(ctx, actor, "viewer"); !errors.Is(err, identity.ErrForbidden) {
					t.Errorf("DeleteRole = %v, want ErrForbidden", err)
				}
			})
		}
		if got := f.rolesOf(t, mallory); !cmp.Equal(got, []string{"viewer"}) {
			t.Errorf("Mallory's roles = %v, want [viewer] unchanged", got)
		}
		entries, err := f.audit.List(ctx, audit.Filter{ActorID: mallory})
		if err != nil || len(entries) != 0 {
			t.Errorf("audit entries by Mallory = %+v, %v; want none", entries, err)
		}
	})
}

// TestSetRoles: an admin grants built-in and custom roles, unknown and
// malformed names are refused, and each change is audited with the old
// and the new roles, the actor and the subject.
func TestSetRoles(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, db *gorm.DB) {
		ctx := t.Context()
		f := newRolesFixture(t, db)
		root := f.mustUser(t, "root", "admin")
		bob := f.mustUser(t, "bob", "user")
		if _, err := f.roles.CreateRole(ctx, identity.OperatorActor, access.Role{Name: "support",
			Permissions: []access.Permission{access.UsersRead}}); err != nil {
			t.Fatal(err)
		}
		u, err := f.roles.SetRoles(ctx, identity.Actor{UserID: root}, bob, []string{"manager", "support", "manager"})
		if err != nil {
			t.Fatal(err)
		}
		if want := []string{"manager", "support"}; !cmp.Equal(u.Roles, want) || !cmp.Equal(f.rolesOf(t, bob), want) {
			t.Errorf("roles = %v (returned), %v (stored); want %v", u.Roles, f.rolesOf(t, bob), want)
		}
		for _, roles := range [][]string{{"ghost"}, {"manager", "superuser"}} {
			if _, err := f.roles.SetRoles(ctx, identity.Actor{UserID: root}, bob, roles); !errors.Is(err, identity.ErrUnknownRole) {
				t.Errorf("SetRoles(%q) = %v, want ErrUnknownRole", roles, err)
			}
		}
		if _, err := f.roles.SetRoles(ctx, identity.Actor{UserID: root}, bob, []string{"Admin"}); !errors.Is(err, access.ErrInvalidName) {
			t.Errorf("SetRoles(Admin) = %v, want ErrInvalidName", err)
		}
		if _, err := f.roles.SetRoles(ctx, identity.Actor{UserID: root}, uuid.NewString(), []string{"user"}); !errors.Is(err, identity.ErrNotFound) {
			t.Errorf("SetRoles(unknown user) = %v, want ErrNotFound", err)
		}
		if got := f.rolesOf(t, bob); !cmp.Equal(got, []string{"manager", "support"}) {
			t.Errorf("roles after refused changes = %v, want them unchanged", got)
		}
		entries, err := f.audit.List(ctx, audit.Filter{Action: audit.ActionRolesChanged})
		if err != nil {
			t.Fatal(err)
		}
		if len(entries) != 1 {
			t.Fatalf("roles.changed entries = %+v, want one", entries)
		}
		e := entries[0]
		got := []string{e.ActorType, e.ActorID, e.Subject, e.Details["old_roles"], e.Details["new_roles"]}
		want := []string{audit.ActorAdmin, root, bob, "user", "manager,support"}
		if diff := cmp.Diff(want, got); diff != "" {
			t.Errorf("audit entry mismatch (-want +got):\n%s", diff)
		}
	})
}

// TestSetRolesLastAdmin: the last active user holding users:admin can
// neither demote themselves nor be demoted; with a second admin, through
// a custom role too, they can. Nothing is written when refused.
func TestSetRolesLastAdmin(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, db *gorm.DB) {
		ctx := t.Context()
		f := newRolesFixture(t, db)
		root := f.mustUser(t, "root", "admin", "manager")
		_, err := f.roles.SetRoles(ctx, identity.Actor{UserID: root}, root, []string{"manager"})
		var last *identity.LastAdminError
		if !errors.As(err, &last) || last.UserID != root {
			t.Fatalf("demoting the last admin = %v, want *LastAdminError for root", err)
		}
		if _, err := f.roles.SetRoles(ctx, identity.OperatorActor, root, nil); !errors.As(err, &last) {
			t.Errorf("operator demoting the last admin = %v, want *LastAdminError", err)
		}
		if got := f.rolesOf(t, root); !cmp.Equal(got, []string{"admin", "manager"}) {
			t.Errorf("roles after refusal = %v, want unchanged", got)
		}
		if entries, err := f.audit.List(ctx, audit.Filter{Action: audit.ActionRolesChanged}); err != nil || len(entries) != 0 {
			t.Errorf("audit after refusal = %+v, %v; want nothing", entries, err)
		}

		if _, err := f.roles.CreateRole(ctx, identity.OperatorActor, access.Role{Name: "ops",
			Permissions: []access.Permission{access.UsersAdmin}}); err != nil {
			t.Fatal(err)
		}
		ops := f.mustUser(t, "ops", "ops")
		if _, err := f.roles.SetRoles(ctx, identity.Actor{UserID: root}, root, []string{"manager"}); err != nil {
			t.Fatalf("demoting root with another admin left = %v", err)
		}
		if _, err := f.roles.SetRoles(ctx, identity.Actor{UserID: ops}, ops, []string{"user"}); !errors.As(err, &last) {
			t.Errorf("demoting the last admin (custom role) = %v, want *LastAdminError", err)
		}
		if _, err := f.roles.SetRoles(ctx, identity.Actor{UserID: ops}, ops, []string{"ops", "manager"}); err != nil {
			t.Errorf("a change that keeps users:admin = %v, want nil", err)
		}
	})
}

// TestRoleLifecycle: built-in roles cannot be created again or deleted, a
// custom role in use is not deleted (RoleInUseError), one nobody holds is,
// and both changes are audited.
func TestRoleLifecycle(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, db *gorm.DB) {
		ctx := t.Context()
		f := newRolesFixture(t, db)
		op := identity.OperatorActor
		for _, name := range []string{"user", "manager", "admin"} {
			if _, err := f.roles.CreateRole(ctx, op, access.Role{Name: name}); !errors.Is(err, access.ErrBuiltIn) {
				t.Errorf("CreateRole(%s) = %v, want ErrBuiltIn", name, err)
			}
			if err := f.roles.DeleteRole(ctx, op, name); !errors.Is(err, access.ErrBuiltIn) {
				t.Errorf("DeleteRole(%s) = %v, want ErrBuiltIn", name, err)
			}
		}
		if _, err := f.roles.CreateRole(ctx, op, access.Role{Name: "support", Description: "Help desk",
			Permissions: []access.Permission{access.AuditRead, access.UsersRead}}); err != nil {
			t.Fatal(err)
		}
		if _, err := f.roles.CreateRole(ctx, op, access.Role{Name: "support"}); !errors.Is(err, identity.ErrRoleExists) {
			t.Errorf("CreateRole(support) again = %v, want ErrRoleExists", err)
		}
		list, err := f.roles.ListRoles(ctx)
		if err != nil {
			t.Fatal(err)
		}
		var names []string
		for _, r := range list {
			names = append(names, r.Name)
		}
		if diff := cmp.Diff([]string{"user", "manager", "admin", "support"}, names); diff != "" {
			t.Errorf("ListRoles names mismatch (-want +got):\n%s", diff)
		}
		if got := list[3].Permissions; !cmp.Equal(got, []access.Permission{access.UsersRead, access.AuditRead}) {
			t.Errorf("support's permissions = %v", got)
		}
		bob := f.mustUser(t, "bob", "support")
		var inUse *identity.RoleInUseError
		if err := f.roles.DeleteRole(ctx, op, "support"); !errors.As(err, &inUse) || inUse.Holders != 1 {
			t.Errorf("DeleteRole(support) in use = %v, want *RoleInUseError with 1 holder", err)
		}
		if _, err := f.roles.SetRoles(ctx, op, bob, nil); err != nil {
			t.Fatal(err)
		}
		if err := f.roles.DeleteRole(ctx, op, "support"); err != nil {
			t.Fatalf("DeleteRole(support) unused = %v", err)
		}
		if err := f.roles.DeleteRole(ctx, op, "support"); !errors.Is(err, identity.ErrNotFound) {
			t.Errorf("DeleteRole(support) again = %v, want ErrNotFound", err)
		}
		for action, want := range map[string]string{audit.ActionRoleCreated: "users:read,audit:read", audit.ActionRoleDeleted: ""} {
			entries, err := f.audit.List(ctx, audit.Filter{Action: action})
			if err != nil || len(entries) != 1 || entries[0].Subject != "support" || entries[0].ActorID != "cli" ||
				entries[0].Details["permissions"] != want {
				t.Errorf("%s entries = %+v, %v; want one for support by cli", action, entries, err)
			}
		}
	})
}

var _ identity.AuditRecorder = (*audit.Log)(nil)

// failingAudit refuses every entry, as a full disk would.
type failingAudit struct{}

func (failingAudit) Record(context.Context, audit.Entry) error { return errors.New("audit store down") }

// TestSetRolesNotWithoutAudit: the change and its audit entry are one
// transaction, so a change whose entry cannot be written is not made.
func TestSetRolesNotWithoutAudit(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, db *gorm.DB) {
		ctx := t.Context()
		f := newRolesFixture(t, db)
		bob := f.mustUser(t, "bob", "user")
		f.roles.Audit = failingAudit{}
		if _, err := f.roles.SetRoles(ctx, identity.OperatorActor, bob, []string{"admin"}); err == nil {
			t.Fatal("SetRoles succeeded without its audit entry")
		}
		if got := f.rolesOf(t, bob); !cmp.Equal(got, []string{"user"}) {
			t.Errorf("roles after the failed audit = %v, want [user] unchanged", got)
		}
		if _, err := f.roles.CreateRole(ctx, identity.OperatorActor, access.Role{Name: "ops"}); err == nil {
			t.Error("CreateRole succeeded without its audit entry")
		}
		if list, err := f.roles.ListRoles(ctx); err != nil || len(list) != len(access.BuiltIns()) {
			t.Errorf("roles after the failed audit = %+v, %v; want the built-in ones only", list, err)
		}
	})
}

// meetingHolders makes the callers of LockActiveRoleHolders meet before
// any of them reads the holders, so that two transactions overlap there.
type meetingHolders struct {
	identity.RoleHolderStore
	meet *sync.WaitGroup
}

func (m meetingHolders) LockActiveRoleHolders(ctx context.Context, roles []string) ([]string, error) {
	m.meet.Done()
	m.meet.Wait()
	return m.RoleHolderStore.LockActiveRoleHolders(ctx, roles)
}

// TestSetRolesConcurrentDemotions: two admins demote each other at once;
// whichever order the database runs them in, one admin is left. On
// PostgreSQL both transactions are made to reach the count of admins
// together (on SQLite, one writer at a time, they cannot both be there).
func TestSetRolesConcurrentDemotions(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, db *gorm.DB) {
		ctx := t.Context()
		f := newRolesFixture(t, db)
		ann, ben := f.mustUser(t, "ann", "admin"), f.mustUser(t, "ben", "admin")
		if migrations.IsPostgres(db) {
			meet := &sync.WaitGroup{}
			meet.Add(2)
			f.roles.Users = meetingHolders{f.users, meet}
		}
		errs := make(chan error, 2)
		for _, pair := range [][2]string{{ann, ben}, {ben, ann}} {
			go func() {
				_, err := f.roles.SetRoles(ctx, identity.Actor{UserID: pair[0]}, pair[1], []string{"user"})
				errs <- err
			}()
		}
		<-errs
		<-errs
		admins := 0
		for _, id := range []string{ann, ben} {
			if cmp.Equal(f.rolesOf(t, id), []string{"admin"}) {
				admins++
			}
		}
		if admins == 0 {
			t.Error("both admins were demoted at once; nobody holds users:admin")
		}
	})
}
