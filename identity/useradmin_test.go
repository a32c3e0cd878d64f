package identity_test

import (
	"context"
	"errors"
	"sync"
	"testing"
	"time"

	"github.com/google/uuid"
	"gorm.io/gorm"

	"gatehouse/identity"
	"gatehouse/identity/access"
	"gatehouse/identity/audit"
	auditsql "gatehouse/identity/audit/sqlstore"
	"gatehouse/identity/sqlstore"
	"gatehouse/migrations/dbtest"
	"gatehouse/migrations/dbtx"
)

// adminFixture is UserAdmin over real stores, with the parts that sign
// in and follow links, and fakes for the mail queue and the sessions.
type adminFixture struct {
	admin    *identity.UserAdmin
	recovery *identity.Recovery
	auth     *identity.Authenticator
	users    *sqlstore.UserStore
	audit    *audit.Log
	notifier *fakeNotifier
	sessions *fakeRevoker
	erased   *erasedUsers
	clock    *clock
	db       *gorm.DB
}

type erasedUsers struct {
	mu  sync.Mutex
	ids []string
}

func (e *erasedUsers) EraseUser(_ context.Context, id string) error {
	e.mu.Lock()
	defer e.mu.Unlock()
	e.ids = append(e.ids, id)
	return nil
}

func newAdminFixture(t *testing.T, db *gorm.DB) *adminFixture {
	t.Helper()
	f := &adminFixture{users: sqlstore.NewUserStore(db), audit: audit.New(auditsql.New(db)),
		notifier: &fakeNotifier{}, sessions: &fakeRevoker{}, erased: &erasedUsers{}, clock: &clock{now: testNow}, db: db}
	core := &identity.Core{
		Hasher: identity.NewHasher(fastParams, nil), Now: f.clock.Now, Tx: dbtx.New(db),
		Tokens: sqlstore.NewTokenStore(db), TokenKey: []byte("test token key, 32 bytes or more"),
		Notifier: f.notifier, BaseURL: testBaseURL, Sleep: func(context.Context, time.Duration) {},
	}
	f.recovery = &identity.Recovery{Core: core, Users: f.users, Sessions: f.sessions}
	f.auth = &identity.Authenticator{Core: core, Users: f.users}
	f.admin = &identity.UserAdmin{Core: core, Users: f.users, Roles: sqlstore.NewRoleStore(db), Recovery: f.recovery,
		Sessions: f.sessions, Erase: f.erased, Audit: f.audit, DefaultRegion: "GB"}
	return f
}

// mustUser creates an active user with a password (the username
// doubled) and roles.
func (f *adminFixture) mustUser(t *testing.T, name string, roles ...string) *identity.User {
	t.Helper()
	u, err := f.admin.Create(t.Context(), identity.OperatorActor, identity.AdminCreateInput{
		Username: name, Email: name + "@example.com", Password: name + "-" + name + "-pw", Roles: roles})
	if err != nil {
		t.Fatalf("Create(%s): %v", name, err)
	}
	return u
}

func (f *adminFixture) get(t *testing.T, id string) *identity.User {
	t.Helper()
	u, err := f.users.GetUser(t.Context(), id)
	if err != nil {
		t.Fatalf("GetUser: %v", err)
	}
	return u
}

// actions lists the audit actions about the user, oldest first.
func (f *adminFixture) actions(t *testing.T, id string) []string {
	t.Helper()
	entries, err := f.audit.List(t.Context(), audit.Filter{UserID: id})
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	for i := len(entries) - 1; i >= 0; i-- {
		out = append(out, entries[i].Action)
	}
	return out
}

func perms(ps ...access.Permission) access.Set {
	s := access.Set{}
	for _, p := range ps {
		s[p] = true
	}
	return s
}

// TestUserAdminForbidden is written from the side of a caller without
// the permission a change needs: every method refuses with ErrForbidden,
// for a user who exists and one who does not alike, and nothing changes:
// no status, no session ended, no mail, no audit entry.
func TestUserAdminForbidden(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, db *gorm.DB) {
		ctx := t.Context()
		f := newAdminFixture(t, db)
		victim := f.mustUser(t, "victim")
		before := f.get(t, victim.ID)
		reader := identity.Actor{UserID: uuid.NewString(), Permissions: perms(access.UsersRead)}
		writer := identity.Actor{ClientID: "console", Permissions: perms(access.UsersRead, access.UsersWrite)}
		noPerms := identity.Actor{UserID: victim.ID}
		name := "new"
		for actorName, actor := range map[string]identity.Actor{"users:read": reader, "no permissions": noPerms, "nobody": {}} {
			for _, id := range []string{victim.ID, uuid.NewString()} {
				for call, err := range map[string]error{
					"Update":            second(f.admin.Update(ctx, actor, id, identity.UserPatch{Username: &name}, "")),
					"Deactivate":        second(f.admin.Deactivate(ctx, actor, id)),
					"Reactivate":        second(f.admin.Reactivate(ctx, actor, id)),
					"Delete":            f.admin.Delete(ctx, actor, id),
					"SendPasswordReset": f.admin.SendPasswordReset(ctx, actor, id),
					"Unlock":            second(f.admin.Unlock(ctx, actor, id)),
					"EndSessions":       f.admin.EndSessions(ctx, actor, id),
				} {
					if !errors.Is(err, identity.ErrForbidden) {
						t.Errorf("%s as %s = %v, want ErrForbidden", call, actorName, err)
					}
				}
			}
			if _, err := f.admin.Create(ctx, actor, identity.AdminCreateInput{Username: "sneaky", Password: "a long password 1"}); !errors.Is(err, identity.ErrForbidden) {
				t.Errorf("Create as %s = %v, want ErrForbidden", actorName, err)
			}
		}
		// users:write is not enough to delete, nor to create an admin.
		if err := f.admin.Delete(ctx, writer, victim.ID); !errors.Is(err, identity.ErrForbidden) {
			t.Errorf("Delete with users:write = %v, want ErrForbidden", err)
		}
		if _, err := f.admin.Create(ctx, writer, identity.AdminCreateInput{Username: "boss", Password: "a long password 1",
			Roles: []string{"user", "admin"}}); !errors.Is(err, identity.ErrForbidden) {
			t.Errorf("Create(admin) with users:write = %v, want ErrForbidden", err)
		}
		if _, _, err := f.users.FindUserByLogin(ctx, "boss"); !errors.Is(err, identity.ErrNotFound) {
			t.Errorf("the admin refused exists: %v", err)
		}
		if _, _, err := f.users.FindUserByLogin(ctx, "sneaky"); !errors.Is(err, identity.ErrNotFound) {
			t.Errorf("the user refused exists: %v", err)
		}
		if got := f.get(t, victim.ID); got.Status != identity.StatusActive || ETagOf(got) != ETagOf(before) {
			t.Errorf("victim after refusals = %+v, want unchanged %+v", got, before)
		}
		if calls := f.sessions.Calls(); len(calls) != 0 {
			t.Errorf("sessions revoked = %v, want none", calls)
		}
		if got := f.actions(t, victim.ID); len(got) != 1 {
			t.Errorf("audit of victim = %v, want only users.created", got)
		}
		if m := f.notifier.Mails(); len(m) != 0 {
			t.Errorf("mails = %+v, want none", m)
		}
		// With users:write a plain user can be created and edited.
		u, err := f.admin.Create(ctx, writer, identity.AdminCreateInput{Username: "plain", Password: "a long password 1", Roles: []string{"user"}})
		if err != nil {
			t.Fatalf("Create(user) with users:write: %v", err)
		}
		entries, _ := f.audit.List(ctx, audit.Filter{UserID: u.ID})
		if len(entries) != 1 || entries[0].ActorType != audit.ActorClient || entries[0].ActorID != "console" || entries[0].Action != audit.ActionUsersCreated {
			t.Errorf("audit of creation = %+v, want users.created by client console", entries)
		}
	})
}

func second[T any](_ T, err error) error { return err }

// ETagOf is identity.ETag, named apart so a test reads what it compares.
func ETagOf(u *identity.User) string { return identity.ETag(u) }

// TestUserAdminCreate: the input is validated like a registration, every
// problem at once, with the claims' names; exactly one of a password and
// an invitation.
func TestUserAdminCreate(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, db *gorm.DB) {
		ctx := t.Context()
		f := newAdminFixture(t, db)
		f.mustUser(t, "taken")
		for _, tc := range []struct {
			name       string
			in         identity.AdminCreateInput
			wantFields []string
		}{
			{"neither password nor invite", identity.AdminCreateInput{Username: "ann"}, []string{"password"}},
			{"both", identity.AdminCreateInput{Username: "ann", Email: "ann@example.com", Password: "a long password 1", Invite: true}, []string{"password"}},
			{"invite without e-mail", identity.AdminCreateInput{Username: "ann", Invite: true}, []string{"email"}},
			{"bad fields", identity.AdminCreateInput{Username: "a", Email: "nope", Phone: "12", Password: "a long password 1",
				Website: "javascript:alert(1)", Birthdate: "1800-01-01", GivenName: string(make([]byte, 300))},
				[]string{"username", "email", "phone_number", "website", "birthdate", "given_name"}},
			{"taken", identity.AdminCreateInput{Username: "TAKEN", Email: "taken@example.com", Password: "a long password 1"}, []string{"username", "email"}},
			{"short password", identity.AdminCreateInput{Username: "ann", Password: "short"}, []string{"password"}},
		} {
			t.Run(tc.name, func(t *testing.T) {
				_, err := f.admin.Create(ctx, identity.OperatorActor, tc.in)
				var ve *identity.ValidationError
				if !errors.As(err, &ve) {
					t.Fatalf("Create = %v, want a ValidationError", err)
				}
				for _, k := range tc.wantFields {
					if ve.Fields[k] == "" {
						t.Errorf("no problem for %q in %v", k, ve.Fields)
					}
				}
				if len(ve.Fields) != len(tc.wantFields) {
					t.Errorf("fields = %v, want %v", ve.Fields, tc.wantFields)
				}
			})
		}
		if _, err := f.admin.Create(ctx, identity.OperatorActor, identity.AdminCreateInput{Username: "ann", Password: "a long password 1",
			Roles: []string{"nosuchrole"}}); !errors.Is(err, identity.ErrUnknownRole) {
			t.Errorf("Create with an unknown role = %v, want ErrUnknownRole", err)
		}
		u, err := f.admin.Create(ctx, identity.OperatorActor, identity.AdminCreateInput{Username: "ann", Email: "Ann@Example.COM",
			EmailVerified: true, Phone: "020 7946 0018", GivenName: " Ann ", Locale: "en_gb", Password: "a long password 1", Roles: []string{"admin"}})
		if err != nil {
			t.Fatal(err)
		}
		got := f.get(t, u.ID)
		if got.Email != "Ann@example.com" || !got.EmailVerified || got.Phone != "+442079460018" || got.PhoneVerified ||
			got.GivenName != "Ann" || got.Locale != "en-GB" || len(got.Roles) != 1 || got.Status != identity.StatusActive {
			t.Errorf("created user = %+v", got)
		}
		if _, ok, err := f.auth.Authenticate(ctx, "ann", "a long password 1"); !ok || err != nil {
			t.Errorf("sign-in with the password set = %v, %v", ok, err)
		}
		if got := f.actions(t, u.ID); len(got) != 1 || got[0] != audit.ActionUsersCreated {
			t.Errorf("audit = %v, want users.created", got)
		}
	})
}
